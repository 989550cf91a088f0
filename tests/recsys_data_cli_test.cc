// End-to-end: the recsys-data program as a user runs it.
#include <unistd.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace {

using ::testing::HasSubstr;
using ::testing::Not;

struct Outcome {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

// Runs recsys-data with `args` (shell words).
Outcome RecsysData(const std::string& args) {
  const std::string command =
      absl::StrCat(RECSYS_BIN_DIR, "/recsys-data ", args, " 2>&1");
  Outcome run;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return run;
  char buffer[4096];
  for (size_t n; (n = fread(buffer, 1, sizeof(buffer), pipe)) > 0;)
    run.output.append(buffer, n);
  const int status = pclose(pipe);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

class RecsysDataTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = absl::StrCat(::testing::TempDir(), "/recsys_data_cli_test_", ::getpid());
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Generate(int customers) {
    const Outcome run = RecsysData(absl::StrCat(
        "generate --customers ", customers, " --seed 5 --out ", dir_));
    EXPECT_EQ(run.exit_code, 0) << run.output;
    return dir_;
  }

  std::string dir_;
};

TEST_F(RecsysDataTest, GeneratedFilesInspectClean) {
  const std::string dir = Generate(500);
  for (const char* file :
       {"train_ver2.csv", "test_ver2.csv", "test_truth.csv"}) {
    EXPECT_TRUE(std::filesystem::exists(absl::StrCat(dir, "/", file))) << file;
  }
  const Outcome run = RecsysData(
      absl::StrCat("inspect ", dir, "/train_ver2.csv ", dir, "/test_ver2.csv"));
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_THAT(run.output, HasSubstr("2015-01-28"));
  EXPECT_THAT(run.output, HasSubstr("2016-06-28"));
}

TEST_F(RecsysDataTest, InspectExitsOneOnRowErrorsAndNamesTheLine) {
  const std::string dir = Generate(50);
  {
    std::ofstream out(absl::StrCat(dir, "/train_ver2.csv"), std::ios::app);
    out << "2016-05-28,notanumber,N,ES,H, 35,2015-01-12, 0,      6, "
           "1,,1,A,S,N,,KHL,N, 1,29,"
           "\"MALAGA\", 1,87218.1,02 - "
           "PARTICULARES,0,0,1,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,"
           " 0, 0,0\n";
  }
  const Outcome run =
      RecsysData(absl::StrCat("inspect ", dir, "/train_ver2.csv"));
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_THAT(run.output, HasSubstr("notanumber"));
}

TEST_F(RecsysDataTest, UnreadableFileIsExitTwo) {
  const Outcome run =
      RecsysData(absl::StrCat("inspect ", dir_, "/no_such_file.csv"));
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_THAT(run.output, HasSubstr("no_such_file.csv"));
}

TEST_F(RecsysDataTest, UsageErrorsAreExitTwoAndNameTheArgument) {
  const struct {
    const char* args;
    const char* named;
  } kCases[] = {
      {"generate --customers=abc", "abc"},
      {"generate --customers 0", "--customers"},
      {"generate --bogus", "--bogus"},
      {"generate extra", "extra"},
      {"frobnicate", "frobnicate"},
      {"", "generate"},
      {"inspect", "FILE"},
      {"inspect --seed 3 x.csv", "--seed"},
      {"generate --extra-months 13", "--extra-months"},
      {"generate --db x.db", "--db"},
      {"ingest x.csv", "--db"},
      {"ingest --db x.db", "FILE"},
      {"ingest --db x.db --seed 3 x.csv", "--seed"},
      {"months", "--db"},
      {"inspect --store s x.csv", "--store"},
      {"history --store s", "--data"},
      {"history --data d", "--store"},
      {"history --data d --store s --through 2016-13", "2016-13"},
      {"history --data d --store s --seed 2", "--seed"},
      {"history --data /nonexistent --store s", "/nonexistent/train_ver2.csv"},
      {"generate --through 2016-01", "--through"},
  };
  for (const auto& c : kCases) {
    const Outcome run = RecsysData(c.args);
    EXPECT_EQ(run.exit_code, 2) << c.args << ": " << run.output;
    EXPECT_THAT(run.output, HasSubstr(c.named)) << c.args;
  }
}

TEST_F(RecsysDataTest, IngestCountsEveryRowAndMonthsListsThem) {
  const Outcome generated = RecsysData(absl::StrCat(
      "generate --customers 300 --seed 5 --extra-months 1 --out ", dir_));
  ASSERT_EQ(generated.exit_code, 0) << generated.output;
  const std::string db = absl::StrCat(dir_, "/records.db");
  const std::string files =
      absl::StrCat(dir_, "/train_ver2.csv ", dir_, "/train_2016-06.csv");
  Outcome run = RecsysData(absl::StrCat("ingest --db ", db, " ", files));
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_THAT(run.output, HasSubstr("stored + 0 refused"));
  EXPECT_THAT(run.output, HasSubstr("rows/s"));
  EXPECT_THAT(run.output, HasSubstr("MiB of CSV"));
  run = RecsysData(absl::StrCat("ingest --db ", db, " ", dir_,
                                "/train_2016-06.csv"));
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_THAT(run.output, HasSubstr("2016-06: "));
  EXPECT_THAT(run.output, HasSubstr("replaced the month held before"));

  run = RecsysData(absl::StrCat("months --db ", db));
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_THAT(run.output, HasSubstr("customers"));
  EXPECT_THAT(run.output, HasSubstr("2015-01  train"));
  EXPECT_THAT(run.output, HasSubstr("2016-06  train"));
  EXPECT_THAT(run.output, HasSubstr("train_2016-06.csv"));

  // --skip-ingested: the same bytes under any path are not read again; a
  // changed file is.
  std::filesystem::copy_file(dir_ + "/train_2016-06.csv",
                             dir_ + "/delivered.csv");
  run = RecsysData(absl::StrCat("ingest --skip-ingested --db ", db, " ", files,
                                " ", dir_, "/delivered.csv"));
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_THAT(run.output, HasSubstr("train_ver2.csv: skipped, already "
                                    "ingested"));
  EXPECT_THAT(run.output, HasSubstr("delivered.csv: skipped, already "
                                    "ingested"));
  EXPECT_THAT(run.output, HasSubstr("months 2016-06..2016-06"));
  EXPECT_THAT(run.output, Not(HasSubstr("rows read =")));
  {
    std::ofstream append(dir_ + "/delivered.csv", std::ios::app);
    append << "\n";  // a blank line: other bytes, the same rows
  }
  run = RecsysData(absl::StrCat("ingest --skip-ingested --db ", db, " ", dir_,
                                "/delivered.csv"));
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_THAT(run.output, HasSubstr("replaced the month held before"));
  run = RecsysData(absl::StrCat("ingest --skip-ingested --db ", db, " ", dir_,
                                "/none.csv"));
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_THAT(run.output, HasSubstr("none.csv"));

  // A file that cannot be read: exit 1, named, the database unchanged.
  run = RecsysData(absl::StrCat("ingest --db ", db, " ", dir_, "/none.csv"));
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_THAT(run.output, HasSubstr("none.csv"));
  EXPECT_THAT(run.output, HasSubstr("unchanged"));
}

TEST_F(RecsysDataTest, HelpExplainsTheCommands) {
  const Outcome run = RecsysData("--help");
  EXPECT_EQ(run.exit_code, 0);
  EXPECT_THAT(run.output, HasSubstr("recsys-data generate"));
  EXPECT_THAT(run.output, HasSubstr("recsys-data inspect FILE"));
  EXPECT_THAT(run.output, HasSubstr("recsys-data history --data DIR"));
  EXPECT_THAT(run.output, HasSubstr("recsys-data history --db records.db"));
  EXPECT_THAT(run.output, HasSubstr("--through"));
  EXPECT_THAT(run.output, HasSubstr("--customers"));
  EXPECT_THAT(run.output, HasSubstr("--drift"));
  EXPECT_THAT(run.output, HasSubstr("recsys-data ingest --db records.db"));
  EXPECT_THAT(run.output, HasSubstr("--skip-ingested"));
  EXPECT_THAT(run.output, HasSubstr("recsys-data months --db"));
}

TEST_F(RecsysDataTest, HistoryPublishesTheMonthAfterTheData) {
  const std::string dir = Generate(300);
  const std::string store = dir + "/store";
  Outcome run = RecsysData(
      absl::StrCat("history --data ", dir, " --store ", store));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_THAT(run.output, HasSubstr(store + "/history/2016-06"));
  EXPECT_THAT(run.output, HasSubstr("months 2015-01..2016-05"));
  for (const char* file : {"history.bin", "manifest.json"}) {
    EXPECT_TRUE(std::filesystem::exists(
        absl::StrCat(store, "/history/2016-06/", file)))
        << file;
  }
  std::ifstream manifest(store + "/history/2016-06/manifest.json");
  const std::string text((std::istreambuf_iterator<char>(manifest)),
                         std::istreambuf_iterator<char>());
  EXPECT_THAT(text, HasSubstr("\"month\": \"2016-06\""));
  EXPECT_THAT(text, HasSubstr("\"history_fnv1a64\""));
  EXPECT_THAT(text, HasSubstr("train_ver2.csv"));

  run = RecsysData(absl::StrCat("history --data ", dir, " --store ", store,
                                " --through 2016-02"));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_THAT(run.output, HasSubstr(store + "/history/2016-03"));
  EXPECT_TRUE(std::filesystem::exists(store + "/history/2016-06"))
      << "the newer month stays";
}

// Reads a whole file (empty when missing).
std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)),
                     std::istreambuf_iterator<char>());
}

