// ExplainRow on the trained bundle: for several customers and every product,
// bias + contributions = the booster's own margin (an independent
// output_margin prediction), the listed features and the rest add up, and
// the listed features are the largest by |contribution|.
#include "model_store/explainer.h"

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "model_store/model_version.h"
#include "model_store/scorer.h"
#include "tests/trained_fixture.h"

namespace recsys {
namespace {

namespace fs = std::filesystem;

constexpr int kAllFeatures = 1000;  // more than the spec has

class ExplainerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    absl::StatusOr<testing::TrainedFixture> fixture =
        testing::GetTrainedFixture();
    ASSERT_TRUE(fixture.ok()) << fixture.status();
    store_ = new std::string(testing::NewTempDir("explainer-test"));
    absl::StatusOr<std::shared_ptr<const ModelVersion>> model =
        testing::InstallAndLoadBundle(*fixture, *store_);
    ASSERT_TRUE(model.ok()) << model.status();
    model_ = new std::shared_ptr<const ModelVersion>(*model);
    features_ = new std::vector<float>();
    absl::StatusOr<std::vector<RawRecord>> customers =
        testing::ReadCleanRecords(fixture->test_csv, 8);
    ASSERT_TRUE(customers.ok()) << customers.status();
    // The rows as the scorer featurizes them (history from the snapshot).
    std::vector<ScoreInput> rows;
    for (const RawRecord& r : *customers) rows.push_back({&r, nullptr});
    std::vector<RowScore> out(rows.size());
    ScoreScratch scratch;
    ScoreTimings timings;
    ASSERT_TRUE(
        ScoreBatch(**model_, rows, 7, &scratch, absl::MakeSpan(out), &timings)
            .ok());
    *features_ = scratch.features;
  }
  static void TearDownTestSuite() {
    delete model_;
    delete features_;
    std::error_code ec;
    if (store_ != nullptr) fs::remove_all(*store_, ec);
    delete store_;
  }

  static const ModelVersion& model() { return **model_; }
  static int rows() {
    return static_cast<int>(features_->size() / model().num_features());
  }
  static const float* Row(int r) {
    return features_->data() + r * model().num_features();
  }

  // Every product, in index order.
  static TopKResult AllProducts() {
    TopKResult all;
    for (int p = 0; p < kNumProducts; ++p) all.items[all.size++] = {p, 0.0f};
    return all;
  }

  static std::string* store_;
  static std::shared_ptr<const ModelVersion>* model_;
  static std::vector<float>* features_;
};

std::string* ExplainerTest::store_ = nullptr;
std::shared_ptr<const ModelVersion>* ExplainerTest::model_ = nullptr;
std::vector<float>* ExplainerTest::features_ = nullptr;

TEST_F(ExplainerTest, BiasPlusContributionsIsTheBoostersMargin) {
  ASSERT_GE(rows(), 5);
  const int nf = model().num_features();
  ExplainScratch scratch;
  for (int r = 0; r < rows(); ++r) {
    std::vector<float> margins(kNumProducts);
    ASSERT_TRUE(
        model().booster().PredictMargin(Row(r), 1, nf, margins.data()).ok());
    std::vector<ProductExplanation> why;
    ASSERT_TRUE(
        ExplainRow(model(), Row(r), AllProducts(), kAllFeatures, &scratch, &why)
            .ok());
    ASSERT_EQ(why.size(), static_cast<size_t>(kNumProducts));
    for (int p = 0; p < kNumProducts; ++p) {
      EXPECT_EQ(why[p].product, p);
      EXPECT_NEAR(why[p].margin, margins[p], 1e-4)
          << "row " << r << " product " << p;
    }
  }
}

TEST_F(ExplainerTest, ListedFeaturesAndOthersAddUpToTheMargin) {
  ExplainScratch scratch;
  const int nf = model().num_features();
  for (int r = 0; r < rows(); ++r) {
    std::vector<ProductExplanation> why;
    ASSERT_TRUE(
        ExplainRow(model(), Row(r), AllProducts(), 3, &scratch, &why).ok());
    for (const ProductExplanation& e : why) {
      ASSERT_LE(e.features.size(), 3u);
      double sum = e.bias + e.others_contribution;
      for (const FeatureShare& f : e.features) {
        sum += f.contribution;
        ASSERT_GE(f.feature, 0);
        ASSERT_LT(f.feature, nf);
        const float seen = Row(r)[f.feature];
        EXPECT_TRUE(f.value == seen ||
                    (std::isnan(f.value) && std::isnan(seen)));
        EXPECT_NE(f.contribution, 0.0f);
      }
      EXPECT_NEAR(sum, e.margin, 1e-9);
      for (size_t j = 1; j < e.features.size(); ++j) {
        EXPECT_GE(std::fabs(e.features[j - 1].contribution),
                  std::fabs(e.features[j].contribution));
      }
    }
  }
}

TEST_F(ExplainerTest, TheListedFeaturesAreTheLargest) {
  ExplainScratch scratch;
  std::vector<ProductExplanation> all, few;
  ASSERT_TRUE(
      ExplainRow(model(), Row(0), AllProducts(), kAllFeatures, &scratch, &all)
          .ok());
  ASSERT_TRUE(
      ExplainRow(model(), Row(0), AllProducts(), 2, &scratch, &few).ok());
  for (int p = 0; p < kNumProducts; ++p) {
    ASSERT_LE(few[p].features.size(), all[p].features.size());
    for (size_t j = 0; j < few[p].features.size(); ++j) {
      EXPECT_EQ(few[p].features[j].feature, all[p].features[j].feature);
    }
    EXPECT_DOUBLE_EQ(few[p].margin, all[p].margin);
  }
}

TEST_F(ExplainerTest, ExplainsOnlyTheProductsAsked) {
  ExplainScratch scratch;
  TopKResult two;
  two.items[two.size++] = {23, 0.5f};
  two.items[two.size++] = {2, 0.1f};
  std::vector<ProductExplanation> why;
  ASSERT_TRUE(ExplainRow(model(), Row(1), two, 5, &scratch, &why).ok());
  ASSERT_EQ(why.size(), 2u);
  EXPECT_EQ(why[0].product, 23);
  EXPECT_EQ(why[1].product, 2);
  ASSERT_TRUE(
      ExplainRow(model(), Row(1), TopKResult(), 5, &scratch, &why).ok());
  EXPECT_TRUE(why.empty());
}

}  // namespace
}  // namespace recsys
