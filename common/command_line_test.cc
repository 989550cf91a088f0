#include "common/command_line.h"

#include <cstdint>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

ABSL_FLAG(std::string, cl_test_store, "", "Model store directory.");
ABSL_FLAG(int32_t, cl_test_port, 50051,
          "gRPC port. 0 picks a free port; the log line tells which one was "
          "picked, so that a test or a script can connect to it afterwards "
          "without guessing.");
ABSL_FLAG(bool, cl_test_dry_run, false, "Publish nothing.");
ABSL_FLAG(absl::Duration, cl_test_grace, absl::Seconds(10), "Grace period.");
ABSL_FLAG(std::vector<std::string>, cl_test_names, {}, "Client names.");
ABSL_FLAG(std::string, cl_test_model_version, "", "Version to pin.");
ABSL_FLAG(int64_t, cl_test_customers, 20000, "Customers to generate.");

namespace recsys {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

CommandSpec ServeCommand() {
  return {.name = "serve",
          .summary = "serves things.",
          .usage = {"serve --cl-test-store DIR"},
          .description = "Serves the store.",
          .flags = {{"Store flags", {"cl_test_store", "cl_test_dry_run"}},
                    {"Network flags",
                     {"cl_test_port", "cl_test_grace", "cl_test_names"}}},
          .exit_status = "0 ok; 1 failed; 2 usage error."};
}

// Parses `args` for `command` after resetting every test flag.
absl::StatusOr<std::vector<std::string>> Parse(
    const CommandSpec& command, const std::vector<std::string>& args,
    const ProgramSpec* program = nullptr) {
  absl::SetFlag(&FLAGS_cl_test_store, "");
  absl::SetFlag(&FLAGS_cl_test_port, 50051);
  absl::SetFlag(&FLAGS_cl_test_dry_run, false);
  absl::SetFlag(&FLAGS_cl_test_grace, absl::Seconds(10));
  absl::SetFlag(&FLAGS_cl_test_names, {});
  absl::SetFlag(&FLAGS_cl_test_model_version, "");
  absl::SetFlag(&FLAGS_cl_test_customers, 20000);
  return ParseFlags(command, args, program);
}

std::string ErrorOf(const absl::StatusOr<std::vector<std::string>>& parsed) {
  EXPECT_FALSE(parsed.ok());
  if (parsed.ok()) return "";
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(parsed.status().message());
}

TEST(ParseFlags, DashesAndUnderscoresNameTheSameFlag) {
  ASSERT_TRUE(Parse(ServeCommand(), {"--cl-test-store", "a-b"}).ok());
  EXPECT_EQ(absl::GetFlag(FLAGS_cl_test_store), "a-b");
  ASSERT_TRUE(Parse(ServeCommand(), {"--cl_test_store=x_y"}).ok());
  EXPECT_EQ(absl::GetFlag(FLAGS_cl_test_store), "x_y");
}

TEST(ParseFlags, TakesOneOrTwoDashesAndValuesAfterEqualsOrSeparate) {
  ASSERT_TRUE(
      Parse(ServeCommand(), {"-cl-test-port", "7", "--cl-test-grace=500ms",
                             "--cl-test-names", "a,b"})
          .ok());
  EXPECT_EQ(absl::GetFlag(FLAGS_cl_test_port), 7);
  EXPECT_EQ(absl::GetFlag(FLAGS_cl_test_grace), absl::Milliseconds(500));
  EXPECT_THAT(absl::GetFlag(FLAGS_cl_test_names), ElementsAre("a", "b"));
}

TEST(ParseFlags, YesNoFlagsAreSetByNameAndClearedByNoName) {
  ASSERT_TRUE(Parse(ServeCommand(), {"--cl-test-dry-run"}).ok());
  EXPECT_TRUE(absl::GetFlag(FLAGS_cl_test_dry_run));
  ASSERT_TRUE(
      Parse(ServeCommand(), {"--cl-test-dry-run", "--nocl-test-dry-run"}).ok());
  EXPECT_FALSE(absl::GetFlag(FLAGS_cl_test_dry_run));
  ASSERT_TRUE(Parse(ServeCommand(), {"--cl-test-dry-run=true"}).ok());
  EXPECT_TRUE(absl::GetFlag(FLAGS_cl_test_dry_run));
  EXPECT_THAT(ErrorOf(Parse(ServeCommand(), {"--nocl-test-dry-run=true"})),
              HasSubstr("takes no value"));
  EXPECT_THAT(ErrorOf(Parse(ServeCommand(), {"--nocl-test-port"})),
              HasSubstr("not a yes/no flag"));
}

TEST(ParseFlags, DoubleDashEndsTheFlagsAndPositionalArgumentsAreReturned) {
  CommandSpec command = ServeCommand();
  command.max_args = -1;
  absl::StatusOr<std::vector<std::string>> args = Parse(
      command, {"a.csv", "--cl-test-port=8", "-", "--", "--cl-test-port=9"});
  ASSERT_TRUE(args.ok()) << args.status();
  EXPECT_THAT(*args, ElementsAre("a.csv", "-", "--cl-test-port=9"));
  EXPECT_EQ(absl::GetFlag(FLAGS_cl_test_port), 8);
}

TEST(ParseFlags, UnknownFlagSuggestsTheNearestAcceptedOne) {
  EXPECT_EQ(ErrorOf(Parse(ServeCommand(), {"--cl-test-stor=x"})),
            "unknown flag --cl-test-stor; did you mean --cl-test-store?");
  EXPECT_EQ(ErrorOf(Parse(ServeCommand(), {"--cl_test_prot", "1"})),
            "unknown flag --cl_test_prot; did you mean --cl-test-port?");
  EXPECT_EQ(ErrorOf(Parse(ServeCommand(), {"--frobnicate"})),
            "unknown flag --frobnicate");
}

TEST(ParseFlags, AFlagDefinedButNotListedIsUnknownToTheCommand) {
  // cl_test_customers exists in the binary but ServeCommand does not take it.
  EXPECT_THAT(ErrorOf(Parse(ServeCommand(), {"--cl-test-customers=5"})),
              HasSubstr("unknown flag --cl-test-customers"));
  EXPECT_EQ(absl::GetFlag(FLAGS_cl_test_customers), 20000);
}

TEST(ParseFlags, AFlagOfAnotherSubcommandNamesThatSubcommand) {
  const ProgramSpec program = {
      .name = "prog",
      .subcommands = {
          {ServeCommand(), nullptr},
          {{.name = "generate", .flags = {{"Flags", {"cl_test_customers"}}}},
           nullptr}}};
  EXPECT_EQ(
      ErrorOf(Parse(ServeCommand(), {"--cl-test-customers", "3"}, &program)),
      "--cl-test-customers is a flag of prog generate, not of prog serve");
}

TEST(ParseFlags, BadValuesNameTheFlagTheValueAndTheType) {
  EXPECT_EQ(ErrorOf(Parse(ServeCommand(), {"--cl-test-port=abc"})),
            "bad value \"abc\" for --cl-test-port: expected INT");
  EXPECT_THAT(ErrorOf(Parse(ServeCommand(), {"--cl-test-grace", "10"})),
              AllOf(HasSubstr("\"10\""), HasSubstr("--cl-test-grace"),
                    HasSubstr("DURATION")));
  EXPECT_THAT(ErrorOf(Parse(ServeCommand(), {"--cl-test-dry-run=maybe"})),
              AllOf(HasSubstr("maybe"), HasSubstr("--cl-test-dry-run")));
}

TEST(ParseFlags, AMissingValueIsAnError) {
  EXPECT_EQ(ErrorOf(Parse(ServeCommand(), {"--cl-test-port"})),
            "--cl-test-port needs a value (INT)");
}

TEST(ParseFlags, RequiredFlagsMustBeGivenAndNotEmpty) {
  CommandSpec command = ServeCommand();
  command.required = {"cl_test_store"};
  EXPECT_EQ(ErrorOf(Parse(command, {})), "--cl-test-store is required");
  EXPECT_EQ(ErrorOf(Parse(command, {"--cl-test-store="})),
            "--cl-test-store is required");
  EXPECT_TRUE(Parse(command, {"--cl-test-store=s"}).ok());
}

TEST(ParseFlags, PositionalArgumentsAreCounted) {
  CommandSpec command = ServeCommand();
  EXPECT_EQ(ErrorOf(Parse(command, {"extra"})),
            "unexpected argument \"extra\"");
  command.min_args = 1;
  command.max_args = 2;
  command.args_name = "FILE";
  EXPECT_EQ(ErrorOf(Parse(command, {})), "missing FILE");
  EXPECT_TRUE(Parse(command, {"a", "b"}).ok());
  EXPECT_EQ(ErrorOf(Parse(command, {"a", "b", "c"})),
            "unexpected argument \"c\"");
}

TEST(ParseFlags, AliasesReadAsTheirFlag) {
  const CommandSpec command = {
      .name = "pin",
      .flags = {{"Flags", {"cl_test_model_version"}}},
      .aliases = {{"version", "cl_test_model_version"}}};
  ASSERT_TRUE(Parse(command, {"--version", "3"}).ok());
  EXPECT_EQ(absl::GetFlag(FLAGS_cl_test_model_version), "3");
  EXPECT_EQ(ErrorOf(Parse(command, {"--verison=3"})),
            "unknown flag --verison; did you mean --version?");
}

TEST(AsksForHelp, FindsEveryHelpSpellingBeforeADoubleDash) {
  for (const char* help :
       {"-h", "--help", "-help", "--helpfull", "--helpshort"}) {
    EXPECT_TRUE(AsksForHelp({"--port", "1", help})) << help;
  }
  EXPECT_FALSE(AsksForHelp({"--port", "1"}));
  EXPECT_FALSE(AsksForHelp({"--", "--help"}));
}

TEST(CheckCommand, ReportsAFlagThatIsNotDefined) {
  EXPECT_TRUE(CheckCommand(ServeCommand()).ok());
  CommandSpec command = ServeCommand();
  command.flags[0].flags.push_back("cl_test_no_such_flag");
  const absl::Status status = CheckCommand(command);
  EXPECT_EQ(status.code(), absl::StatusCode::kInternal);
  EXPECT_THAT(status.message(), HasSubstr("cl_test_no_such_flag"));
  command = ServeCommand();
  command.required = {"cl_test_customers"};
  EXPECT_THAT(CheckCommand(command).message(), HasSubstr("cl_test_customers"));
}

TEST(CommandHelp, HasTheCommonLayout) {
  CommandSpec command = ServeCommand();
  command.required = {"cl_test_store"};
  const std::string help = CommandHelp(command, "prog");
  EXPECT_THAT(help, HasSubstr("prog serve: serves things.\n\nUsage:\n  serve "
                              "--cl-test-store DIR\n\nServes the store.\n"));
  EXPECT_THAT(help, HasSubstr("\nStore flags:\n  --cl-test-store TEXT "
                              "(required)\n      Model store directory.\n"));
  EXPECT_THAT(help, HasSubstr("  --cl-test-dry-run (default off)\n"));
  EXPECT_THAT(help, HasSubstr("\nNetwork flags:\n  --cl-test-port INT "
                              "(default 50051)\n      gRPC port."));
  EXPECT_THAT(help, HasSubstr("  --cl-test-grace DURATION (default 10s; e.g. "
                              "10s, 500ms, 2m)\n"));
  EXPECT_THAT(help, HasSubstr("  --cl-test-names LIST (comma-separated)\n"));
  EXPECT_THAT(
      help,
      HasSubstr("Flags are written --name value or --name=value; dashes"));
  EXPECT_THAT(help,
              HasSubstr("\nExit status: 0 ok; 1 failed; 2 usage error.\n"));
  for (absl::string_view line : absl::StrSplit(help, '\n')) {
    EXPECT_LE(line.size(), kHelpWidth) << line;
  }
}

TEST(ProgramHelp, ListsEverySubcommandWithItsUsageAndSummary) {
  const ProgramSpec program = {
      .name = "prog",
      .summary = "does two things.",
      .subcommands = {{ServeCommand(), nullptr},
                      {{.name = "generate", .summary = "writes files."},
                       nullptr}},
      .exit_status = "0 ok."};
  const std::string help = ProgramHelp(program);
  EXPECT_THAT(help, HasSubstr("prog: does two things.\n\nUsage:\n  prog "
                              "SUBCOMMAND [flags]\n"));
  EXPECT_THAT(help, HasSubstr("\nSubcommands:\n  serve --cl-test-store DIR\n"
                              "      serves things.\n  prog generate\n"
                              "      writes files.\n"));
  EXPECT_THAT(help, HasSubstr("Exit status: 0 ok.\n"));
}

TEST(RunProgram, RunsTheSubcommandWithItsPositionalArguments) {
  std::vector<std::string> seen;
  const ProgramSpec program = {
      .name = "prog",
      .subcommands = {{{.name = "inspect",
                        .flags = {{"Flags", {"cl_test_port"}}},
                        .max_args = -1},
                       [&](const std::vector<std::string>& args) {
                         seen = args;
                         return 7;
                       }}}};
  std::vector<std::string> argv_text = {"prog", "inspect", "a",
                                        "--cl-test-port=3", "b"};
  std::vector<char*> argv;
  for (std::string& arg : argv_text) argv.push_back(arg.data());
  EXPECT_EQ(RunProgram(program, static_cast<int>(argv.size()), argv.data()), 7);
  EXPECT_THAT(seen, ElementsAre("a", "b"));
  EXPECT_EQ(absl::GetFlag(FLAGS_cl_test_port), 3);

  argv_text = {"prog", "inspcet"};
  argv = {argv_text[0].data(), argv_text[1].data()};
  EXPECT_EQ(RunProgram(program, 2, argv.data()), kExitUsage);
  argv_text = {"prog", "inspect", "--cl-test-prot=1"};
  argv = {argv_text[0].data(), argv_text[1].data(), argv_text[2].data()};
  EXPECT_EQ(RunProgram(program, 3, argv.data()), kExitUsage);
  argv_text = {"prog", "help", "inspect"};
  argv = {argv_text[0].data(), argv_text[1].data(), argv_text[2].data()};
  EXPECT_EQ(RunProgram(program, 3, argv.data()), kExitOk);
  EXPECT_EQ(RunProgram(program, 1, argv.data()), kExitUsage);
}

TEST(WrapText, WrapsParagraphsToTheWidthAndKeepsIndentedLines) {
  EXPECT_EQ(WrapText("aaa bbb ccc ddd", 2, 10), "  aaa bbb\n  ccc ddd\n");
  EXPECT_EQ(WrapText("one\ntwo\n\n\nthree", 0, 80), "one two\n\nthree\n");
  EXPECT_EQ(WrapText("Example:\n  prog --a   --b\nend", 4, 80),
            "    Example:\n      prog --a   --b\n    end\n");
  EXPECT_EQ(WrapText("a averyveryverylongword b", 0, 8),
            "a\naveryveryverylongword\nb\n");
  EXPECT_EQ(WrapText("", 4, 80), "");
}

TEST(EditDistance, CountsInsertionsDeletionsSubstitutionsAndSwaps) {
  EXPECT_EQ(EditDistance("kitten", "sitting"), 3);
  EXPECT_EQ(EditDistance("score", "scroe"), 1);  // one swap
  EXPECT_EQ(EditDistance("", "abc"), 3);
  EXPECT_EQ(EditDistance("store", "store"), 0);
  EXPECT_EQ(EditDistance("batchrows", "batch-rows"), 1);
}

TEST(ClosestName, SuggestsOnlyWhatIsNear) {
  const std::vector<std::string> names = {"generate", "inspect", "score",
                                          "admin-token-file", "k"};
  EXPECT_EQ(ClosestName("genrate", names), "generate");
  EXPECT_EQ(ClosestName("scroe", names), "score");
  EXPECT_EQ(ClosestName("kk", names), "k");
  EXPECT_EQ(ClosestName("frobnicate", names), std::nullopt);
  EXPECT_EQ(ClosestName("admin-token", names), "admin-token-file");  // prefix
  EXPECT_EQ(ClosestName("zz", names), std::nullopt);
  EXPECT_EQ(ClosestName("x", {}), std::nullopt);
}

}  // namespace
}  // namespace recsys
