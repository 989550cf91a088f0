// Log lines from the libraries the server uses (protobuf, gRPC core), routed
// through LogEvent at a bounded rate: a client sending 20,000 malformed
// messages in 5 s once made protobuf write 4.7 MB of "libprotobuf ERROR"
// lines. At most `max_lines` lines per `window` are written; the rest are
// counted and reported in one line when the next window starts.
//
//   InstallLibraryLogHandlers();   // once, at start (recsys-server's main)
//
// LogThrottle is the counter behind it, usable on its own. Thread-safe.
#ifndef RECSYS_SERVER_LOG_THROTTLE_H_
#define RECSYS_SERVER_LOG_THROTTLE_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace recsys {

class LogThrottle {
 public:
  LogThrottle(int max_lines, absl::Duration window)
      : max_lines_(max_lines), window_(window) {}

  // Whether a line arriving at `now` may be written. When a new window
  // starts after lines were dropped, `*dropped_note` is set to a line saying
  // how many (to be written first).
  bool Allow(absl::Time now, std::optional<std::string>* dropped_note)
      ABSL_LOCKS_EXCLUDED(mu_);

  int64_t dropped_total() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  const int max_lines_;
  const absl::Duration window_;
  mutable absl::Mutex mu_;
  absl::Time window_start_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  int lines_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t dropped_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t dropped_total_ ABSL_GUARDED_BY(mu_) = 0;
};

// Sends protobuf's and gRPC core's log lines through LogEvent, at most 10 a
// minute each (their errors are about what clients send, one per call).
void InstallLibraryLogHandlers();

}  // namespace recsys

#endif  // RECSYS_SERVER_LOG_THROTTLE_H_
