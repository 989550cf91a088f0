#include "training/trainer.h"

#include <cstdlib>
#include <filesystem>
#include <string>

#include "gtest/gtest.h"
#include "model_store/bundle.h"
#include "model_store/model_version.h"
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

}  // namespace
}  // namespace recsys
