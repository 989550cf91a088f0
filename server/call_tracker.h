// CallTracker: the calls the server is answering now, the caps on how many
// it answers at once, and the switch that makes it refuse new ones while it
// drains.
//
//   switch (tracker.Begin(CallKind::kStream)) {
//     case Admission::kAdmitted: ... answer ...; tracker.End(kStream); break;
//     case Admission::kDraining: refuse with UNAVAILABLE
//     case Admission::kOverCapacity: refuse with RESOURCE_EXHAUSTED
//   }
//
//   // Shutdown:
//   tracker.StartDraining();
//   bool all_done = tracker.WaitIdle(absl::Now() + grace);
//
// Why the caps: each call holds memory (a stream up to its messages in
// flight and its answers waiting to be written), so the number of calls is a
// factor of the server's memory bound (server/memory_bound.h). A call over a
// cap is refused at once with RESOURCE_EXHAUSTED, which clients retry later.
//
// Why draining here: gRPC's Server::Shutdown(deadline) also waits for idle
// client connections to go away, so it would take the whole grace period
// whenever a client keeps a connection open. The server instead refuses new
// calls itself, waits for the calls in flight, then shuts gRPC down at once.
//
// Thread-safe.
#ifndef RECSYS_SERVER_CALL_TRACKER_H_
#define RECSYS_SERVER_CALL_TRACKER_H_

#include <cstdint>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace recsys {

enum class CallKind { kUnary, kStream };
enum class Admission { kAdmitted, kDraining, kOverCapacity };

struct CallLimits {
  // Streams answered at once; more are refused. 0 = no cap. Default 16.
  int max_streams = 16;
  // Unary calls answered at once; more are refused. 0 = no cap. Default 64.
  int max_unary = 64;
};

class CallTracker {
 public:
  explicit CallTracker(const CallLimits& limits = {}) : limits_(limits) {}

  // Counts a call of `kind` as in flight when admitted; counts nothing
  // otherwise (draining, or the cap for `kind` is reached).
  Admission Begin(CallKind kind) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    if (draining_) return Admission::kDraining;
    int64_t& count = kind == CallKind::kStream ? streams_ : unary_;
    const int cap =
        kind == CallKind::kStream ? limits_.max_streams : limits_.max_unary;
    if (cap > 0 && count >= cap) return Admission::kOverCapacity;
    ++count;
    return Admission::kAdmitted;
  }
  // REQUIRES: a Begin(kind) that returned kAdmitted, once.
  void End(CallKind kind) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    --(kind == CallKind::kStream ? streams_ : unary_);
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
    return IdleLocked();
  }

  int64_t inflight() const ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    return streams_ + unary_;
  }
  int64_t streams() const ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    return streams_;
  }
  const CallLimits& limits() const { return limits_; }

 private:
  bool IdleLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return streams_ + unary_ == 0;
  }

  const CallLimits limits_;
  mutable absl::Mutex mu_;
  int64_t streams_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t unary_ ABSL_GUARDED_BY(mu_) = 0;
  bool draining_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace recsys

#endif  // RECSYS_SERVER_CALL_TRACKER_H_
