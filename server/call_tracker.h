// CallTracker: the calls the server is answering now, and the switch that
// makes it refuse new ones while it drains.
//
//   if (!tracker.Begin()) return Refuse(UNAVAILABLE);   // draining
//   ... answer ...
//   tracker.End();
//
//   // Shutdown:
//   tracker.StartDraining();
//   bool all_done = tracker.WaitIdle(absl::Now() + grace);
//
// Why: gRPC's Server::Shutdown(deadline) also waits for idle client
// connections to go away, so it would take the whole grace period whenever a
// client keeps a connection open. The server instead refuses new calls
// itself, waits for the calls in flight, then shuts gRPC down at once.
//
// Thread-safe.
#ifndef RECSYS_SERVER_CALL_TRACKER_H_
#define RECSYS_SERVER_CALL_TRACKER_H_

#include <cstdint>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace recsys {

class CallTracker {
 public:
  // Counts a call as in flight. Returns false (and counts nothing) once
  // StartDraining() was called: the caller refuses the call.
  bool Begin() ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    if (draining_) return false;
    ++inflight_;
    return true;
  }
  // REQUIRES: a Begin() that returned true.
  void End() ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    --inflight_;
  }

  void StartDraining() ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    draining_ = true;
  }

  // Waits until no call is in flight or `deadline` passes; returns whether
  // none is left.
  bool WaitIdle(absl::Time deadline) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    mu_.AwaitWithDeadline(absl::Condition(this, &CallTracker::IdleLocked),
                          deadline);
    return inflight_ == 0;
  }

  int64_t inflight() const ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    return inflight_;
  }

 private:
  bool IdleLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return inflight_ == 0;
  }

  mutable absl::Mutex mu_;
  int64_t inflight_ ABSL_GUARDED_BY(mu_) = 0;
  bool draining_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace recsys

#endif  // RECSYS_SERVER_CALL_TRACKER_H_
