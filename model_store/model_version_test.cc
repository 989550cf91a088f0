// LoadModelVersion on a real bundle (trained once per binary by the real
// pipeline, see tests/trained_fixture.h): a good bundle loads; each kind of
// broken bundle is refused with its own code and a reason naming the problem.
#include "model_store/model_version.h"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/date.h"
#include "common/file_util.h"
#include "featurizer/feature_spec.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/trained_fixture.h"

namespace recsys {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

class ModelVersionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<testing::TrainedFixture> fixture =
        testing::GetTrainedFixture();
    ASSERT_TRUE(fixture.ok()) << fixture.status();
    fixture_ = *fixture;
    store_ = testing::NewTempDir("model-version-test");
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(store_, ec);
  }

  // Installs the trained bundle as `version`, with `edit` applied to its
  // manifest and `mutate` to its files; returns its directory.
  std::string Install(
      int64_t version, std::function<void(nlohmann::json*)> edit = nullptr,
      std::function<absl::Status(const std::string&)> mutate = nullptr) {
    absl::StatusOr<std::string> dir = testing::InstallBundleWith(
        fixture_.bundle_dir, store_, "santander", version, edit, mutate);
    EXPECT_TRUE(dir.ok()) << dir.status();
    return dir.ok() ? *dir : "";
  }

  testing::TrainedFixture fixture_;
  std::string store_;
};

TEST_F(ModelVersionTest, LoadsTheTrainedBundle) {
  const std::string dir = Install(4);
  absl::StatusOr<std::shared_ptr<const ModelVersion>> model =
      LoadModelVersion(dir, 4);
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_EQ((*model)->version(), 4);
  EXPECT_EQ((*model)->name(), "santander");
  EXPECT_EQ((*model)->booster().num_features(), (*model)->num_features());
  EXPECT_GT((*model)->history().num_customers(), 1000);
  // The snapshot serves the month after the last training month (2016-05).
  EXPECT_EQ(MonthName((*model)->history_month()), "2016-06");
}

TEST_F(ModelVersionTest, ForestServesWhenItMatchesXgboost) {
  const std::string dir = Install(4);
  auto model = LoadModelVersion(dir, 4);
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_STREQ((*model)->predictor(), "forest");
  ASSERT_NE((*model)->forest(), nullptr);
  EXPECT_THAT((*model)->predictor_note(),
              HasSubstr("matched XGBoost byte for byte"));
  // Predict() gives XGBoost's bytes on the golden rows.
  const BundleManifest& m = (*model)->manifest();
  const int nf = (*model)->num_features();
  std::vector<float> x;
  for (const GoldenRow& g : m.golden) {
    x.insert(x.end(), g.features.begin(), g.features.end());
  }
  const int64_t rows = static_cast<int64_t>(m.golden.size());
  std::vector<float> ours(rows * 24), xgb(rows * 24);
  ASSERT_TRUE((*model)->Predict(x.data(), rows, ours.data()).ok());
  ASSERT_TRUE(
      (*model)->booster().Predict(x.data(), rows, nf, xgb.data()).ok());
  EXPECT_EQ(std::memcmp(ours.data(), xgb.data(), ours.size() * 4), 0);
}

TEST_F(ModelVersionTest, TamperedForestFallsBackToXgboost) {
  const std::string dir = Install(4);
  ModelLoadOptions options;
  options.tamper_forest_for_testing = [](Forest* forest) {
    forest->TamperLeavesForTesting(5, 1e-4f);
  };
  auto model = LoadModelVersionWith(dir, 4, options);
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_STREQ((*model)->predictor(), "xgboost");
  EXPECT_EQ((*model)->forest(), nullptr);
  EXPECT_THAT((*model)->predictor_note(),
              HasSubstr("the forest differs from XGBoost on verification row"));
  EXPECT_THAT((*model)->predictor_note(), HasSubstr("serving with XGBoost"));

  // --predictor=forest refuses the version instead.
  options.predictor = PredictorChoice::kForest;
  auto refused = LoadModelVersionWith(dir, 4, options);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(refused.status().message(), HasSubstr("--predictor=forest"));
}

