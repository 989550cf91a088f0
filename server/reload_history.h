// ReloadHistory: the last N model-store events worth showing an operator
// (the web console's model panel, GET /v1/models/MODEL/drift): versions
// loaded, versions that failed to load (with the reason), swaps of the
// serving version and challenger changes, each with its time. Bounded: the
// oldest event is dropped once `capacity` are kept.
//
//   ReloadHistory history(32);
//   history.Add({.time = absl::Now(), .kind = ReloadEvent::kSwap,
//                .version = 2, .previous = 1});
//   for (const ReloadEvent& e : history.Events()) Show(e);  // oldest first
//
// Memory: capacity events of a few dozen bytes plus their text (a failure's
// reason is cut to kMaxReloadText bytes).
//
// Thread-safe.
#ifndef RECSYS_SERVER_RELOAD_HISTORY_H_
#define RECSYS_SERVER_RELOAD_HISTORY_H_

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace recsys {

// Longest text an event keeps, in bytes (longer is cut, marked "...").
inline constexpr size_t kMaxReloadText = 400;
// Events the server keeps.
inline constexpr int kDefaultReloadHistory = 32;

struct ReloadEvent {
  enum Kind {
    kLoaded,      // `version` loaded, validated and warmed
    kFailed,      // `version` failed to load: `text` says why
    kSwap,        // `version` serves now, `previous` before (0: none)
    kChallenger,  // `version` is the challenger (0: none), `share` of customers
  };
  absl::Time time;
  Kind kind = kLoaded;
  int64_t version = 0;
  int64_t previous = 0;
  double share = 0;
  double seconds = 0;  // kLoaded, kFailed: how long the load took
  std::string text;

  // "loaded", "failed", "swap", "challenger".
  static absl::string_view KindName(Kind kind);
};

class ReloadHistory {
 public:
  // REQUIRES: capacity >= 1.
  explicit ReloadHistory(int capacity = kDefaultReloadHistory)
      : capacity_(capacity < 1 ? 1 : capacity) {}

  // Keeps `event` (its text cut to kMaxReloadText bytes), dropping the
  // oldest when full.
  void Add(ReloadEvent event) ABSL_LOCKS_EXCLUDED(mu_);

  // The events kept, oldest first.
  std::vector<ReloadEvent> Events() const ABSL_LOCKS_EXCLUDED(mu_);

  int capacity() const { return capacity_; }

 private:
  const int capacity_;
  mutable absl::Mutex mu_;
  std::deque<ReloadEvent> events_ ABSL_GUARDED_BY(mu_);
};

}  // namespace recsys

#endif  // RECSYS_SERVER_RELOAD_HISTORY_H_
