// Every program's command line, run as a user runs it: `--help` exits 0 and
// prints the common layout listing the program's flags on stdout; a mistyped
// flag exits 2 and names it and the flag meant on stderr; so does a mistyped
// subcommand. The programs' paths come from CMake ($<TARGET_FILE:...>).
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/command_line.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace recsys {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;

struct Outcome {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Runs `binary` with `args` (shell words), stdout and stderr kept apart.
Outcome Start(const std::string& binary, const std::string& args) {
  const std::string dir =
      absl::StrCat(::testing::TempDir(), "/command_line_programs_", ::getpid());
  std::filesystem::create_directories(dir);
  const std::string command = absl::StrCat("'", binary, "' ", args, " >", dir,
                                           "/out 2>", dir, "/err </dev/null");
  const int status = std::system(command.c_str());
  Outcome run;
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  run.out = ReadFile(dir + "/out");
  run.err = ReadFile(dir + "/err");
  std::filesystem::remove_all(dir);
  return run;
}

// One program (or subcommand) to check.
struct Program {
  const char* binary;
  const char* command;             // "recsys-data generate": the help's head
  const char* subcommand;          // "generate", or "" for none
  std::vector<const char*> flags;  // some flags its help must list
  const char* typo;                // a mistyped flag (with a value)
  const char* meant;               // the flag the message must suggest
};

std::vector<Program> Programs() {
  return {
      {RECSYS_SERVER_BIN,
       "recsys-server",
       "",
       {"--store", "--port", "--metrics-port", "--admin-token-file",
        "--max-concurrent-streams", "--predictor"},
       "--stor=models",
       "--store"},
      {RECSYS_TRAIN_BIN,
       "recsys-train",
       "",
       {"--data", "--store", "--config", "--feature-spec", "--cv-folds",
        "--dry-run"},
       "--feature-specs=x.json",
       "--feature-spec"},
      {RECSYS_REBUNDLE_BIN,
       "recsys-rebundle",
       "",
       {"--bundle", "--train", "--store"},
       "--bundel=b",
       "--bundle"},
      {RECSYS_FLOOR_BIN,
       "recsys-floor",
       "",
       {"--bundle", "--input", "--threads", "--batch-rows", "--dump"},
       "--thread=2",
       "--threads"},
      {RECSYS_HOSTILE_BIN,
       "recsys-hostile",
       "",
       {"--address", "--pid", "--attack", "--pairs"},
       "--atack=flood",
       "--attack"},
      {RECSYS_DATA_BIN,
       "recsys-data generate",
       "generate",
       {"--customers", "--seed", "--out", "--drift"},
       "--customer=5",
       "--customers"},
      {RECSYS_DATA_BIN,
       "recsys-data inspect",
       "inspect",
       {},
       "--verbose=1",
       ""},
      {RECSYS_CLI_BIN,
       "recsys score",
       "score",
       {"--server", "--input", "--output", "--batch-rows", "--tls-ca"},
       "--batch-row=64",
       "--batch-rows"},
      {RECSYS_CLI_BIN,
       "recsys recommend",
       "recommend",
       {"--csv-line", "--history", "--ncodpers", "--age", "--segmento",
        "--explain", "--explain-features"},
       "--ncodper=1",
       "--ncodpers"},
      {RECSYS_CLI_BIN,
       "recsys pin",
       "pin",
       {"--model-version", "--admin-token-file"},
       "--verison=3",
       "--version"},
      {RECSYS_CLI_BIN,
       "recsys bench",
       "bench",
       {"--mode", "--concurrency", "--rate", "--json"},
       "--concurency=2",
       "--concurrency"},
      {RECSYS_CLI_BIN,
       "recsys evaluate",
       "evaluate",
       {"--submission", "--truth"},
       "--truht=t.csv",
       "--truth"},
  };
}

// The layout every help text shares (common/command_line.h).
void ExpectCommonLayout(const std::string& help, const std::string& command) {
  EXPECT_THAT(help, StartsWith(command + ": "));
  EXPECT_THAT(help, HasSubstr("\nUsage:\n  " + command));
  EXPECT_THAT(help, HasSubstr("\nExit status: 0 "));
  for (absl::string_view line : absl::StrSplit(help, '\n')) {
    EXPECT_LE(line.size(), kHelpWidth) << command << ": " << line;
  }
}

TEST(ProgramsTest, HelpExitsZeroAndListsTheFlagsInTheCommonLayout) {
  for (const Program& program : Programs()) {
    SCOPED_TRACE(program.command);
    for (const char* help : {"--help", "-h"}) {
      const Outcome run =
          Start(program.binary, absl::StrCat(program.subcommand, " ", help));
      EXPECT_EQ(run.exit_code, kExitOk) << run.err;
      EXPECT_THAT(run.err, IsEmpty());
      ExpectCommonLayout(run.out, program.command);
      for (const char* flag : program.flags) {
        EXPECT_THAT(run.out, HasSubstr(absl::StrCat("\n  ", flag, " ")))
            << flag;
      }
      if (!program.flags.empty()) {
        EXPECT_THAT(
            run.out,
            HasSubstr(
                "Flags are written --name value or --name=value; dashes"));
      }
    }
  }
}

TEST(ProgramsTest, AMistypedFlagExitsTwoAndSuggestsTheFlagMeant) {
  for (const Program& program : Programs()) {
    SCOPED_TRACE(program.command);
    const Outcome run = Start(
        program.binary, absl::StrCat(program.subcommand, " ", program.typo));
    EXPECT_EQ(run.exit_code, kExitUsage) << run.err;
    EXPECT_THAT(run.out, IsEmpty());
    std::string typed = program.typo;
    typed = typed.substr(0, typed.find('='));
    EXPECT_THAT(run.err, HasSubstr(absl::StrCat(program.command,
                                                ": unknown flag ", typed)));
    if (*program.meant != '\0') {
      EXPECT_THAT(run.err,
                  HasSubstr(absl::StrCat("did you mean ", program.meant, "?")));
    }
    EXPECT_THAT(run.err,
                HasSubstr(absl::StrCat("(see ", program.command, " --help)")));
  }
}

TEST(ProgramsTest, ABadValueExitsTwoAndNamesTheFlagAndTheValue) {
  const struct {
    const char* binary;
    const char* args;
    const char* message;
  } kCases[] = {
      {RECSYS_SERVER_BIN, "--port=abc", "bad value \"abc\" for --port"},
      {RECSYS_TRAIN_BIN, "--max-rounds x", "bad value \"x\" for --max-rounds"},
      {RECSYS_FLOOR_BIN, "--bundle b --input i --threads=two",
       "bad value \"two\" for --threads"},
      {RECSYS_DATA_BIN, "generate --seed=-1", "bad value \"-1\" for --seed"},
      {RECSYS_CLI_BIN, "score --k=seven", "bad value \"seven\" for --k"},
      {RECSYS_SERVER_BIN, "--grace-period=10",
       "bad value \"10\" for "
       "--grace-period"},
  };
  for (const auto& c : kCases) {
    const Outcome run = Start(c.binary, c.args);
    EXPECT_EQ(run.exit_code, kExitUsage) << c.args << ": " << run.err;
    EXPECT_THAT(run.err, HasSubstr(c.message)) << c.args;
  }
}

TEST(ProgramsTest, RequiredFlagsAndStrayArgumentsAreUsageErrors) {
  const struct {
    const char* binary;
    const char* args;
    const char* message;
  } kCases[] = {
      {RECSYS_REBUNDLE_BIN, "--bundle b --train t", "--store is required"},
      {RECSYS_FLOOR_BIN, "--input i", "--bundle is required"},
      {RECSYS_HOSTILE_BIN, "--attack flood", "--address is required"},
      {RECSYS_TRAIN_BIN, "--data d stray", "unexpected argument \"stray\""},
      {RECSYS_DATA_BIN, "inspect", "missing FILE"},
  };
  for (const auto& c : kCases) {
    const Outcome run = Start(c.binary, c.args);
    EXPECT_EQ(run.exit_code, kExitUsage) << c.args << ": " << run.err;
    EXPECT_THAT(run.err, HasSubstr(c.message)) << c.args;
  }
}

TEST(ProgramsTest, DashedAndUnderscoredNamesAreTheSameFlag) {
  // Both spellings get past the parser to the program's own check.
  for (const char* spelling :
       {"--allow-partial-months", "--allow_partial_months"}) {
    const Outcome run =
        Start(RECSYS_TRAIN_BIN, absl::StrCat(spelling, " --dry-run"));
    EXPECT_EQ(run.exit_code, kExitUsage) << spelling;
    EXPECT_THAT(run.err, HasSubstr("give --data DIR")) << spelling;
  }
}

TEST(ProgramsTest, AMistypedSubcommandExitsTwoAndSuggestsTheOneMeant) {
  const struct {
    const char* binary;
    const char* program;
    const char* typo;
    const char* meant;
  } kCases[] = {
      {RECSYS_CLI_BIN, "recsys", "scroe", "score"},
      {RECSYS_CLI_BIN, "recsys", "recomend", "recommend"},
      {RECSYS_DATA_BIN, "recsys-data", "genrate", "generate"},
      {RECSYS_DATA_BIN, "recsys-data", "inspct", "inspect"},
  };
  for (const auto& c : kCases) {
    const Outcome run = Start(c.binary, c.typo);
    EXPECT_EQ(run.exit_code, kExitUsage) << c.typo;
    EXPECT_THAT(run.err, HasSubstr(absl::StrCat(
                             c.program, ": unknown subcommand \"", c.typo,
                             "\"; did you mean ", c.meant, "?")));
  }
}

TEST(ProgramsTest, ProgramHelpListsEverySubcommand) {
  const struct {
    const char* binary;
    const char* program;
    std::vector<const char*> subcommands;
  } kCases[] = {
      {RECSYS_CLI_BIN,
       "recsys",
       {"score", "recommend", "info", "versions", "reload", "pin", "unpin",
        "rollback", "evaluate", "bench"}},
      {RECSYS_DATA_BIN, "recsys-data", {"generate", "inspect"}},
  };
  for (const auto& c : kCases) {
    for (const char* help : {"--help", "help"}) {
      const Outcome run = Start(c.binary, help);
      EXPECT_EQ(run.exit_code, kExitOk) << c.program;
      ExpectCommonLayout(run.out, c.program);
      for (const char* sub : c.subcommands) {
        EXPECT_THAT(run.out,
                    HasSubstr(absl::StrCat("\n  ", c.program, " ", sub)))
            << sub;
      }
    }
    const Outcome none = Start(c.binary, "");
    EXPECT_EQ(none.exit_code, kExitUsage) << c.program;
    EXPECT_THAT(none.err, HasSubstr("missing subcommand"));
  }
}

TEST(ProgramsTest, AFlagOfAnotherSubcommandNamesIt) {
  const Outcome run = Start(RECSYS_CLI_BIN, "score --age 3");
  EXPECT_EQ(run.exit_code, kExitUsage);
  EXPECT_THAT(run.err,
              HasSubstr("--age is a flag of recsys recommend, not of recsys "
                        "score"));
}

}  // namespace
}  // namespace recsys
