#include "featurizer/history_view.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace recsys {
namespace {

TEST(HistoryViewFromExplicit, ListedMonthsArePresentWithTheirProducts) {
  auto view = HistoryView::FromExplicit(
      {{1, ProductBit(2)}, {3, ProductBit(2) | ProductBit(12)}});
  ASSERT_TRUE(view.ok()) << view.status();
  EXPECT_TRUE(view->found);
  EXPECT_TRUE(view->Present(1));
  EXPECT_FALSE(view->Present(2));
  EXPECT_TRUE(view->InData(2));  // absent, not unknown
  EXPECT_EQ(view->Owned(3), ProductBit(2) | ProductBit(12));
  EXPECT_EQ(view->Owned(2), 0u);
  EXPECT_EQ(view->first_seen_months_ago, 3);
}

TEST(HistoryViewFromExplicit, EmptyHistoryIsANewCustomer) {
  auto view = HistoryView::FromExplicit({});
  ASSERT_TRUE(view.ok());
  EXPECT_FALSE(view->found);
  EXPECT_EQ(view->present, 0);
  EXPECT_EQ(view->first_seen_months_ago, -1);
  EXPECT_TRUE(view->InData(1));
}

TEST(HistoryViewFromExplicit, MonthsAgoOutOfRangeIsRejected) {
  auto view = HistoryView::FromExplicit({{1, 0}, {13, 0}});
  EXPECT_EQ(view.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(view.status().message(), ::testing::HasSubstr("history entry 1"));
  EXPECT_FALSE(HistoryView::FromExplicit({{0, 0}}).ok());
}

TEST(HistoryViewFromExplicit, MonthListedTwiceIsRejected) {
  EXPECT_THAT(HistoryView::FromExplicit({{2, 0}, {2, 1}}).status().message(),
              ::testing::HasSubstr("listed twice"));
}

TEST(HistoryViewFromExplicit, MaskBeyondTheProductsIsRejected) {
  EXPECT_FALSE(HistoryView::FromExplicit({{1, ProductBit(24)}}).ok());
}

}  // namespace
}  // namespace recsys