TEST_F(RecsysDataTest, HistoryFromTheDatabaseIsTheHistoryFromTheFile) {
  const Outcome generated = RecsysData(absl::StrCat(
      "generate --customers 300 --seed 5 --extra-months 1 --out ", dir_));
  ASSERT_EQ(generated.exit_code, 0) << generated.output;
  const std::string db = dir_ + "/records.db";
  Outcome run = RecsysData(absl::StrCat("ingest --db ", db, " ", dir_,
                                        "/train_ver2.csv"));
  ASSERT_EQ(run.exit_code, 0) << run.output;

  // The same rows, from the file and from the database: the same bytes.
  run = RecsysData(
      absl::StrCat("history --data ", dir_, " --store ", dir_, "/from_csv"));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  run = RecsysData(
      absl::StrCat("history --db ", db, " --store ", dir_, "/from_db"));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_THAT(run.output, HasSubstr("/from_db/history/2016-06"));
  const std::string from_csv =
      ReadAll(dir_ + "/from_csv/history/2016-06/history.bin");
  ASSERT_FALSE(from_csv.empty());
  EXPECT_EQ(ReadAll(dir_ + "/from_db/history/2016-06/history.bin"), from_csv);
  EXPECT_THAT(ReadAll(dir_ + "/from_db/history/2016-06/manifest.json"),
              HasSubstr("records.db"));

  // --through picks the same months from either.
  run = RecsysData(absl::StrCat("history --db ", db, " --store ", dir_,
                                "/from_db --through 2016-02"));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  run = RecsysData(absl::StrCat("history --data ", dir_, " --store ", dir_,
                                "/from_csv --through 2016-02"));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(ReadAll(dir_ + "/from_db/history/2016-03/history.bin"),
            ReadAll(dir_ + "/from_csv/history/2016-03/history.bin"));

  // A new month ingested: the history moves forward a month.
  run = RecsysData(absl::StrCat("ingest --db ", db, " ", dir_,
                                "/train_2016-06.csv"));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  run = RecsysData(
      absl::StrCat("history --db ", db, " --store ", dir_, "/from_db"));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_THAT(run.output, HasSubstr("/from_db/history/2016-07"));
  EXPECT_THAT(run.output, HasSubstr("months 2015-01..2016-06"));

  // Exactly one source.
  run = RecsysData(absl::StrCat("history --db ", db, " --data ", dir_,
                                " --store ", dir_, "/x"));
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_THAT(run.output, HasSubstr("exactly one of --data"));
  run = RecsysData(absl::StrCat("history --store ", dir_, "/x"));
  EXPECT_EQ(run.exit_code, 2) << run.output;
  // A database that does not exist is named.
  run = RecsysData(absl::StrCat("history --db ", dir_, "/none.db --store ",
                                dir_, "/x"));
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_THAT(run.output, HasSubstr("none.db"));
}

TEST_F(RecsysDataTest, HistoryRefusesATestLayoutFile) {
  const std::string dir = Generate(50);
  std::filesystem::rename(dir + "/test_ver2.csv", dir + "/train_ver2.csv");
  const Outcome run =
      RecsysData(absl::StrCat("history --data ", dir, " --store ", dir, "/s"));
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_THAT(run.output, HasSubstr("test layout"));
}

}  // namespace
