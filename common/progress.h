// Progress of a long job (scoring a file, training, generating data) on
// stderr, in the two forms an operator needs:
//   - on a terminal, one line rewritten in place at most every 0.2 s:
//       validation: round 37/60 (61.7%)  2.1 rounds/s  elapsed 0:17  ETA 0:11
//   - otherwise (a log file, a Kubernetes Job, CI), one plain line every
//     `interval` (default 10 s) so a log shows the job is alive and how far it
//     is, plus a line when a phase ends:
//       [progress] validation: round 37/60 (61.7%)  2.1 rounds/s  elapsed ...
//       [progress] validation: done, 45 rounds in 0:21 (2.1 rounds/s)
//
// A job is a sequence of phases; each has a name, a unit and a total (0 when
// unknown: the line then shows no percentage and no ETA). The rate and the
// ETA are those of the phase so far: ETA = (total - done) / (done / elapsed).
//
//   ProgressOptions options;
//   options.terminal = IsTerminal(STDERR_FILENO);
//   options.interval = absl::Seconds(10);
//   Progress progress(options);
//   progress.Start("validation", /*total=*/60, "rounds");
//   for (int round = 0; round < 60; ++round) {
//     ...
//     progress.Update(round + 1);
//   }
//   progress.Finish();
//   progress.Log("best number of rounds: 37");  // a log line between phases
//
// Thread-safe: every method may be called from any thread (a scorer's
// monitor thread updates while the main thread logs).
#ifndef RECSYS_COMMON_PROGRESS_H_
#define RECSYS_COMMON_PROGRESS_H_

#include <cstdint>
#include <functional>
#include <ostream>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace recsys {

// True when `fd` is a terminal (isatty), e.g. IsTerminal(STDERR_FILENO).
bool IsTerminal(int fd);

// The help text of the programs' --progress-seconds flag (one text, one
// place), and its default.
inline constexpr char kProgressSecondsHelp[] =
    "Seconds between two progress lines on stderr when it is not a terminal "
    "(a log file, a Kubernetes Job, CI): each line gives the phase, done/total, "
    "rate, elapsed time and ETA. On a terminal one line is redrawn in place "
    "instead. 0 = a line at every update; negative = no progress lines.";
inline constexpr double kDefaultProgressSeconds = 10;

struct ProgressOptions {
  // Where the lines go; borrowed, must outlive the Progress. Default
  // std::cerr.
  std::ostream* out = nullptr;
  // Rewrite one line in place (a terminal) instead of writing plain lines.
  // Default false.
  bool terminal = false;
  // Plain form: time between two progress lines of a phase (the first comes
  // `interval` after the phase starts; a phase shorter than that prints only
  // its "done" line). Zero prints every update. Negative, in both forms: no
  // progress lines at all, only what Log() writes. Default 10 s.
  absl::Duration interval = absl::Seconds(10);
  // Terminal form: time between two redraws. Default 0.2 s.
  absl::Duration redraw = absl::Milliseconds(200);
  // The clock, replaceable in tests. Default absl::Now.
  std::function<absl::Time()> now;
};

// Progress on std::cerr: the terminal form when stderr is a terminal, else
// plain lines every `interval_seconds` (the --progress-seconds flag).
ProgressOptions StderrProgressOptions(double interval_seconds);

// What one progress line shows.
struct ProgressState {
  std::string phase;     // "validation", "score", ...
  std::string unit;      // "rounds", "rows", "bytes" ("bytes" prints MB)
  int64_t done = 0;      // units done in this phase
  int64_t total = 0;     // units in the phase; 0 = unknown
  absl::Duration elapsed;  // since the phase started
  std::string detail;    // appended as is, e.g. "12 failed"; may be ""
};

// The text of a progress line, without the "[progress] " prefix or a line
// end, e.g. "grid 2/4: round 37/60 (61.7%)  2.1 rounds/s  elapsed 0:17
// ETA 0:11". Rounds are written "round D/T", other units "D/T unit".
// Pure; exposed for tests.
std::string FormatProgress(const ProgressState& state);

// The line written when a phase ends, e.g. "validation: done, 45 rounds in
// 0:21 (2.1 rounds/s)".
std::string FormatProgressDone(const ProgressState& state);

// "0:07", "12:03", "1:02:03" (hours appear from one hour on).
std::string FormatClock(absl::Duration d);

class Progress {
 public:
  explicit Progress(ProgressOptions options);
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;
  // Finishes a phase that had updates and ends an open terminal line.
  ~Progress();

  // Starts a phase (finishing the previous one if it was not finished).
  // `total` = 0 when unknown.
  void Start(const std::string& phase, int64_t total, const std::string& unit)
      ABSL_LOCKS_EXCLUDED(mu_);

  // `done` units of the current phase are done (cumulative, not a delta);
  // `detail` is shown after the numbers. Writes a line when one is due.
  // Ignored outside a phase.
  void Update(int64_t done, const std::string& detail = "")
      ABSL_LOCKS_EXCLUDED(mu_);

  // Ends the current phase with its "done" line (on a terminal it replaces
  // the progress line; none when interval < 0).
  // Nothing outside a phase.
  void Finish() ABSL_LOCKS_EXCLUDED(mu_);

  // Writes `line` and a line end, on a line of its own (on a terminal the
  // progress line is cleared first and redrawn at the next update).
  void Log(const std::string& line) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  absl::Time Now() const;
  ProgressState StateLocked(absl::Time now) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ClearLineLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void FinishLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const ProgressOptions options_;
  std::ostream* const out_;

  absl::Mutex mu_;
  bool in_phase_ ABSL_GUARDED_BY(mu_) = false;
  std::string phase_ ABSL_GUARDED_BY(mu_);
  std::string unit_ ABSL_GUARDED_BY(mu_);
  int64_t total_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t done_ ABSL_GUARDED_BY(mu_) = 0;
  std::string detail_ ABSL_GUARDED_BY(mu_);
  absl::Time started_ ABSL_GUARDED_BY(mu_);
  absl::Time last_written_ ABSL_GUARDED_BY(mu_);
  bool updated_ ABSL_GUARDED_BY(mu_) = false;
  // Terminal: a progress line is on screen (no line end yet).
  bool line_open_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace recsys

#endif  // RECSYS_COMMON_PROGRESS_H_
