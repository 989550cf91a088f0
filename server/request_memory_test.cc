#include "server/request_memory.h"

#include <gtest/gtest.h>

#include <vector>

namespace recsys {
namespace {

TEST(RequestMemoryBudgetTest, GrantsAtOnceWhileThereIsRoom) {
  RequestMemoryBudget budget(100);
  int64_t got = -1;
  budget.Reserve(60, [&](int64_t reserved) { got = reserved; });
  EXPECT_EQ(got, 60);
  EXPECT_EQ(budget.in_use(), 60);
}

TEST(RequestMemoryBudgetTest, WaitersAreGrantedInOrderWhenMemoryIsReleased) {
  RequestMemoryBudget budget(100);
  std::vector<int> order;
  budget.Reserve(80, [&](int64_t) { order.push_back(1); });
  budget.Reserve(50, [&](int64_t) { order.push_back(2); });
  budget.Reserve(10, [&](int64_t) { order.push_back(3); });  // waits behind 2
  EXPECT_EQ(order, std::vector<int>{1});
  EXPECT_EQ(budget.waiting(), 2);
  budget.Release(80);
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(budget.in_use(), 60);
  EXPECT_EQ(budget.waiting(), 0);
}

TEST(RequestMemoryBudgetTest, AReservationOverTheCapacityIsClampedToIt) {
  RequestMemoryBudget budget(100);
  int64_t got = -1;
  budget.Reserve(1000, [&](int64_t reserved) { got = reserved; });
  EXPECT_EQ(got, 100);
  int64_t second = -1;
  budget.Reserve(1, [&](int64_t reserved) { second = reserved; });
  EXPECT_EQ(second, -1);  // waits: the whole budget is taken
  budget.Release(100);
  EXPECT_EQ(second, 1);
}

TEST(RequestMemoryBudgetTest, PartialReleaseGrantsWhatNowFits) {
  RequestMemoryBudget budget(100);
  budget.Reserve(100, [](int64_t) {});
  bool granted = false;
  budget.Reserve(30, [&](int64_t) { granted = true; });
  budget.Release(20);
  EXPECT_FALSE(granted);
  budget.Release(10);
  EXPECT_TRUE(granted);
}

}  // namespace
}  // namespace recsys
