#include "common/command_line.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <set>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"

namespace recsys {
namespace {

// "feature_spec" -> "feature-spec", as help texts and messages spell flags.
std::string Dashed(absl::string_view name) {
  return absl::StrReplaceAll(name, {{"_", "-"}});
}

// "feature-spec" -> "feature_spec", as abseil names flags.
std::string Underscored(absl::string_view name) {
  return absl::StrReplaceAll(name, {{"-", "_"}});
}

bool IsHelpWord(absl::string_view arg) {
  return arg == "-h" || arg == "--help" || arg == "-help" ||
         arg == "--helpfull" || arg == "--helpshort";
}

std::vector<std::string> AcceptedFlags(const CommandSpec& command) {
  std::vector<std::string> names;
  for (const FlagGroup& group : command.flags) {
    names.insert(names.end(), group.flags.begin(), group.flags.end());
  }
  return names;
}

bool Contains(const std::vector<std::string>& names, absl::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

std::string FullName(const CommandSpec& command, absl::string_view program) {
  return program.empty() ? command.name
                         : absl::StrCat(program, " ", command.name);
}

// The word help shows after a flag's name for its value.
std::string TypeWord(const absl::CommandLineFlag& flag) {
  if (flag.IsOfType<bool>()) return "";
  if (flag.IsOfType<int32_t>() || flag.IsOfType<int64_t>() ||
      flag.IsOfType<uint32_t>() || flag.IsOfType<uint64_t>()) {
    return "INT";
  }
  if (flag.IsOfType<double>() || flag.IsOfType<float>()) return "NUMBER";
  if (flag.IsOfType<std::string>()) return "TEXT";
  if (flag.IsOfType<absl::Duration>()) return "DURATION";
  if (flag.IsOfType<std::vector<std::string>>()) return "LIST";
  return "VALUE";
}

// "(default 50051)", "(required)", "(default on; also --version)" or "".
std::string FlagNotes(const absl::CommandLineFlag& flag, bool required,
                      const std::vector<std::string>& aliases) {
  std::vector<std::string> notes;
  if (required) {
    notes.push_back("required");
  } else if (flag.IsOfType<bool>()) {
    notes.push_back(flag.DefaultValue() == "true" ? "default on"
                                                  : "default off");
  } else if (const std::string value = flag.DefaultValue(); !value.empty()) {
    notes.push_back(absl::StrContains(value, ' ')
                        ? absl::StrCat("default \"", value, "\"")
                        : absl::StrCat("default ", value));
  }
  if (flag.IsOfType<absl::Duration>()) notes.push_back("e.g. 10s, 500ms, 2m");
  if (flag.IsOfType<std::vector<std::string>>()) {
    notes.push_back("comma-separated");
  }
  for (const std::string& alias : aliases) {
    notes.push_back(absl::StrCat("also --", Dashed(alias)));
  }
  return notes.empty() ? ""
                       : absl::StrCat(" (", absl::StrJoin(notes, "; "), ")");
}

// The message for a flag `command` does not accept. `typed` is the
// argument as written up to '=', `name` its abseil spelling.
std::string UnknownFlagMessage(const CommandSpec& command,
                               const ProgramSpec* program,
                               absl::string_view typed,
                               const std::string& name) {
  if (program != nullptr) {
    std::vector<std::string> owners;
    for (const Subcommand& sub : program->subcommands) {
      if (Contains(AcceptedFlags(sub.command), name)) {
        owners.push_back(FullName(sub.command, program->name));
      }
    }
    if (!owners.empty()) {
      return absl::StrCat("--", Dashed(name), " is a flag of ",
                          absl::StrJoin(owners, ", "), ", not of ",
                          FullName(command, program->name));
    }
  }
  std::vector<std::string> candidates;
  for (const std::string& flag : AcceptedFlags(command)) {
    candidates.push_back(Dashed(flag));
  }
  for (const auto& [alias, target] : command.aliases) {
    candidates.push_back(Dashed(alias));
  }
  std::string message = absl::StrCat("unknown flag ", typed);
  if (std::optional<std::string> near = ClosestName(Dashed(name), candidates)) {
    absl::StrAppend(&message, "; did you mean --", *near, "?");
  }
  return message;
}

// "bad value "abc" for --customers: expected INT (...)".
std::string BadValueMessage(const absl::CommandLineFlag& flag,
                            absl::string_view shown, absl::string_view value,
                            absl::string_view error) {
  std::string message = absl::StrCat("bad value \"", value, "\" for ", shown);
  const std::string type = TypeWord(flag);
  if (!type.empty() && type != "VALUE" && type != "TEXT") {
    absl::StrAppend(&message, ": expected ", type);
  }
  // abseil's text is "Illegal value '...' specified for flag '...'", then
  // "; " and the type's own explanation when it has one.
  if (const size_t detail = error.find("; ");
      detail != absl::string_view::npos) {
    absl::StrAppend(&message, " (", error.substr(detail + 2), ")");
  } else if (type == "VALUE" || type == "TEXT") {
    absl::StrAppend(&message, ": ", error);
  }
  return message;
}

}  // namespace

bool AsksForHelp(const std::vector<std::string>& args) {
  for (const std::string& arg : args) {
    if (arg == "--") return false;
    if (IsHelpWord(arg)) return true;
  }
  return false;
}

absl::StatusOr<std::vector<std::string>> ParseFlags(
    const CommandSpec& command, const std::vector<std::string>& args,
    const ProgramSpec* program) {
  const std::vector<std::string> accepted = AcceptedFlags(command);
  std::vector<std::string> positional;
  std::set<std::string> given;
  for (size_t i = 0; i < args.size(); ++i) {
    const absl::string_view arg = args[i];
    if (arg == "--") {
      positional.insert(positional.end(), args.begin() + i + 1, args.end());
      break;
    }
    if (arg.size() < 2 || arg[0] != '-') {
      positional.emplace_back(arg);
      continue;
    }
    const absl::string_view body = arg.substr(arg[1] == '-' ? 2 : 1);
    const size_t eq = body.find('=');
    const bool has_value = eq != absl::string_view::npos;
    std::string value = has_value ? std::string(body.substr(eq + 1)) : "";
    const absl::string_view typed =
        has_value ? arg.substr(0, arg.find('=')) : arg;
    std::string name = Underscored(body.substr(0, eq));
    for (const auto& [alias, target] : command.aliases) {
      if (name == alias) name = target;
    }
    bool negated = false;
    if (!Contains(accepted, name) && absl::StartsWith(name, "no") &&
        Contains(accepted, name.substr(2))) {
      negated = true;
      name = name.substr(2);
    }
    absl::CommandLineFlag* flag =
        Contains(accepted, name) ? absl::FindCommandLineFlag(name) : nullptr;
    if (flag == nullptr) {
      return absl::InvalidArgumentError(
          UnknownFlagMessage(command, program, typed, name));
    }
    const std::string shown = absl::StrCat("--", Dashed(name));
    if (flag->IsOfType<bool>()) {
      if (negated && has_value) {
        return absl::InvalidArgumentError(
            absl::StrCat("--no", Dashed(name), " takes no value"));
      }
      if (!has_value) value = negated ? "false" : "true";
    } else if (negated) {
      return absl::InvalidArgumentError(absl::StrCat(
          typed, ": ", shown, " is not a yes/no flag; give it a value (",
          TypeWord(*flag), ")"));
    } else if (!has_value) {
      if (i + 1 >= args.size()) {
        return absl::InvalidArgumentError(
            absl::StrCat(shown, " needs a value (", TypeWord(*flag), ")"));
      }
      value = args[++i];
    }
    std::string error;
    if (!flag->ParseFrom(value, &error)) {
      return absl::InvalidArgumentError(
          BadValueMessage(*flag, shown, value, error));
    }
    given.insert(name);
  }
  if (static_cast<int>(positional.size()) < command.min_args) {
    return absl::InvalidArgumentError(
        absl::StrCat("missing ", command.args_name));
  }
  if (command.max_args >= 0 &&
      static_cast<int>(positional.size()) > command.max_args) {
    return absl::InvalidArgumentError(absl::StrCat(
        "unexpected argument \"", positional[command.max_args], "\""));
  }
  for (const std::string& name : command.required) {
    const absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    if (given.count(name) == 0 ||
        (flag->IsOfType<std::string>() && flag->CurrentValue().empty())) {
      return absl::InvalidArgumentError(
          absl::StrCat("--", Dashed(name), " is required"));
    }
  }
  return positional;
}

absl::Status CheckCommand(const CommandSpec& command) {
  const std::vector<std::string> accepted = AcceptedFlags(command);
  for (const std::string& name : accepted) {
    if (absl::FindCommandLineFlag(name) == nullptr) {
      return absl::InternalError(absl::StrCat(command.name,
                                              " lists the flag \"", name,
                                              "\", which is not defined"));
    }
  }
  for (const std::string& name : command.required) {
    if (!Contains(accepted, name)) {
      return absl::InternalError(absl::StrCat(
          command.name, " requires \"", name, "\", which it does not list"));
    }
  }
  for (const auto& [alias, target] : command.aliases) {
    if (!Contains(accepted, target)) {
      return absl::InternalError(absl::StrCat(
          command.name, " aliases \"", target, "\", which it does not list"));
    }
  }
  return absl::OkStatus();
}

std::string CommandHelp(const CommandSpec& command, absl::string_view program) {
  std::string out = WrapText(
      absl::StrCat(FullName(command, program), ": ", command.summary), 0);
  if (!command.usage.empty()) {
    absl::StrAppend(&out, "\nUsage:\n");
    for (const std::string& line : command.usage) {
      absl::StrAppend(&out, "  ", line, "\n");
    }
  }
  if (!command.description.empty()) {
    absl::StrAppend(&out, "\n", WrapText(command.description, 0));
  }
  bool has_bool = false;
  for (const FlagGroup& group : command.flags) {
    absl::StrAppend(&out, "\n", group.title, ":\n");
    for (const std::string& name : group.flags) {
      const absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
      if (flag == nullptr) continue;  // CheckCommand reports it
      has_bool = has_bool || flag->IsOfType<bool>();
      std::vector<std::string> aliases;
      for (const auto& [alias, target] : command.aliases) {
        if (target == name) aliases.push_back(alias);
      }
      const std::string type = TypeWord(*flag);
      absl::StrAppend(
          &out, "  --", Dashed(name), type.empty() ? "" : " ", type,
          FlagNotes(*flag, Contains(command.required, name), aliases), "\n",
          WrapText(flag->Help(), 6));
    }
  }
  if (!command.flags.empty()) {
    // The example of the spelling rule: a flag of this command with two
    // words when there is one.
    std::string example = "flag_name";
    for (const std::string& name : AcceptedFlags(command)) {
      if (absl::StrContains(name, '_')) {
        example = name;
        break;
      }
    }
    absl::StrAppend(
        &out, "\n",
        WrapText(
            absl::StrCat("Flags are written --name value or --name=value; "
                         "dashes and underscores are the same in names (--",
                         Dashed(example), " = --", example, ")",
                         has_bool ? "; a flag shown without a type is "
                                    "turned on by --name and off by "
                                    "--noname."
                                  : "."),
            0));
  }
  if (!command.exit_status.empty()) {
    absl::StrAppend(
        &out, "\n",
        WrapText(absl::StrCat("Exit status: ", command.exit_status), 0));
  }
  return out;
}

std::string ProgramHelp(const ProgramSpec& program) {
  std::string out =
      WrapText(absl::StrCat(program.name, ": ", program.summary), 0);
  absl::StrAppend(&out, "\nUsage:\n  ", program.name, " SUBCOMMAND [flags]\n  ",
                  program.name,
                  " SUBCOMMAND --help   (what it does and its flags)\n");
  if (!program.description.empty()) {
    absl::StrAppend(&out, "\n", WrapText(program.description, 0));
  }
  absl::StrAppend(&out, "\nSubcommands:\n");
  for (const Subcommand& sub : program.subcommands) {
    absl::StrAppend(&out, "  ",
                    sub.command.usage.empty()
                        ? FullName(sub.command, program.name)
                        : sub.command.usage[0],
                    "\n", WrapText(sub.command.summary, 6));
  }
  if (!program.exit_status.empty()) {
    absl::StrAppend(
        &out, "\n",
        WrapText(absl::StrCat("Exit status: ", program.exit_status), 0));
  }
  return out;
}

std::string WrapText(absl::string_view text, int indent, int width) {
  const std::string pad(std::max(indent, 0), ' ');
  std::string out;
  std::string line;  // the words of the line being filled
  bool blank_pending = false;
  auto flush = [&] {
    if (line.empty()) return;
    absl::StrAppend(&out, pad, line, "\n");
    line.clear();
  };
  for (absl::string_view raw : absl::StrSplit(text, '\n')) {
    if (absl::StripAsciiWhitespace(raw).empty()) {
      flush();
      blank_pending = !out.empty();
      continue;
    }
    if (blank_pending) {
      out.push_back('\n');
      blank_pending = false;
    }
    if (raw[0] == ' ') {
      flush();
      absl::StrAppend(&out, pad, absl::StripTrailingAsciiWhitespace(raw), "\n");
      continue;
    }
    for (absl::string_view word : absl::StrSplit(raw, ' ', absl::SkipEmpty())) {
      if (!line.empty() && static_cast<int>(pad.size() + line.size() + 1 +
                                            word.size()) > width) {
        flush();
      }
      if (!line.empty()) line.push_back(' ');
      line.append(word.data(), word.size());
    }
  }
  flush();
  return out;
}

int EditDistance(absl::string_view a, absl::string_view b) {
  const size_t n = a.size(), m = b.size();
  std::vector<std::vector<int>> d(n + 1, std::vector<int>(m + 1));
  for (size_t i = 0; i <= n; ++i) d[i][0] = static_cast<int>(i);
  for (size_t j = 0; j <= m; ++j) d[0][j] = static_cast<int>(j);
  for (size_t i = 1; i <= n; ++i) {
    for (size_t j = 1; j <= m; ++j) {
      const int cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] =
          std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[n][m];
}

std::optional<std::string> ClosestName(
    absl::string_view typed, const std::vector<std::string>& candidates) {
  const int allowed = typed.size() <= 4 ? 1 : typed.size() <= 8 ? 2 : 3;
  std::optional<std::string> best;
  int best_distance = allowed + 1;
  for (const std::string& candidate : candidates) {
    const int distance = EditDistance(typed, candidate);
    if (distance < best_distance) {
      best = candidate;
      best_distance = distance;
    }
  }
  if (best.has_value() || typed.size() < 3) return best;
  for (const std::string& candidate : candidates) {
    if (!absl::StartsWith(candidate, typed)) continue;
    if (best.has_value()) return std::nullopt;  // more than one
    best = candidate;
  }
  return best;
}

int UsageError(absl::string_view command, absl::string_view message) {
  std::fprintf(
      stderr, "%s\n",
      absl::StrCat(command, ": ", message, " (see ", command, " --help)")
          .c_str());
  return kExitUsage;
}

namespace {

// Prints a mistake in the program's own CommandSpec; kExitFailed.
int SpecError(const absl::Status& status) {
  std::fprintf(stderr, "internal error: %s\n",
               std::string(status.message()).c_str());
  return kExitFailed;
}

}  // namespace

ParsedCommand ParseCommand(const CommandSpec& command, int argc, char** argv) {
  ParsedCommand parsed;
  if (absl::Status spec = CheckCommand(command); !spec.ok()) {
    parsed.exit_code = SpecError(spec);
    return parsed;
  }
  const std::vector<std::string> args(argv + std::min(argc, 1), argv + argc);
  if (AsksForHelp(args)) {
    std::fputs(CommandHelp(command).c_str(), stdout);
    parsed.exit_code = kExitOk;
    return parsed;
  }
  absl::StatusOr<std::vector<std::string>> positional =
      ParseFlags(command, args);
  if (!positional.ok()) {
    parsed.exit_code = UsageError(command.name, positional.status().message());
    return parsed;
  }
  parsed.args = *std::move(positional);
  return parsed;
}

int RunProgram(const ProgramSpec& program, int argc, char** argv) {
  std::vector<std::string> names;
  for (const Subcommand& sub : program.subcommands) {
    if (absl::Status spec = CheckCommand(sub.command); !spec.ok()) {
      return SpecError(spec);
    }
    names.push_back(sub.command.name);
  }
  std::vector<std::string> args(argv + std::min(argc, 1), argv + argc);
  if (args.empty()) {
    return UsageError(program.name, absl::StrCat("missing subcommand: one of ",
                                                 absl::StrJoin(names, ", ")));
  }
  std::string word = args[0];
  args.erase(args.begin());
  if (word == "help" || IsHelpWord(word)) {
    if (args.empty() || IsHelpWord(args[0])) {
      std::fputs(ProgramHelp(program).c_str(), stdout);
      return kExitOk;
    }
    word = args[0];
    args = {"--help"};
  }
  const Subcommand* chosen = nullptr;
  for (const Subcommand& sub : program.subcommands) {
    if (sub.command.name == word) chosen = &sub;
  }
  if (chosen == nullptr) {
    if (absl::StartsWith(word, "-")) {
      return UsageError(
          program.name,
          absl::StrCat(
              "the subcommand comes first, then its flags: ", program.name,
              " SUBCOMMAND ", word, " ... (SUBCOMMAND: one of ",
              absl::StrJoin(names, ", "), ")"));
    }
    std::string message = absl::StrCat("unknown subcommand \"", word, "\"");
    if (std::optional<std::string> near = ClosestName(word, names)) {
      absl::StrAppend(&message, "; did you mean ", *near, "?");
    } else {
      absl::StrAppend(&message, " (one of ", absl::StrJoin(names, ", "), ")");
    }
    return UsageError(program.name, message);
  }
  const std::string full = FullName(chosen->command, program.name);
  if (AsksForHelp(args)) {
    std::fputs(CommandHelp(chosen->command, program.name).c_str(), stdout);
    return kExitOk;
  }
  absl::StatusOr<std::vector<std::string>> positional =
      ParseFlags(chosen->command, args, &program);
  if (!positional.ok()) return UsageError(full, positional.status().message());
  return chosen->run(*positional);
}

}  // namespace recsys