TEST_F(ModelVersionTest, PredictorXgboostBuildsNoForest) {
  const std::string dir = Install(4);
  ModelLoadOptions options;
  options.predictor = PredictorChoice::kXgboost;
  auto model = LoadModelVersionWith(dir, 4, options);
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_STREQ((*model)->predictor(), "xgboost");
  EXPECT_THAT((*model)->predictor_note(), HasSubstr("--predictor=xgboost"));
}

TEST(PredictorChoiceTest, ParsesItsNamesAndRejectsOthers) {
  EXPECT_EQ(*ParsePredictorChoice("auto"), PredictorChoice::kAuto);
  EXPECT_EQ(*ParsePredictorChoice("forest"), PredictorChoice::kForest);
  EXPECT_EQ(*ParsePredictorChoice("xgboost"), PredictorChoice::kXgboost);
  const absl::Status s = ParsePredictorChoice("fast").status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("\"fast\""));
}

TEST_F(ModelVersionTest, MissingManifestFieldIsInvalidArgumentNamingIt) {
  const std::string dir =
      Install(1, [](nlohmann::json* m) { m->erase("feature_spec_hash"); });
  absl::StatusOr<std::shared_ptr<const ModelVersion>> model =
      LoadModelVersion(dir, 1);
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(model.status().message(), HasSubstr("feature_spec_hash"));
}

TEST_F(ModelVersionTest, WrongFeatureSpecHashIsFailedPrecondition) {
  const std::string dir = Install(1, [](nlohmann::json* m) {
    (*m)["feature_spec_hash"] = "0123456789abcdef";
  });
  absl::StatusOr<std::shared_ptr<const ModelVersion>> model =
      LoadModelVersion(dir, 1);
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(model.status().message(), HasSubstr("feature spec hash"));
}

TEST_F(ModelVersionTest, TruncatedModelIsDataLoss) {
  const std::string dir = Install(1, nullptr, [](const std::string& staged) {
    fs::resize_file(absl::StrCat(staged, "/", kModelFile),
                    fs::file_size(absl::StrCat(staged, "/", kModelFile)) / 2);
    return absl::OkStatus();
  });
  absl::StatusOr<std::shared_ptr<const ModelVersion>> model =
      LoadModelVersion(dir, 1);
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(model.status().message(), HasSubstr(kModelFile));
}

TEST_F(ModelVersionTest, AlteredHistorySnapshotIsDataLoss) {
  const std::string dir = Install(1, nullptr, [](const std::string& staged) {
    std::fstream f(absl::StrCat(staged, "/", kHistoryFile),
                   std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(100);
    f.put('\x7f');
    return absl::OkStatus();
  });
  absl::StatusOr<std::shared_ptr<const ModelVersion>> model =
      LoadModelVersion(dir, 1);
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(model.status().message(), HasSubstr(kHistoryFile));
}

TEST_F(ModelVersionTest, GoldenMismatchIsFailedPreconditionNamingTheRow) {
  const std::string dir = Install(1, [](nlohmann::json* m) {
    nlohmann::json& score = (*m)["golden"][2]["scores"][5];
    score = score.get<double>() + 0.01;
  });
  absl::StatusOr<std::shared_ptr<const ModelVersion>> model =
      LoadModelVersion(dir, 1);
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(model.status().message(), HasSubstr("golden"));
  EXPECT_THAT(model.status().message(), HasSubstr("row 2"));
}

TEST_F(ModelVersionTest, DirectoryVersionMustMatchTheManifest) {
  const std::string dir =
      Install(3, [](nlohmann::json* m) { (*m)["version"] = 2; });
  absl::StatusOr<std::shared_ptr<const ModelVersion>> model =
      LoadModelVersion(dir, 3);
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(ModelVersionTest, MissingDirectoryIsNotFound) {
  absl::StatusOr<std::shared_ptr<const ModelVersion>> model =
      LoadModelVersion(absl::StrCat(store_, "/santander/9"), 9);
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace recsys
