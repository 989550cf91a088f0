#include "common/map_at_k.h"

#include <array>
#include <vector>

#include "gtest/gtest.h"

namespace recsys {
namespace {

// Product indices named for readable cases (kX is never added below).
constexpr int kA = 2, kB = 7, kC = 12, kD = 23, kX = 0;

ProductMask Set(std::initializer_list<int> products) {
  ProductMask mask = 0;
  for (int p : products) mask |= ProductBit(p);
  return mask;
}

double ApK(std::vector<int> predicted, ProductMask actual, int k = 7) {
  return AveragePrecisionAtK(predicted, actual, k);
}

TEST(AveragePrecisionAtKTest, WorkedExample) {
  // Hits at positions 1 and 3: (1/1 + 2/3) / min(2, 7) = 0.8333.
  EXPECT_DOUBLE_EQ(ApK({kA, kB, kC}, Set({kA, kC})), (1.0 + 2.0 / 3.0) / 2.0);
  EXPECT_NEAR(ApK({kA, kB, kC}, Set({kA, kC})), 0.8333, 1e-4);
}

TEST(AveragePrecisionAtKTest, PerfectRankingScoresOne) {
  EXPECT_DOUBLE_EQ(ApK({kA, kC, kB}, Set({kA, kC})), 1.0);  // 1/1 + 2/2, / 2.
  EXPECT_DOUBLE_EQ(ApK({kD}, Set({kD})), 1.0);
}

TEST(AveragePrecisionAtKTest, LaterHitScoresLess) {
  EXPECT_DOUBLE_EQ(ApK({kX, kA}, Set({kA})), 0.5);  // 1/2.
  EXPECT_DOUBLE_EQ(ApK({kX, kB, kC, kD, 1, 3, kA}, Set({kA})), 1.0 / 7);
}

TEST(AveragePrecisionAtKTest, DuplicatePredictionsCountOnce) {
  // kA hits at 1 (1/1); the second kA is not a new hit; kB hits at 3 (2/3).
  EXPECT_DOUBLE_EQ(ApK({kA, kA, kB}, Set({kA, kB})), (1.0 + 2.0 / 3.0) / 2.0);
  // A duplicate never inflates the score above a single hit.
  EXPECT_DOUBLE_EQ(ApK({kA, kA, kA}, Set({kA, kB})), 1.0 / 2.0);
}

TEST(AveragePrecisionAtKTest, ActualLargerThanKDividesByK) {
  // k = 2: only [kA, kB] count; 1/1 + 2/2 over min(3, 2) = 1.
  EXPECT_DOUBLE_EQ(ApK({kA, kB, kC}, Set({kA, kB, kC}), 2), 1.0);
  // k = 2: [kX, kA]: 1/2 over min(3, 2) = 0.25.
  EXPECT_DOUBLE_EQ(ApK({kX, kA, kB}, Set({kA, kB, kC}), 2), 0.25);
  // Nine added products, seven right predictions: 7/7 = 1.
  const ProductMask nine = Set({0, 1, 2, 3, 4, 5, 6, 7, 8});
  EXPECT_DOUBLE_EQ(ApK({0, 1, 2, 3, 4, 5, 6}, nine), 1.0);
}

TEST(AveragePrecisionAtKTest, PredictionsBeyondKAreIgnored) {
  EXPECT_DOUBLE_EQ(ApK({kX, 1, 3, 4, 5, 6, 8, kA}, Set({kA})), 0.0);
}

TEST(AveragePrecisionAtKTest, NoAdditionsScoresZero) {
  EXPECT_DOUBLE_EQ(ApK({kA, kB, kC}, 0), 0.0);
  EXPECT_DOUBLE_EQ(ApK({}, 0), 0.0);
}

TEST(AveragePrecisionAtKTest, NoHitsOrNoPredictionsScoreZero) {
  EXPECT_DOUBLE_EQ(ApK({kX, kB}, Set({kA})), 0.0);
  EXPECT_DOUBLE_EQ(ApK({}, Set({kA})), 0.0);
  EXPECT_DOUBLE_EQ(ApK({kA}, Set({kA}), 0), 0.0);
}

TEST(AveragePrecisionAtKTest, OutOfRangeIndicesTakeAPositionButNeverHit) {
  EXPECT_DOUBLE_EQ(ApK({-1, kA}, Set({kA})), 0.5);
  EXPECT_DOUBLE_EQ(ApK({99, 24, kA}, Set({kA})), 1.0 / 3);
}

TEST(AveragePrecisionAtKTest, TopKResultMatchesTheList) {
  std::array<float, kNumProducts> scores{};
  scores[kC] = 0.9f;  // Ranked kC, kA, kB.
  scores[kA] = 0.8f;
  scores[kB] = 0.7f;
  const TopKResult top = TopK(scores.data(), 0, 3);
  EXPECT_DOUBLE_EQ(AveragePrecisionAtK(top, Set({kA, kB}), 7),
                   ApK({kC, kA, kB}, Set({kA, kB})));
  EXPECT_DOUBLE_EQ(AveragePrecisionAtK(top, Set({kA, kB}), 7),
                   (1.0 / 2 + 2.0 / 3) / 2);
}

TEST(MapAtKTest, AveragesOverAllCustomersIncludingThoseWhoAddedNothing) {
  MapAtK map;
  EXPECT_EQ(map.k(), 7);
  map.Add(std::vector<int>{kA, kB, kC}, Set({kA, kC}));  // 0.8333
  map.Add(std::vector<int>{kA, kB, kC}, 0);              // 0, still counted
  map.Add(std::vector<int>{kD}, Set({kD}));              // 1
  EXPECT_EQ(map.customers(), 3);
  EXPECT_EQ(map.customers_with_additions(), 2);
  EXPECT_DOUBLE_EQ(map.Value(), ((1.0 + 2.0 / 3) / 2 + 0 + 1) / 3);
  EXPECT_DOUBLE_EQ(map.Ceiling(), 2.0 / 3);
}

TEST(MapAtKTest, UnpredictedCustomersScoreZeroButCount) {
  MapAtK map;
  map.Add(std::vector<int>{kA}, Set({kA}));
  map.AddUnpredicted(Set({kB}));
  EXPECT_EQ(map.customers(), 2);
  EXPECT_DOUBLE_EQ(map.Value(), 0.5);
}

TEST(MapAtKTest, EmptyIsZero) {
  EXPECT_DOUBLE_EQ(MapAtK().Value(), 0.0);
  EXPECT_DOUBLE_EQ(MapAtK().Ceiling(), 0.0);
}

TEST(MapAtKTest, MergeEqualsAddingEverythingToOne) {
  MapAtK all, first, second;
  all.Add(std::vector<int>{kA, kB}, Set({kB}));
  first.Add(std::vector<int>{kA, kB}, Set({kB}));
  all.Add(std::vector<int>{kC}, Set({kC, kD}));
  second.Add(std::vector<int>{kC}, Set({kC, kD}));
  all.Add(std::vector<int>{}, 0);
  second.Add(std::vector<int>{}, 0);
  first.Merge(second);
  EXPECT_EQ(first.customers(), all.customers());
  EXPECT_EQ(first.customers_with_additions(), all.customers_with_additions());
  EXPECT_DOUBLE_EQ(first.Value(), all.Value());
}

TEST(MapAtKTest, UsesItsK) {
  MapAtK map(1);
  map.Add(std::vector<int>{kX, kA}, Set({kA}));  // kA is beyond k = 1.
  EXPECT_DOUBLE_EQ(map.Value(), 0.0);
}

}  // namespace
}  // namespace recsys
