#include "server/worker_pool.h"

#include <atomic>
#include <memory>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "server/liveness_watchdog.h"

namespace recsys {
namespace {

bool WaitUntil(const std::function<bool()>& done) {
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (!done()) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(1));
  }
  return true;
}

std::unique_ptr<WorkerPool> OneThread() {
  absl::StatusOr<std::unique_ptr<WorkerPool>> pool =
      WorkerPool::Create({.threads = 1});
  EXPECT_TRUE(pool.ok()) << pool.status();
  return *std::move(pool);
}

TEST(WorkerPoolTest, AnEmptyQueueIsNeverStalled) {
  std::unique_ptr<WorkerPool> pool = OneThread();
  EXPECT_EQ(pool->StalledFor(absl::Now() + absl::Hours(1)),
            absl::ZeroDuration());
  pool->Submit([](int) {});
  ASSERT_TRUE(WaitUntil([&] { return pool->completed() == 1; }));
  EXPECT_EQ(pool->StalledFor(absl::Now() + absl::Hours(1)),
            absl::ZeroDuration());
}

TEST(WorkerPoolTest, QueuedWorkBehindAStuckThreadIsStalledUntilATaskFinishes) {
  std::unique_ptr<WorkerPool> pool = OneThread();
  absl::Notification started, release_first, release_second;
  pool->Submit([&](int) {
    started.Notify();
    release_first.WaitForNotification();
  });
  started.WaitForNotification();
  // The only thread is busy and the queue is empty: not stalled.
  EXPECT_EQ(pool->StalledFor(absl::Now() + absl::Hours(1)),
            absl::ZeroDuration());
  pool->Submit([&](int) { release_second.WaitForNotification(); });
  pool->Submit([](int) {});
  const absl::Time before_release = absl::Now();
  EXPECT_GE(pool->StalledFor(before_release + absl::Seconds(10)),
            absl::Seconds(10));

  // The first task finishes: the stall is measured from then on.
  release_first.Notify();
  ASSERT_TRUE(WaitUntil([&] { return pool->completed() == 1; }));
  EXPECT_EQ(pool->queued(), 1);
  EXPECT_LE(pool->StalledFor(before_release + absl::Seconds(10)),
            absl::Seconds(10));
  release_second.Notify();
  ASSERT_TRUE(WaitUntil([&] { return pool->completed() == 3; }));
  EXPECT_EQ(pool->StalledFor(absl::Now()), absl::ZeroDuration());
}

TEST(LivenessWatchdogTest, ReportsAStallAndTheRecovery) {
  std::atomic<int64_t> stalled_ms{0};
  std::atomic<int> changes{0};
  std::atomic<bool> last{true};
  LivenessWatchdog watchdog(
      {.stuck_after = absl::Milliseconds(40)},
      [&] { return absl::Milliseconds(stalled_ms.load()); },
      [&](bool alive) {
        last.store(alive);
        changes.fetch_add(1);
      });
  EXPECT_TRUE(watchdog.alive());
  stalled_ms.store(39);  // below the limit: still alive
  absl::SleepFor(absl::Milliseconds(100));
  EXPECT_EQ(changes.load(), 0);
  stalled_ms.store(40);
  ASSERT_TRUE(WaitUntil([&] { return changes.load() == 1; }));
  EXPECT_FALSE(last.load());
  EXPECT_FALSE(watchdog.alive());
  stalled_ms.store(0);
  ASSERT_TRUE(WaitUntil([&] { return changes.load() == 2; }));
  EXPECT_TRUE(last.load());
  watchdog.Stop();
  watchdog.Stop();  // idempotent
}

}  // namespace
}  // namespace recsys
