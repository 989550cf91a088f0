#include "common/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <iostream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace recsys {
namespace {

constexpr char kPlainPrefix[] = "[progress] ";
// Erases the terminal line the cursor is on (carriage return, then ANSI
// "erase in line").
constexpr char kClearLine[] = "\r\033[K";

bool IsBytes(const std::string& unit) { return unit == "bytes"; }
bool IsRounds(const std::string& unit) { return unit == "rounds"; }

std::string Amount(const std::string& unit, double value) {
  if (IsBytes(unit)) return absl::StrFormat("%.1f", value / 1e6);
  return absl::StrCat(static_cast<int64_t>(value));
}

std::string UnitName(const std::string& unit) {
  return IsBytes(unit) ? "MB" : unit;
}

std::string Rate(const std::string& unit, double per_second) {
  if (IsBytes(unit)) per_second /= 1e6;
  return per_second < 100
             ? absl::StrFormat("%.1f %s/s", per_second, UnitName(unit))
             : absl::StrFormat("%.0f %s/s", per_second, UnitName(unit));
}

}  // namespace

bool IsTerminal(int fd) { return ::isatty(fd) == 1; }

ProgressOptions StderrProgressOptions(double interval_seconds) {
  ProgressOptions options;
  options.out = &std::cerr;
  options.terminal = IsTerminal(STDERR_FILENO);
  options.interval = absl::Seconds(interval_seconds);
  return options;
}

std::string FormatClock(absl::Duration d) {
  int64_t s = std::max<int64_t>(0, absl::ToInt64Seconds(d));
  if (s >= 3600) {
    return absl::StrFormat("%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60);
  }
  return absl::StrFormat("%d:%02d", s / 60, s % 60);
}

std::string FormatProgress(const ProgressState& state) {
  std::string line = absl::StrCat(state.phase, ": ");
  if (IsRounds(state.unit)) {
    absl::StrAppend(&line, "round ", state.done);
    if (state.total > 0) absl::StrAppend(&line, "/", state.total);
  } else {
    absl::StrAppend(&line, Amount(state.unit, state.done));
    if (state.total > 0) absl::StrAppend(&line, "/", Amount(state.unit, state.total));
    absl::StrAppend(&line, " ", UnitName(state.unit));
  }
  if (state.total > 0) {
    absl::StrAppend(&line, absl::StrFormat(" (%.1f%%)", 100.0 * state.done /
                                                           state.total));
  }
  const double seconds = absl::ToDoubleSeconds(state.elapsed);
  const double rate = seconds > 0 ? state.done / seconds : 0;
  if (rate > 0) absl::StrAppend(&line, "  ", Rate(state.unit, rate));
  absl::StrAppend(&line, "  elapsed ", FormatClock(state.elapsed));
  if (state.total > 0 && rate > 0) {
    const double left = std::max<int64_t>(0, state.total - state.done) / rate;
    absl::StrAppend(&line, "  ETA ", FormatClock(absl::Seconds(left)));
  }
  if (!state.detail.empty()) absl::StrAppend(&line, "  ", state.detail);
  return line;
}

std::string FormatProgressDone(const ProgressState& state) {
  std::string line =
      absl::StrCat(state.phase, ": done, ", Amount(state.unit, state.done),
                   " ", UnitName(state.unit), " in ",
                   FormatClock(state.elapsed));
  const double seconds = absl::ToDoubleSeconds(state.elapsed);
  if (seconds > 0 && state.done > 0) {
    absl::StrAppend(&line, " (", Rate(state.unit, state.done / seconds), ")");
  }
  if (!state.detail.empty()) absl::StrAppend(&line, "  ", state.detail);
  return line;
}

Progress::Progress(ProgressOptions options)
    : options_(std::move(options)),
      out_(options_.out != nullptr ? options_.out : &std::cerr) {}

Progress::~Progress() {
  absl::MutexLock lock(&mu_);
  if (in_phase_ && updated_) FinishLocked();
  if (line_open_) {
    *out_ << "\n" << std::flush;
    line_open_ = false;
  }
}

absl::Time Progress::Now() const {
  return options_.now ? options_.now() : absl::Now();
}

ProgressState Progress::StateLocked(absl::Time now) const {
  ProgressState state;
  state.phase = phase_;
  state.unit = unit_;
  state.done = done_;
  state.total = total_;
  state.elapsed = now - started_;
  state.detail = detail_;
  return state;
}

void Progress::ClearLineLocked() {
  if (!line_open_) return;
  *out_ << kClearLine;
  line_open_ = false;
}

void Progress::Start(const std::string& phase, int64_t total,
                     const std::string& unit) {
  absl::MutexLock lock(&mu_);
  if (in_phase_) FinishLocked();
  in_phase_ = true;
  phase_ = phase;
  unit_ = unit;
  total_ = total;
  done_ = 0;
  detail_.clear();
  updated_ = false;
  started_ = Now();
  // The first terminal draw is immediate; the first plain line comes one
  // interval after the start.
  last_written_ = options_.terminal ? absl::InfinitePast() : started_;
}

void Progress::Update(int64_t done, const std::string& detail) {
  absl::MutexLock lock(&mu_);
  if (!in_phase_) return;
  done_ = done;
  detail_ = detail;
  updated_ = true;
  if (options_.interval < absl::ZeroDuration()) return;  // quiet
  const absl::Time now = Now();
  if (options_.terminal) {
    if (now - last_written_ < options_.redraw) return;
    *out_ << kClearLine << FormatProgress(StateLocked(now)) << std::flush;
    line_open_ = true;
  } else {
    if (now - last_written_ < options_.interval) return;
    *out_ << kPlainPrefix << FormatProgress(StateLocked(now)) << "\n"
          << std::flush;
  }
  last_written_ = now;
}

void Progress::FinishLocked() {
  in_phase_ = false;
  if (options_.interval < absl::ZeroDuration()) return;  // quiet
  const ProgressState state = StateLocked(Now());
  if (options_.terminal) {
    ClearLineLocked();
    *out_ << FormatProgressDone(state) << "\n" << std::flush;
  } else {
    *out_ << kPlainPrefix << FormatProgressDone(state) << "\n" << std::flush;
  }
}

void Progress::Finish() {
  absl::MutexLock lock(&mu_);
  if (in_phase_) FinishLocked();
}

void Progress::Log(const std::string& line) {
  absl::MutexLock lock(&mu_);
  ClearLineLocked();
  *out_ << line << "\n" << std::flush;
  // On a terminal, redraw the progress line at the next update.
  if (options_.terminal) last_written_ = absl::InfinitePast();
}

}  // namespace recsys
