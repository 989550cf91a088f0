#include "server/liveness_watchdog.h"

#include <algorithm>
#include <mutex>
#include <utility>

namespace recsys {

LivenessWatchdog::LivenessWatchdog(const LivenessWatchdogOptions& options,
                                   std::function<absl::Duration()> stalled_for,
                                   std::function<void(bool alive)> on_change)
    : stuck_after_(options.stuck_after),
      check_every_(std::clamp(options.stuck_after / 4, absl::Milliseconds(1),
                              absl::Seconds(1))),
      stalled_for_(std::move(stalled_for)),
      on_change_(std::move(on_change)),
      thread_([this] { Run(); }) {}

LivenessWatchdog::~LivenessWatchdog() { Stop(); }

bool LivenessWatchdog::alive() const {
  absl::MutexLock lock(&mu_);
  return alive_;
}

void LivenessWatchdog::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  std::call_once(joined_, [this] { thread_.join(); });
}

void LivenessWatchdog::Run() {
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      mu_.AwaitWithTimeout(absl::Condition(&stopping_), check_every_);
      if (stopping_) return;
    }
    const bool alive = stalled_for_() < stuck_after_;
    {
      absl::MutexLock lock(&mu_);
      if (alive == alive_) continue;
      alive_ = alive;
    }
    on_change_(alive);  // outside mu_: it may take the caller's locks
  }
}

}  // namespace recsys
