#include "server/log_throttle.h"

#include <gtest/gtest.h>

namespace recsys {
namespace {

TEST(LogThrottleTest, AllowsTheFirstLinesOfAWindowAndCountsTheRest) {
  LogThrottle throttle(3, absl::Minutes(1));
  const absl::Time t0 = absl::FromUnixSeconds(1000);
  std::optional<std::string> note;
  int allowed = 0;
  for (int i = 0; i < 20000; ++i) allowed += throttle.Allow(t0, &note);
  EXPECT_EQ(allowed, 3);
  EXPECT_FALSE(note.has_value());
  EXPECT_EQ(throttle.dropped_total(), 19997);
}

TEST(LogThrottleTest, ANewWindowReportsWhatWasDropped) {
  LogThrottle throttle(1, absl::Minutes(1));
  const absl::Time t0 = absl::FromUnixSeconds(1000);
  std::optional<std::string> note;
  EXPECT_TRUE(throttle.Allow(t0, &note));
  EXPECT_FALSE(throttle.Allow(t0 + absl::Seconds(1), &note));
  EXPECT_FALSE(throttle.Allow(t0 + absl::Seconds(2), &note));
  EXPECT_TRUE(throttle.Allow(t0 + absl::Seconds(61), &note));
  ASSERT_TRUE(note.has_value());
  EXPECT_NE(note->find("2 similar lines dropped"), std::string::npos) << *note;
}

}  // namespace
}  // namespace recsys
