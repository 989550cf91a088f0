#include "featurizer/binning.h"

#include <cmath>
#include <limits>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace recsys {
namespace {

using ::testing::DoubleNear;
using ::testing::ElementsAre;

constexpr float kNaNf = std::numeric_limits<float>::quiet_NaN();

TEST(Psi, HandWorkedExample) {
  // a = (0.3, 0.7), e = (0.5, 0.5):
  // (0.3-0.5) ln(0.6) + (0.7-0.5) ln(1.4) = 0.1021651 + 0.0672944.
  EXPECT_NEAR(Psi({30, 70}, {0.5, 0.5}), 0.1694596, 1e-6);
}

TEST(Psi, ZeroWhenSharesMatch) {
  EXPECT_DOUBLE_EQ(Psi({25, 75}, {0.25, 0.75}), 0.0);
}

TEST(Psi, EmptyBinIsFlooredNotInfinite) {
  // The monitoring runbook's example: a bin with 10% in training and none now
  // contributes (1e-4 - 0.1) ln(1e-4 / 0.1) = 0.690.
  const double psi = Psi({0, 90}, {0.1, 0.9});
  const double empty_bin = (1e-4 - 0.1) * std::log(1e-4 / 0.1);
  const double full_bin = (1.0 - 0.9) * std::log(1.0 / 0.9);
  EXPECT_NEAR(psi, empty_bin + full_bin, 1e-12);
  EXPECT_NEAR(empty_bin, 0.690, 1e-3);
}

TEST(Psi, NaNWithoutDataOrForMismatchedBins) {
  EXPECT_TRUE(std::isnan(Psi({0, 0}, {0.5, 0.5})));
  EXPECT_TRUE(std::isnan(Psi({1, 2, 3}, {0.5, 0.5})));
}

TEST(NumericBinning, QuantileEdgesOfOneToTen) {
  Binning b = Binning::Numeric({1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 5);
  EXPECT_THAT(b.edges(), ElementsAre(2, 4, 6, 8));
  EXPECT_THAT(b.labels(),
              ElementsAre("<=2", "(2,4]", "(4,6]", "(6,8]", ">8", "missing"));
  EXPECT_THAT(b.shares(), ElementsAre(0.2, 0.2, 0.2, 0.2, 0.2, 0.0));
}

TEST(NumericBinning, BinOfAValue) {
  Binning b = Binning::Numeric({1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 5);
  EXPECT_EQ(b.Bin(-100), 0);
  EXPECT_EQ(b.Bin(2), 0);
  EXPECT_EQ(b.Bin(2.5), 1);
  EXPECT_EQ(b.Bin(8), 3);
  EXPECT_EQ(b.Bin(1e9), 4);
  EXPECT_EQ(b.Bin(kNaNf), 5);
}

TEST(NumericBinning, DuplicateEdgesCollapseForABinaryFeature) {
  // 70% zeros, 30% ones: quantile edges 0 (x7) and 1 (x2) -> {0, 1}.
  std::vector<float> values(7, 0.0f);
  values.insert(values.end(), 3, 1.0f);
  Binning b = Binning::Numeric(values, 10);
  EXPECT_THAT(b.edges(), ElementsAre(0, 1));
  EXPECT_THAT(b.labels(), ElementsAre("<=0", "(0,1]", ">1", "missing"));
  EXPECT_THAT(b.shares(), ElementsAre(DoubleNear(0.7, 1e-12),
                                      DoubleNear(0.3, 1e-12), 0, 0));
}

TEST(NumericBinning, MissingValuesHaveTheirOwnBin) {
  Binning b = Binning::Numeric({1, kNaNf, 3, kNaNf}, 2);
  EXPECT_THAT(b.edges(), ElementsAre(1));
  EXPECT_THAT(b.shares(), ElementsAre(0.25, 0.25, 0.5));
}

TEST(NumericBinning, AllMissingSampleHasOneValueBin) {
  Binning b = Binning::Numeric({kNaNf, kNaNf}, 10);
  EXPECT_THAT(b.labels(), ElementsAre("all", "missing"));
  EXPECT_EQ(b.Bin(5), 0);
  EXPECT_THAT(b.shares(), ElementsAre(0, 1));
}

TEST(NumericBinning, LabelsUseShortestFloatText) {
  Binning b = Binning::Numeric({0.1f, 87218.1f}, 2);
  EXPECT_THAT(b.labels(), ElementsAre("<=0.1", ">0.1", "missing"));
}

TEST(CategoricalBinning, TopCodesThenOtherUnknownMissing) {
  // Vocabulary of 4 (codes 0..3, unknown = 4), top 2.
  std::vector<float> codes = {0, 0, 1, 2, 3, 4, kNaNf, 0};
  Binning b = Binning::Categorical(codes, 4, {"ES", "FR", "DE", "IT"}, 2);
  EXPECT_THAT(b.labels(),
              ElementsAre("ES", "FR", "other", "unknown", "missing"));
  EXPECT_EQ(b.Bin(0), 0);
  EXPECT_EQ(b.Bin(1), 1);
  EXPECT_EQ(b.Bin(3), 2);
  EXPECT_EQ(b.Bin(4), 3);
  EXPECT_EQ(b.Bin(kNaNf), 4);
  EXPECT_THAT(b.shares(),
              ElementsAre(3.0 / 8, 1.0 / 8, 2.0 / 8, 1.0 / 8, 1.0 / 8));
}

TEST(CategoricalBinning, LabelsStayDistinctFromReservedOnes) {
  Binning b = Binning::Categorical({}, 2, {"missing", "N"}, 5);
  EXPECT_THAT(b.labels(),
              ElementsAre("code_0", "N", "other", "unknown", "missing"));
}

TEST(Binning, JsonRoundTrip) {
  for (const Binning& b :
       {Binning::Numeric({1, 2, 3, kNaNf}, 3),
        Binning::Categorical({0, 1, 2}, 2, {"H", "V"}, 20)}) {
    absl::StatusOr<Binning> back = Binning::FromJson(b.ToJson());
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(back->ToJson(), b.ToJson());
    EXPECT_EQ(back->Bin(2), b.Bin(2));
  }
}

TEST(Binning, InconsistentJsonIsRejected) {
  nlohmann::json j = Binning::Numeric({1, 2, 3}, 3).ToJson();
  j["shares"].push_back(0.5);
  EXPECT_EQ(Binning::FromJson(j).status().code(),
            absl::StatusCode::kInvalidArgument);
  j = Binning::Numeric({1, 2, 3}, 3).ToJson();
  j["edges"] = {3, 1};
  EXPECT_FALSE(Binning::FromJson(j).ok());
}

}  // namespace
}  // namespace recsys
