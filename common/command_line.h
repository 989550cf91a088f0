// clang-format off
// The command line of every recsys program (recsys-server, recsys,
// recsys-data, recsys-train, recsys-rebundle, recsys-floor, recsys-hostile).
//
// Flags stay ordinary abseil flags: defined with ABSL_FLAG in any file, read
// with absl::GetFlag. A program describes its command once, as data (a
// CommandSpec: usage lines, description, the flags it takes in titled
// groups, required flags, positional arguments, exit statuses), and this
// library does the rest the same way for every program and subcommand:
//   - parses the arguments: "--name value", "--name=value", "--name" and
//     "--noname" for yes/no flags, one or two leading dashes, and dashes and
//     underscores alike in names ("--feature-spec" = "--feature_spec");
//     "--" ends the flags. A command accepts only the flags it lists.
//   - answers -h, --help (also -help, --helpfull, --helpshort; `PROG help
//     [SUBCOMMAND]`) with the help text on stdout, exit status 0;
//   - reports a usage error on stderr naming the argument, with "did you mean
//     --store?" for a mistyped flag or subcommand (edit distance), and
//     "--seed is a flag of `recsys-data generate`" for a flag of another
//     subcommand; exit status 2;
//   - writes every help text in one layout: "NAME: summary", Usage, the
//     description, each flag group with every flag's type, default and help
//     text, the flag syntax, Exit status; wrapped by one word-wrapper
//     (WrapText) to kHelpWidth columns.
//
// Exit statuses, for every program (a program's help may add reasons):
//   0 success; 1 the work failed; 2 usage error (unknown flag, bad value,
//   missing or unexpected argument, unknown subcommand).
//
// A program without subcommands:
//
//   ABSL_FLAG(std::string, bundle, "", "Bundle directory to take the model from.");
//   ABSL_FLAG(std::string, store, "", "Model store to publish the new bundle in.");
//
//   const recsys::CommandSpec& Command() {
//     static const auto* const kCommand = new recsys::CommandSpec{
//         .name = "recsys-rebundle",
//         .summary = "republishes a model bundle with another history.",
//         .usage = {"recsys-rebundle --bundle DIR --store STORE"},
//         .description = "Paragraphs; a blank line between two. Lines that "
//                        "start with a space are kept as they are.",
//         .flags = {{"Flags", {"bundle", "store"}}},
//         .required = {"bundle", "store"},
//         .exit_status = "0 published; 1 it failed; 2 usage error."};
//     return *kCommand;
//   }
//   int main(int argc, char** argv) {
//     recsys::ParsedCommand command = recsys::ParseCommand(Command(), argc, argv);
//     if (command.exit_code) return *command.exit_code;  // help or usage error
//     ... absl::GetFlag(FLAGS_store) ...
//     if (bad) return recsys::UsageError(Command().name, "--store is a file");
//   }
//
// A program with subcommands lists them in a ProgramSpec; each is a
// CommandSpec whose name is the subcommand word, and a function that runs
// it with the positional arguments once its flags are set:
//
//   return recsys::RunProgram(
//       {.name = "recsys-data", .summary = "...", .description = "...",
//        .subcommands = {{GenerateCommand(), Generate},
//                        {InspectCommand(), Inspect}},
//        .exit_status = "..."},
//       argc, argv);
//
// Adding a flag: define it (ABSL_FLAG) and add its name to a group of the
// CommandSpec of every command that takes it. Adding a subcommand: one more
// {CommandSpec, function} in the ProgramSpec.
//
// clang-format on
//
// Why the arguments are split here and not by absl::ParseCommandLine: in
// Debian's abseil (20220623) ParseCommandLine is the only public parser, and
// it exits with status 1 on an unknown flag or a bad value (usage errors are
// 2 here), answers --help itself listing only the flags defined in a file
// named like the program (so `recsys-train --help` listed none), accepts
// every flag linked into the binary (no subcommands) and no dashes in names.
// ParseAbseilFlagsOnly and ReportUnrecognizedFlags, which would cover the
// first point, come with abseil 20230802. So this file splits argv itself
// (about 80 lines) and uses abseil for everything else: the flag registry
// (absl::FindCommandLineFlag), type-checked value parsing and validation
// (CommandLineFlag::ParseFrom), defaults and help texts. Programs do not link
// absl::flags_parse or absl::flags_usage, so abseil's own --flagfile,
// --fromenv and --helpfull machinery is not in them.
//
// Thread safety: ParseCommand, RunProgram and ParseFlags set abseil flags;
// call them from main() before any thread reads flags. The rest is pure.
#ifndef RECSYS_COMMON_COMMAND_LINE_H_
#define RECSYS_COMMON_COMMAND_LINE_H_

#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace recsys {

// Exit statuses of every program.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;

// Width help texts are wrapped to.
inline constexpr int kHelpWidth = 80;

// Every member of the structs below has an initializer, so that designated
// initializers may leave any of them out (GCC 12 warns otherwise).

// Flags shown together in --help under `title`.
struct FlagGroup {
  std::string title = "";  // heading, e.g. "Connection flags"
  // abseil names (with underscores), in the order --help lists them.
  std::vector<std::string> flags = {};
};

