// LivenessWatchdog: a thread that decides whether the process still works,
// for the "liveness" health service (Kubernetes livenessProbe): the process
// is wedged when work has waited `stuck_after` with nothing finishing
// (WorkerPool::StalledFor), and alive again once work moves.
//
//   LivenessWatchdog watchdog(
//       {.stuck_after = absl::Seconds(60)},
//       [&] { return pool->StalledFor(absl::Now()); },
//       [&](bool alive) { health->SetServingStatus("liveness", alive); });
//   ...
//   watchdog.Stop();
//
// It starts alive; `on_change` is called (from the watchdog's thread) only
// when the verdict changes. It checks every stuck_after / 4, at least every
// second and at most every millisecond.
//
// Thread-safe: alive() and Stop() may be called from any thread (Stop not
// from on_change).
#ifndef RECSYS_SERVER_LIVENESS_WATCHDOG_H_
#define RECSYS_SERVER_LIVENESS_WATCHDOG_H_

#include <functional>
#include <mutex>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace recsys {

struct LivenessWatchdogOptions {
  // A stall this long (or longer) means wedged. Default 60 s.
  absl::Duration stuck_after = absl::Seconds(60);
};

class LivenessWatchdog {
 public:
  // Starts the thread. `stalled_for` says how long work has waited with no
  // progress; `on_change(alive)` hears each change of verdict. Both must
  // stay callable until Stop() returns. REQUIRES: stuck_after > 0.
  LivenessWatchdog(const LivenessWatchdogOptions& options,
                   std::function<absl::Duration()> stalled_for,
                   std::function<void(bool alive)> on_change);
  ~LivenessWatchdog();  // Stop()
  LivenessWatchdog(const LivenessWatchdog&) = delete;
  LivenessWatchdog& operator=(const LivenessWatchdog&) = delete;

  // The last verdict.
  bool alive() const ABSL_LOCKS_EXCLUDED(mu_);

  // Ends the thread. Idempotent.
  void Stop() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  void Run() ABSL_LOCKS_EXCLUDED(mu_);

  const absl::Duration stuck_after_;
  const absl::Duration check_every_;
  const std::function<absl::Duration()> stalled_for_;
  const std::function<void(bool)> on_change_;

  mutable absl::Mutex mu_;
  bool alive_ ABSL_GUARDED_BY(mu_) = true;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;

  std::once_flag joined_;
  std::thread thread_;  // last: starts once the fields above exist
};

}  // namespace recsys

#endif  // RECSYS_SERVER_LIVENESS_WATCHDOG_H_
