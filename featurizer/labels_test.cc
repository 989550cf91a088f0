#include "featurizer/labels.h"

#include "gtest/gtest.h"

namespace recsys {
namespace {

constexpr ProductMask kCurrent = ProductBit(2);
constexpr ProductMask kPayroll = ProductBit(21);

HistoryView LastMonth(ProductMask owned) {
  return *HistoryView::FromExplicit({{1, owned}});
}

TEST(AddedProducts, NoLabelsWhenThePreviousMonthIsNotInTheData) {
  // The first month of a file: the demo counted every product as added.
  EXPECT_EQ(AddedProducts(kCurrent | kPayroll, HistoryView()), std::nullopt);
}

TEST(AddedProducts, OwnedNowAndNotLastMonth) {
  EXPECT_EQ(AddedProducts(kCurrent | kPayroll, LastMonth(kCurrent)), kPayroll);
}

TEST(AddedProducts, NothingAddedWhenOwnershipIsUnchanged) {
  EXPECT_EQ(AddedProducts(kCurrent, LastMonth(kCurrent)), 0u);
}

TEST(AddedProducts, DroppedProductsAreNotLabels) {
  EXPECT_EQ(AddedProducts(kCurrent, LastMonth(kCurrent | kPayroll)), 0u);
}

TEST(AddedProducts, CustomerAbsentLastMonthAddedEverythingOwned) {
  HistoryView absent = *HistoryView::FromExplicit({{2, kCurrent}});
  EXPECT_EQ(AddedProducts(kCurrent | kPayroll, absent), kCurrent | kPayroll);
}

}  // namespace
}  // namespace recsys
