#include "featurizer/reference.h"

#include <cmath>
#include <limits>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace recsys {
namespace {

using ::testing::ElementsAre;

constexpr float kNaNf = std::numeric_limits<float>::quiet_NaN();

// Two features: a numeric "age" and a categorical "sexo" (H, V).
FeatureSchema AgeAndSexo() {
  FeatureSchema schema;
  schema.features.push_back({"age", FeatureKind::kNumeric, 0, {}, -1, 0});
  schema.features.push_back(
      {"sexo", FeatureKind::kCategorical, 2, {"H", "V"}, -1, 0});
  return schema;
}

// Rows (age, sexo code): ages 10..40, one missing sexo, one unknown.
std::vector<float> Rows() { return {10, 0, 20, 0, 30, 1, 40, 2, kNaNf, kNaNf}; }

TEST(ReferenceDistributions, BinsNumericByQuantileAndCategoricalByCode) {
  auto ref =
      ReferenceDistributions::Build(AgeAndSexo(), Rows(), {.numeric_bins = 2});
  ASSERT_TRUE(ref.ok()) << ref.status();
  EXPECT_EQ(ref->sample_rows(), 5);
  EXPECT_THAT(ref->labels(0), ElementsAre("<=20", ">20", "missing"));
  EXPECT_THAT(ref->shares(0), ElementsAre(0.4, 0.4, 0.2));
  EXPECT_THAT(ref->labels(1),
              ElementsAre("H", "V", "other", "unknown", "missing"));
  EXPECT_THAT(ref->shares(1), ElementsAre(0.4, 0.2, 0.0, 0.2, 0.2));
  EXPECT_EQ(ref->Bin(1, 2.0f), 3);
}

TEST(ReferenceDistributions, RowsMustBeWhole) {
  std::vector<float> rows = Rows();
  rows.pop_back();
  EXPECT_EQ(
      ReferenceDistributions::Build(AgeAndSexo(), rows, {}).status().code(),
      absl::StatusCode::kInvalidArgument);
}

TEST(ReferenceDistributions, JsonRoundTrip) {
  auto ref = *ReferenceDistributions::Build(AgeAndSexo(), Rows(), {});
  auto back = ReferenceDistributions::FromJson(ref.ToJson());
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->ToJson(), ref.ToJson());
  EXPECT_EQ(back->name(1), "sexo");
}

TEST(ReferenceDistributions, CalendarFeaturesAreNotMonitored) {
  FeatureSchema schema = AgeAndSexo();
  schema.features[0].follows_calendar = true;
  auto ref = *ReferenceDistributions::Build(schema, Rows(), {});
  EXPECT_FALSE(ref.monitored(0));
  EXPECT_TRUE(ref.monitored(1));
  EXPECT_EQ(ref.num_monitored(), 1);
  // Its bins are still built and stored; the flag survives the JSON.
  EXPECT_GT(ref.num_bins(0), 1);
  auto back = ReferenceDistributions::FromJson(ref.ToJson());
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_FALSE(back->monitored(0));
  EXPECT_TRUE(back->monitored(1));

  // A reference written before the flag existed monitors every feature.
  nlohmann::json old = ref.ToJson();
  for (auto& feature : old["features"]) feature.erase("monitored");
  auto old_back = ReferenceDistributions::FromJson(old);
  ASSERT_TRUE(old_back.ok()) << old_back.status();
  EXPECT_TRUE(old_back->monitored(0));

  nlohmann::json bad = ref.ToJson();
  bad["features"][0]["monitored"] = "no";
  auto rejected = ReferenceDistributions::FromJson(bad);
  EXPECT_EQ(rejected.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(rejected.status().message()),
              ::testing::HasSubstr("\"age\": \"monitored\""));
}

TEST(ReferenceDistributions, CheckMatchesFeatureNames) {
  auto ref = *ReferenceDistributions::Build(AgeAndSexo(), Rows(), {});
  EXPECT_TRUE(ref.CheckMatches({"age", "sexo"}).ok());
  EXPECT_EQ(ref.CheckMatches({"age", "segmento"}).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_FALSE(ref.CheckMatches({"age"}).ok());
}

TEST(ReferenceDistributions, PsiOfLiveCountsAgainstTheReference) {
  auto ref =
      *ReferenceDistributions::Build(AgeAndSexo(), Rows(), {.numeric_bins = 2});
  std::vector<double> counts(ref.num_bins(0), 0.0);
  for (float age : {15.0f, 18.0f, 25.0f, 35.0f, kNaNf})
    ++counts[ref.Bin(0, age)];
  // Live (0.4, 0.4, 0.2) equals the reference.
  EXPECT_NEAR(Psi(counts, ref.shares(0)), 0.0, 1e-12);
}

TEST(PredictionReference, SharesOfTheTopProduct) {
  auto ref =
      PredictionReference::Build({2, 2, 23, 2}, {0.5f, 0.6f, 0.1f, 0.9f});
  ASSERT_TRUE(ref.ok()) << ref.status();
  EXPECT_EQ(ref->labels()[2], "ind_cco_fin_ult1");
  EXPECT_EQ(ref->shares()[2], 0.75);
  EXPECT_EQ(ref->shares()[23], 0.25);
  EXPECT_EQ(ref->shares()[0], 0.0);
  // Deciles of (0.1, 0.5, 0.6, 0.9): edges 0.1 0.5 0.6 0.9 -> 5 value bins.
  EXPECT_THAT(ref->score_binning().labels(),
              ElementsAre("<=0.1", "(0.1,0.5]", "(0.5,0.6]", "(0.6,0.9]",
                          ">0.9", "missing"));
}

TEST(PredictionReference, PsiAgainstHandWorkedShares) {
  auto ref = *PredictionReference::Build({2, 23}, {});
  std::vector<double> live(kNumProducts, 0.0);
  live[2] = 30;
  live[23] = 70;
  // 22 products at the floor on both sides contribute 0.
  EXPECT_NEAR(ref.Psi(live), 0.1694596, 1e-6);
}

TEST(PredictionReference, ProductOutOfRangeIsRejected) {
  EXPECT_FALSE(PredictionReference::Build({24}, {}).ok());
  EXPECT_FALSE(PredictionReference::Build({1, 2}, {0.5f}).ok());
}

TEST(PredictionReference, JsonRoundTrip) {
  auto ref = *PredictionReference::Build({2, 2, 5}, {0.5f, 0.6f, 0.7f});
  auto back = PredictionReference::FromJson(ref.ToJson());
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->ToJson(), ref.ToJson());
}

}  // namespace
}  // namespace recsys
