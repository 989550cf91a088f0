#include "training/evaluation.h"

#include "gtest/gtest.h"

namespace recsys {
namespace {

// A month of `customers` customers; `adders` lists (added, owned last month).
MonthData Month(int64_t customers, std::vector<std::pair<ProductMask, ProductMask>> adders) {
  MonthData m;
  m.customers = customers;
  m.labeled = true;
  for (auto [added, owned] : adders) {
    m.added.push_back(added);
    m.owned_last.push_back(owned);
    for (int p = 0; p < kNumProducts; ++p) {
      if (added & ProductBit(p)) ++m.additions[p];
    }
  }
  return m;
}

TEST(CeilingMap7, IsTheShareOfCustomersWhoAddedSomething) {
  EXPECT_DOUBLE_EQ(CeilingMap7(Month(10, {{ProductBit(1), 0}, {ProductBit(2) | ProductBit(3), 0}})),
                   0.2);
}

TEST(PopularityMap7, RanksByLastMonthsAdditionsAndSkipsOwnedProducts) {
  // Last month: product 5 added 3 times, product 7 twice, product 9 once.
  MonthData previous = Month(100, {{ProductBit(5) | ProductBit(7), 0},
                                   {ProductBit(5) | ProductBit(7) | ProductBit(9), 0},
                                   {ProductBit(5), 0}});
  // Customer A adds 7: ranking 5, 7, 9, ... -> hit at rank 2: AP = 1/2.
  // Customer B owns 5 and adds 9: ranking 7, 9, ... -> hit at rank 2: AP = 1/2.
  // Customer C adds 5 and 9: hits at 1 and 3 -> (1/1 + 2/3) / 2 = 0.8333.
  MonthData month = Month(4, {{ProductBit(7), 0},
                              {ProductBit(9), ProductBit(5)},
                              {ProductBit(5) | ProductBit(9), 0}});
  EXPECT_NEAR(PopularityMap7(previous, month), (0.5 + 0.5 + (1.0 + 2.0 / 3) / 2) / 4, 1e-12);
}

TEST(PopularityMap7, ACustomerAddingMoreThanSevenProductsIsCappedAtSeven) {
  MonthData previous;
  for (int p = 0; p < kNumProducts; ++p) previous.additions[p] = kNumProducts - p;
  // Adds products 0..9, ranked 0..6 first: seven hits out of min(10, 7): AP = 1.
  MonthData month = Month(1, {{(ProductMask{1} << 10) - 1, 0}});
  EXPECT_DOUBLE_EQ(PopularityMap7(previous, month), 1.0);
}

}  // namespace
}  // namespace recsys
