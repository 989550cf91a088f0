#include "common/ranking.h"

#include <array>
#include <cmath>
#include <limits>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace recsys {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

// Scores where product p scores p / 100 (so higher index = better), with
// the given overrides.
std::array<float, kNumProducts> Scores(
    std::vector<std::pair<int, float>> overrides = {}) {
  std::array<float, kNumProducts> s;
  for (int p = 0; p < kNumProducts; ++p) s[p] = p / 100.0f;
  for (auto [p, v] : overrides) s[p] = v;
  return s;
}

std::vector<int> Products(const TopKResult& top) {
  std::vector<int> out;
  for (const ScoredProduct& p : top) out.push_back(p.product);
  return out;
}

TEST(TopKTest, RanksByScoreDescending) {
  const auto scores = Scores();
  const TopKResult top = TopK(scores.data(), 0, 3);
  EXPECT_THAT(Products(top), ElementsAre(23, 22, 21));
  EXPECT_FLOAT_EQ(top.items[0].score, 0.23f);
  EXPECT_FLOAT_EQ(top.items[2].score, 0.21f);
}

TEST(TopKTest, ExcludesOwnedProducts) {
  const auto scores = Scores();
  const TopKResult top =
      TopK(scores.data(), ProductBit(23) | ProductBit(21), 3);
  EXPECT_THAT(Products(top), ElementsAre(22, 20, 19));
  EXPECT_EQ(top.Mask() & (ProductBit(23) | ProductBit(21)), 0u);
}

TEST(TopKTest, TiesGoToTheLowerProductIndex) {
  const auto scores = Scores({{5, 0.9f}, {2, 0.9f}, {17, 0.9f}});
  EXPECT_THAT(Products(TopK(scores.data(), 0, 4)), ElementsAre(2, 5, 17, 23));
}

TEST(TopKTest, ReturnsFewerWhenFewerProductsAreLeft) {
  const auto scores = Scores();
  const ProductMask all_but_two =
      kAllProducts & ~ProductBit(4) & ~ProductBit(9);
  EXPECT_THAT(Products(TopK(scores.data(), all_but_two, 7)), ElementsAre(9, 4));
  EXPECT_THAT(Products(TopK(scores.data(), kAllProducts, 7)), IsEmpty());
}

TEST(TopKTest, ClampsK) {
  const auto scores = Scores();
  EXPECT_EQ(TopK(scores.data(), 0, 0).size, 0);
  EXPECT_EQ(TopK(scores.data(), 0, -3).size, 0);
  EXPECT_EQ(TopK(scores.data(), 0, 100).size, kNumProducts);
}

TEST(TopKTest, FullRankingIsAPermutationInOrder) {
  const auto scores = Scores({{0, 0.5f}, {12, -1.0f}, {7, 0.5f}});
  const TopKResult top = TopK(scores.data(), 0, kNumProducts);
  ASSERT_EQ(top.size, kNumProducts);
  EXPECT_EQ(top.Mask(), kAllProducts);
  for (int i = 1; i < top.size; ++i) {
    const ScoredProduct& a = top.items[i - 1];
    const ScoredProduct& b = top.items[i];
    EXPECT_TRUE(a.score > b.score ||
                (a.score == b.score && a.product < b.product))
        << "position " << i;
  }
  EXPECT_EQ(top.items[kNumProducts - 1].product, 12);
}

TEST(TopKTest, NaNScoresRankLast) {
  const auto scores = Scores({{23, kNaN}, {3, kNaN}, {0, -5.0f}});
  const TopKResult top = TopK(scores.data(), 0, kNumProducts);
  EXPECT_EQ(top.items[0].product, 22);
  EXPECT_EQ(top.items[21].product, 0);
  EXPECT_EQ(top.items[22].product, 3);
  EXPECT_EQ(top.items[23].product, 23);
  EXPECT_TRUE(std::isnan(top.items[23].score));
}

}  // namespace
}  // namespace recsys
