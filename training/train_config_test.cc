#include "training/train_config.h"

#include <filesystem>
#include <fstream>
#include <string>

#include "featurizer/feature_spec.h"
#include "gtest/gtest.h"
#include "training/default_feature_spec.h"

namespace recsys {
namespace {

namespace fs = std::filesystem;

// Writes `text` to `path`, creating its folder.
void WriteFile(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::trunc) << text;
}

class TrainConfigFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           ("train_config_test_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

// Issue 10 item 15: "feature_spec" in a config was read relative to the
// working directory, so a config only worked from the repository root.
TEST_F(TrainConfigFileTest, RelativeFeatureSpecIsRelativeToTheConfigFile) {
  WriteFile(dir_ / "conf" / "train.json",
            R"({"feature_spec": "specs/spec.json"})");
  absl::StatusOr<TrainConfig> config =
      LoadTrainConfig((dir_ / "conf" / "train.json").string());
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(fs::path(config->feature_spec),
            dir_ / "conf" / "specs" / "spec.json");
}

TEST_F(TrainConfigFileTest, AbsoluteFeatureSpecIsKept) {
  WriteFile(dir_ / "train.json", R"({"feature_spec": "/etc/spec.json"})");
  absl::StatusOr<TrainConfig> config =
      LoadTrainConfig((dir_ / "train.json").string());
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->feature_spec, "/etc/spec.json");
}

TEST_F(TrainConfigFileTest, NoFeatureSpecMeansTheBuiltInOne) {
  WriteFile(dir_ / "train.json", R"({"max_rounds": 3})");
  absl::StatusOr<TrainConfig> config =
      LoadTrainConfig((dir_ / "train.json").string());
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->feature_spec, "");
  EXPECT_FALSE(config->allow_partial_months);
}

TEST(TrainConfig, ReadsAllowPartialMonths) {
  absl::StatusOr<TrainConfig> config =
      TrainConfigFromJson(nlohmann::json{{"allow_partial_months", true}});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_TRUE(config->allow_partial_months);
  EXPECT_FALSE(
      TrainConfigFromJson(nlohmann::json{{"allow_partial_months", 1}}).ok());
}

TEST(TrainConfig, RepositoryConfigPointsAtTheRepositorySpec) {
  absl::StatusOr<TrainConfig> config =
      LoadTrainConfig(RECSYS_SOURCE_DIR "/config/train.json");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_TRUE(fs::equivalent(config->feature_spec,
                             RECSYS_SOURCE_DIR "/config/feature_spec.json"));
}

TEST(DefaultFeatureSpec, IsTheRepositorySpec) {
  absl::StatusOr<FeatureSpec> built_in =
      ParseFeatureSpec(DefaultFeatureSpecJson());
  ASSERT_TRUE(built_in.ok()) << built_in.status();
  absl::StatusOr<FeatureSpec> file =
      LoadFeatureSpec(RECSYS_SOURCE_DIR "/config/feature_spec.json");
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(built_in->SpecHash(), file->SpecHash());
}

}  // namespace
}  // namespace recsys