// What one command (a program, or one subcommand of it) is and takes.
struct CommandSpec {
  // The program's name ("recsys-train"), or under RunProgram the subcommand
  // word ("score"; its full name is then "recsys score").
  std::string name = "";
  // One sentence, starting in lower case: "NAME: summary" heads the help,
  // and a program's help lists its subcommands with it.
  std::string summary = "";
  // Usage lines, each starting with the full command name.
  std::vector<std::string> usage = {};
  // What the command does, for someone who never saw the project:
  // paragraphs separated by blank lines, wrapped by WrapText (lines that
  // start with a space are kept as they are). Default: none.
  std::string description = "";
  // The flags the command accepts, grouped. Default: none.
  std::vector<FlagGroup> flags = {};
  // Flags (abseil names) that must be given; a text flag also non-empty.
  std::vector<std::string> required = {};
  // Other spellings: {"version", "model_version"} reads --version as
  // --model-version. Default: none.
  std::vector<std::pair<std::string, std::string>> aliases = {};
  // How many positional arguments the command takes; max_args -1 = any
  // number. Default: none.
  int min_args = 0;
  int max_args = 0;
  // What they are, for help and errors ("FILE" -> "missing FILE").
  std::string args_name = "";
  // The sentence after "Exit status: " (see kExitOk...).
  std::string exit_status = "";
};

// A subcommand: its command (name = the word) and what runs it, with the
// positional arguments, once its flags are set. Returns the exit status.
struct Subcommand {
  CommandSpec command = {};
  std::function<int(const std::vector<std::string>& args)> run = nullptr;
};

// A program made of subcommands (`recsys score ...`).
struct ProgramSpec {
  std::string name = "";                     // "recsys"
  std::string summary = "";                  // as CommandSpec::summary
  std::string description = "";              // as CommandSpec::description
  std::vector<Subcommand> subcommands = {};  // in the order --help lists them
  std::string exit_status = "";              // as CommandSpec::exit_status
};

// The outcome of ParseCommand.
struct ParsedCommand {
  // Set when main() must return now: kExitOk after printing the help,
  // kExitUsage after printing a usage error, kExitFailed when the
  // CommandSpec itself is wrong (a flag it names is not defined).
  std::optional<int> exit_code;
  std::vector<std::string> args;  // the positional arguments
};

// Parses argv (argv[0] = the program) for a program without subcommands:
// sets the flags, prints help or a usage error as described above.
ParsedCommand ParseCommand(const CommandSpec& command, int argc, char** argv);

// Runs the subcommand named by argv[1] with its flags set; handles help
// ("PROG --help", "PROG help SUB", "PROG SUB --help"), usage errors and an
// unknown or missing subcommand. Returns the exit status for main().
int RunProgram(const ProgramSpec& program, int argc, char** argv);

// Prints "COMMAND: MESSAGE (see COMMAND --help)" on stderr and returns
// kExitUsage: for a usage error a program finds after parsing.
int UsageError(absl::string_view command, absl::string_view message);

// --- The parts, pure apart from setting flags (tested directly) ---

// True when an argument before a "--" asks for help: -h, --help, -help,
// --helpfull or --helpshort.
bool AsksForHelp(const std::vector<std::string>& args);

// Sets the flags named in `args` (the arguments after the command name) and
// checks required flags and the number of positional arguments. Returns the
// positional arguments, or INVALID_ARGUMENT naming the argument: an unknown
// flag (with the nearest accepted name, or the subcommands of `program` that
// accept it), a value its flag's type rejects, a missing value, a missing
// required flag, a missing or unexpected positional argument.
// `program` (may be null) is the program `command` is a subcommand of.
absl::StatusOr<std::vector<std::string>> ParseFlags(
    const CommandSpec& command, const std::vector<std::string>& args,
    const ProgramSpec* program = nullptr);

// OK when every flag `command` names (groups, required, alias targets) is
// defined and required flags and aliases name flags of its groups; else
// INTERNAL naming the flag (a mistake in the program, not the user's).
absl::Status CheckCommand(const CommandSpec& command);

// The help text of `command`; `program` is the name of the program it is a
// subcommand of ("" for none).
std::string CommandHelp(const CommandSpec& command,
                        absl::string_view program = "");

// The help text of a program with subcommands: each subcommand's first
// usage line and summary.
std::string ProgramHelp(const ProgramSpec& program);

// `text` wrapped to `width` columns, every line indented by `indent` spaces
// and ended by '\n'. Paragraphs (separated by blank lines) are kept; within
// one, lines are joined and re-wrapped, except lines that start with a space,
// which are kept as they are (after the indent). A word longer than a line
// stands alone on its line.
std::string WrapText(absl::string_view text, int indent,
                     int width = kHelpWidth);

// The edit distance between `a` and `b`: insertions, deletions,
// substitutions and swaps of two neighbours (optimal string alignment).
int EditDistance(absl::string_view a, absl::string_view b);

// The candidate a user most likely meant by `typed`: the nearest by
// EditDistance when it is close for the length (1 edit up to 4 letters, 2 up
// to 8, else 3), otherwise the one candidate `typed` is a prefix of (3
// letters or more). nullopt when none is.
std::optional<std::string> ClosestName(
    absl::string_view typed, const std::vector<std::string>& candidates);

}  // namespace recsys

#endif  // RECSYS_COMMON_COMMAND_LINE_H_
