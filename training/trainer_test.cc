#include "training/trainer.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "model_store/bundle.h"
#include "model_store/model_version.h"
#include "records/ingest.h"
#include "training/generator.h"

namespace recsys {
namespace {

namespace fs = std::filesystem;

// A small generated data set shared by the tests of this file.
class TrainerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(
        (fs::temp_directory_path() / ("trainer_test_" + std::to_string(::getpid()))).string());
    GeneratorOptions options;
    options.customers = 2500;
    options.seed = 7;
    options.out_dir = *dir_ + "/data";
    ASSERT_TRUE(GenerateDataset(options).ok());
  }
  static void TearDownTestSuite() {
    fs::remove_all(*dir_);
    delete dir_;
  }

  static TrainRunOptions SmallRun() {
    TrainRunOptions options;
    options.train_csv = *dir_ + "/data/train_ver2.csv";
    options.store_dir = *dir_ + "/models";
    options.config.feature_spec = RECSYS_SOURCE_DIR "/config/feature_spec.json";
    options.config.max_rounds = 8;
    options.config.reference_sample = 1500;
    options.config.golden_rows = 8;
    options.config.nthread = 2;
    return options;
  }

  static std::string* dir_;
};

std::string* TrainerTest::dir_ = nullptr;

// The bytes of a file of a published bundle.
std::string BundleFile(const std::string& bundle_dir, const char* name) {
  std::ifstream in(bundle_dir + "/" + name, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST_F(TrainerTest, TheRecordsDatabaseAndTheCsvFileGiveTheSameModelBytes) {
  const std::string db_path = *dir_ + "/records.db";
  {
    auto db = RecordsDb::Open(db_path, {});
    ASSERT_TRUE(db.ok()) << db.status();
    auto report = IngestFile(db->get(), *dir_ + "/data/train_ver2.csv", {});
    ASSERT_TRUE(report.ok()) << report.status();
    ASSERT_EQ(report->rows_refused, 0);
  }
  TrainRunOptions from_csv = SmallRun();
  from_csv.store_dir = *dir_ + "/models_csv";
  TrainRunOptions from_db = SmallRun();
  from_db.train_csv.clear();
  from_db.records_db = db_path;
  from_db.store_dir = *dir_ + "/models_db";
  absl::StatusOr<TrainRunResult> csv = RunTraining(from_csv);
  absl::StatusOr<TrainRunResult> db = RunTraining(from_db);
  ASSERT_TRUE(csv.ok()) << csv.status();
  ASSERT_TRUE(db.ok()) << db.status();
  EXPECT_EQ(BundleFile(db->bundle_dir, kModelFile),
            BundleFile(csv->bundle_dir, kModelFile));
  EXPECT_EQ(BundleFile(db->bundle_dir, kHistoryFile),
            BundleFile(csv->bundle_dir, kHistoryFile));
  EXPECT_FALSE(BundleFile(db->bundle_dir, kModelFile).empty());
  EXPECT_EQ(db->metrics.model_map7, csv->metrics.model_map7);
  EXPECT_EQ(db->metrics.month, "2016-05");

  // --through: the months after it are left out.
  from_db.through = "2016-03";
  from_db.publish = false;
  absl::StatusOr<TrainRunResult> through = RunTraining(from_db);
  ASSERT_TRUE(through.ok()) << through.status();
  EXPECT_EQ(through->metrics.month, "2016-03");
}

TEST_F(TrainerTest, SameSeedAndConfigGiveTheSameModel) {
  TrainRunOptions options = SmallRun();
  options.publish = false;
  absl::StatusOr<TrainRunResult> first = RunTraining(options);
  absl::StatusOr<TrainRunResult> second = RunTraining(options);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(first->model_bytes, second->model_bytes);
  EXPECT_EQ(first->metrics.model_map7, second->metrics.model_map7);
}

TEST_F(TrainerTest, ReportsModelBaselineAndCeilingOnTheLastMonth) {
  TrainRunOptions options = SmallRun();
  options.publish = false;
  absl::StatusOr<TrainRunResult> result = RunTraining(options);
  ASSERT_TRUE(result.ok()) << result.status();
  const ValidationMetrics& m = result->metrics;
  EXPECT_EQ(m.month, "2016-05");
  EXPECT_GT(m.customers, 0);
  EXPECT_GT(m.customers_adding, 0);
  EXPECT_DOUBLE_EQ(m.ceiling_map7, static_cast<double>(m.customers_adding) / m.customers);
  EXPECT_GT(m.model_map7, 0);
  EXPECT_LE(m.model_map7, m.ceiling_map7);
  EXPECT_LE(m.popularity_map7, m.ceiling_map7);
}

TEST_F(TrainerTest, PublishedBundleRoundTripsAndLoads) {
  TrainRunOptions options = SmallRun();
  absl::StatusOr<TrainRunResult> result = RunTraining(options);
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_GT(result->version, 0);
  absl::StatusOr<BundleManifest> manifest = ReadManifest(result->bundle_dir);
  ASSERT_TRUE(manifest.ok()) << manifest.status();
  EXPECT_EQ(manifest->version, result->version);
  EXPECT_EQ(manifest->history_month, "2016-06");
  EXPECT_EQ(manifest->num_rounds, result->num_rounds);
  EXPECT_EQ(manifest->golden.size(), 8u);
  EXPECT_EQ(ManifestToJson(*manifest), ManifestToJson(*ManifestFromJson(ManifestToJson(*manifest))));
  absl::StatusOr<std::shared_ptr<const ModelVersion>> loaded =
      LoadModelVersion(result->bundle_dir, result->version);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ((*loaded)->num_features(), static_cast<int>(manifest->golden[0].features.size()));
}

TEST_F(TrainerTest, PublishingAgainMakesTheNextVersion) {
  TrainRunOptions options = SmallRun();
  options.config.model_name = "versions";
  absl::StatusOr<TrainRunResult> a = RunTraining(options);
  absl::StatusOr<TrainRunResult> b = RunTraining(options);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(b->version, a->version + 1);
  absl::StatusOr<std::vector<int64_t>> versions = ListVersions(options.store_dir, "versions");
  ASSERT_TRUE(versions.ok());
  EXPECT_EQ(*versions, (std::vector<int64_t>{a->version, b->version}));
}

TEST_F(TrainerTest, UnknownValidationMonthIsAnError) {
  TrainRunOptions options = SmallRun();
  options.publish = false;
  options.config.validation_month = "2014-01";
  absl::StatusOr<TrainRunResult> result = RunTraining(options);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(result.status().message().find("2014-01"), std::string::npos);
}

TEST_F(TrainerTest, TestLayoutFileIsRejectedWithAClearMessage) {
  TrainRunOptions options = SmallRun();
  options.publish = false;
  options.train_csv = *dir_ + "/data/test_ver2.csv";
  absl::StatusOr<TrainRunResult> result = RunTraining(options);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("no product columns"), std::string::npos);
}

// The lines of the generated train file.
std::vector<std::string> TrainLines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// Issue 10 item 14: a train file cut short (inside a row) trained on the
// months it still had and exited 0. It is refused unless allowed.
TEST_F(TrainerTest, FileCutInsideARowIsRefusedUnlessPartialMonthsAreAllowed) {
  const std::string full = *dir_ + "/data/train_ver2.csv";
  const std::vector<std::string> lines = TrainLines(full);
  const std::string cut = *dir_ + "/cut_inside_a_row.csv";
  {
    std::ofstream out(cut, std::ios::binary | std::ios::trunc);
    // Every month up to the last row, which loses its end.
    for (size_t i = 0; i + 1 < lines.size(); ++i) out << lines[i] << "\n";
    out << lines.back().substr(0, lines.back().size() - 3);
  }
  TrainRunOptions options = SmallRun();
  options.publish = false;
  options.train_csv = cut;
  absl::StatusOr<TrainRunResult> result = RunTraining(options);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(result.status().message().find(absl::StrCat(
                "ends inside a row (line ", lines.size(), " has no line end)")),
            std::string::npos)
      << result.status();
  options.config.allow_partial_months = true;
  result = RunTraining(options);
  EXPECT_TRUE(result.ok()) << result.status();
}

TEST_F(TrainerTest, MonthWithFewRowsIsRefusedNamingItAndItsNeighbours) {
  const std::string full = *dir_ + "/data/train_ver2.csv";
  const std::vector<std::string> lines = TrainLines(full);
  const std::string cut = *dir_ + "/cut_at_a_line.csv";
  int64_t september = 0;
  int64_t october = 0;
  {
    // The file up to the 20th row of 2015-10, cut at a line end.
    std::ofstream out(cut, std::ios::binary | std::ios::trunc);
    for (const std::string& line : lines) {
      if (line.rfind("2015-10-28", 0) == 0 && ++october > 20) break;
      if (line.rfind("2015-09-28", 0) == 0) ++september;
      out << line << "\n";
    }
  }
  ASSERT_EQ(october, 21);
  ASSERT_GT(september, 40);
  TrainRunOptions options = SmallRun();
  options.publish = false;
  options.train_csv = cut;
  absl::StatusOr<TrainRunResult> result = RunTraining(options);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(result.status().message().find(absl::StrCat(
                "month 2015-10 has 20 rows, fewer than 50% of its neighbours' "
                "(2015-09 has ",
                september, ")")),
            std::string::npos)
      << result.status();
  options.config.allow_partial_months = true;
  EXPECT_TRUE(RunTraining(options).ok());
}

}  // namespace
}  // namespace recsys
