#include "common/traffic_split.h"

#include <cmath>
#include <cstdint>

#include "gtest/gtest.h"

namespace recsys {
namespace {

// Hand-checked values pin the function down, so that a change to it (which
// would move customers between versions mid-experiment, and break other
// services that reproduce it) fails here.
TEST(TrafficSplitTest, BucketIsAFixedFunctionOfTheCustomerCode) {
  EXPECT_DOUBLE_EQ(CustomerBucket(1), 0.36191915247937456);
  EXPECT_DOUBLE_EQ(CustomerBucket(15889), 0.059085747541442579);
  EXPECT_DOUBLE_EQ(CustomerBucket(1553689), 0.73195321073855768);
  for (int64_t id : {int64_t{1}, int64_t{15889}, int64_t{1553689}}) {
    const double b = CustomerBucket(id);
    EXPECT_GE(b, 0.0);
    EXPECT_LT(b, 1.0);
  }
  EXPECT_NE(CustomerBucket(15889), CustomerBucket(15890));
}

TEST(TrafficSplitTest, ShareZeroRoutesNobodyAndShareOneEverybody) {
  for (int64_t id = 1; id <= 1000; ++id) {
    EXPECT_FALSE(RoutesToChallenger(id, 0.0)) << id;
    EXPECT_TRUE(RoutesToChallenger(id, 1.0)) << id;
  }
}

TEST(TrafficSplitTest, ALargerShareOnlyAddsCustomers) {
  for (int64_t id = 1; id <= 20000; ++id) {
    if (RoutesToChallenger(id, 0.1)) {
      EXPECT_TRUE(RoutesToChallenger(id, 0.2));
    }
  }
}

// Over 100,000 consecutive customer codes (the Kaggle codes are consecutive
// integers) the challenger's share is within 5 standard deviations of the
// binomial: for p = 0.1, sd = sqrt(n p (1-p)) = 94.9 customers, so the count
// must lie in 10000 +- 474. Also for sparse codes (every 7th).
TEST(TrafficSplitTest, ShareIsCloseToTargetOver100kCustomers) {
  constexpr int64_t kN = 100000;
  for (double p : {0.1, 0.5}) {
    for (int64_t stride : {int64_t{1}, int64_t{7}}) {
      int64_t hits = 0;
      for (int64_t i = 0; i < kN; ++i)
        hits += RoutesToChallenger(15889 + i * stride, p) ? 1 : 0;
      const double sd = std::sqrt(kN * p * (1 - p));
      EXPECT_NEAR(static_cast<double>(hits), kN * p, 5 * sd)
          << "share " << p << " stride " << stride;
    }
  }
}

}  // namespace
}  // namespace recsys
