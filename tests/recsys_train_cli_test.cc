// End-to-end: the recsys-train program as a user runs it, from a folder that
// is not the repository (issue 10 item 15) and on a file cut short (item 14).
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

struct Outcome {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

// Runs `command` (a shell command line) in the folder `cwd`.
Outcome RunIn(const std::string& cwd, const std::string& command) {
  const std::string line =
      absl::StrCat("cd '", cwd, "' && ", command, " 2>&1");
  Outcome run;
  FILE* pipe = popen(line.c_str(), "r");
  if (pipe == nullptr) return run;
  char buffer[4096];
  for (size_t n; (n = fread(buffer, 1, sizeof(buffer), pipe)) > 0;)
    run.output.append(buffer, n);
  const int status = pclose(pipe);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

// A tiny generated data set in DIR/data, a config in DIR/conf whose paths are
// relative to it, and an empty working folder DIR/work.
class RecsysTrainTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new fs::path(fs::path(::testing::TempDir()) /
                        absl::StrCat("recsys_train_cli_test_", ::getpid()));
    fs::remove_all(*dir_);
    fs::create_directories(*dir_ / "work");
    fs::create_directories(*dir_ / "conf" / "specs");
    const Outcome generated =
        RunIn(dir_->string(),
            absl::StrCat(RECSYS_BIN_DIR,
                         "/recsys-data generate --customers 400 --seed 3 "
                         "--out data"));
    ASSERT_EQ(generated.exit_code, 0) << generated.output;
    fs::copy_file(RECSYS_SOURCE_DIR "/config/feature_spec.json",
                  *dir_ / "conf" / "specs" / "spec.json");
    std::ofstream(*dir_ / "conf" / "train.json")
        << R"({"feature_spec": "specs/spec.json", "max_rounds": 2,
              "reference_sample": 200, "golden_rows": 4, "nthread": 2})";
  }
  static void TearDownTestSuite() {
    fs::remove_all(*dir_);
    delete dir_;
  }

  // Runs recsys-train with `args` in DIR/work.
  static Outcome Train(const std::string& args) {
    return RunIn((*dir_ / "work").string(),
               absl::StrCat(RECSYS_BIN_DIR, "/recsys-train ", args));
  }

  static fs::path* dir_;
};

fs::path* RecsysTrainTest::dir_ = nullptr;

TEST_F(RecsysTrainTest, ConfigPathsAreRelativeToTheConfigFile) {
  const Outcome run = Train(
      "--data ../data --config ../conf/train.json --store ../models");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_THAT(run.output, HasSubstr("conf/specs/spec.json"));
  EXPECT_THAT(run.output, HasSubstr("published santander version 1"));
  EXPECT_TRUE(fs::exists(*dir_ / "models" / "santander" / "1"));
}

TEST_F(RecsysTrainTest, WorksWithoutAConfigFromAnyFolder) {
  const Outcome run =
      Train("--data ../data --dry-run --max-rounds 2 --nthread 2");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_THAT(run.output, HasSubstr("feature spec (built in)"));
  EXPECT_THAT(run.output, HasSubstr("MAP@7"));
}

TEST_F(RecsysTrainTest, TrainsFromTheRecordsDatabase) {
  const Outcome ingested = RunIn(
      dir_->string(), absl::StrCat(RECSYS_BIN_DIR,
                                   "/recsys-data ingest --db records.db "
                                   "data/train_ver2.csv"));
  ASSERT_EQ(ingested.exit_code, 0) << ingested.output;
  Outcome run = Train(
      "--db ../records.db --through 2016-04 --dry-run --max-rounds 2 "
      "--nthread 2");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_THAT(run.output, HasSubstr("records.db through 2016-04"));
  EXPECT_THAT(run.output, HasSubstr("MAP@7 on 2016-04"));
  run = Train("--db ../records.db --data ../data --dry-run");
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_THAT(run.output, HasSubstr("not both"));
  run = Train("--data ../data --through 2016-04 --dry-run");
  EXPECT_EQ(run.exit_code, 2) << run.output;
  run = Train("--db ../records.db --through 2016-13 --dry-run");
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_THAT(run.output, HasSubstr("2016-13"));
  run = Train("--db ../none.db --dry-run");
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_THAT(run.output, HasSubstr("none.db"));
}

TEST_F(RecsysTrainTest, FileCutShortIsRefusedUnlessAllowed) {
  const fs::path full = *dir_ / "data" / "train_ver2.csv";
  const fs::path cut = *dir_ / "cut" / "train_ver2.csv";
  fs::create_directories(cut.parent_path());
  {
    std::ifstream in(full, std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(in)),
                     std::istreambuf_iterator<char>());
    // Cut inside the last row of the 10th month, as a failed copy does.
    const size_t next_month = text.find("\n2015-11-28,");
    ASSERT_NE(next_month, std::string::npos);
    std::ofstream(cut, std::ios::binary) << text.substr(0, next_month - 20);
  }
  const std::string args = absl::StrCat(
      "--train ", cut.string(), " --dry-run --max-rounds 2 --nthread 2");
  Outcome run = Train(args);
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_THAT(run.output, HasSubstr("ends inside a row"));
  EXPECT_THAT(run.output, HasSubstr("--allow-partial-months"));
  run = Train(args + " --allow-partial-months");
  EXPECT_EQ(run.exit_code, 0) << run.output;
}

}  // namespace
