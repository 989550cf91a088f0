// DriftMonitor: the population stability index (PSI, featurizer/binning.h) of
// several binned variables over a uniform sample of the rows served for one
// month, against each variable's reference shares. The server keeps one per
// serving model version: one variable per input feature plus the top-1
// product; the month of a row is the month it was scored for (fecha_dato).
//
// clang-format off
//   DriftMonitorOptions options;
//   options.window_rows = 5000;
//   options.min_rows = 2000;
//   RECSYS_ASSIGN_OR_RETURN(
//       std::unique_ptr<DriftMonitor> drift,
//       DriftMonitor::Create({age_shares, sexo_shares}, options));
//   uint8_t bins[2] = {static_cast<uint8_t>(age_bin), kNoBin};
//   drift->AddRows(month, bins, 1);  // row-major, num_variables() per row
//   std::optional<double> psi = drift->Psi(0);  // nullopt below min_rows
// clang-format on
//
// Why a sample per month rather than the last rows: a month is usually
// scored as one file in file order, sorted by customer id, which follows the
// join date; the last 5,000 rows are then the newest customers only (young,
// recent, a distinct channel) and read as a PSI of about 6 on an ordinary
// month. A uniform reservoir sample (Vitter's algorithm R, seeded) of each
// month's rows gives the same distribution whatever the order the rows come
// in. Psi() describes the newest month seen; the month before it is kept too
// (late rows of it still count toward it, not toward the new month); rows of
// older months are ignored.
//
// Memory: kDriftMonthsKept * window_rows * num_variables() bytes of bins plus
// 4 bytes per bin of every variable per month kept.
// Cost: a row is counted with probability window_rows / (rows of its month
// so far), then replaces a random sampled row (two updates per variable);
// other rows cost one random number. Psi() is O(bins of the variable).
//
// Thread-compatible: const methods may run concurrently; AddRows needs
// external synchronization (the server calls it under its metrics mutex).
#ifndef RECSYS_SERVER_DRIFT_MONITOR_H_
#define RECSYS_SERVER_DRIFT_MONITOR_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"

namespace recsys {

// A variable's value in a row that has none (e.g. no top-1 product): the row
// is not counted for that variable.
inline constexpr uint8_t kNoBin = 255;
// Most bins a variable may have (bin ids are bytes; kNoBin is reserved).
inline constexpr int kMaxDriftBins = 255;
// Months whose samples are kept: the newest and the one before it.
inline constexpr int kDriftMonthsKept = 2;

struct DriftMonitorOptions {
  // Rows sampled per month. Default 5000.
  int window_rows = 5000;
  // Psi(v) is reported only once the newest month's sample holds this many
  // rows with a bin for variable v. Default 2000.
  int min_rows = 2000;
  // Seed of the sampling (the same rows in the same order give the same
  // sample). Default 1.
  uint64_t seed = 1;
};

class DriftMonitor {
 public:
  // `reference_shares[v]` is the training share of each bin of variable v
  // (1..kMaxDriftBins bins, summing to 1). INVALID_ARGUMENT for no variables,
  // a variable with 0 or more than kMaxDriftBins bins, window_rows < 1, or
  // min_rows outside 1..window_rows.
  static absl::StatusOr<std::unique_ptr<DriftMonitor>> Create(
      std::vector<std::vector<double>> reference_shares,
      const DriftMonitorOptions& options);

  DriftMonitor(const DriftMonitor&) = delete;
  DriftMonitor& operator=(const DriftMonitor&) = delete;

  int num_variables() const { return static_cast<int>(offsets_.size()) - 1; }
  int num_bins(int v) const { return offsets_[v + 1] - offsets_[v]; }
  const DriftMonitorOptions& options() const { return options_; }

  // Offers `rows` rows scored for month `month` (a month index; row-major,
  // num_variables() bin ids per row, each < num_bins(v) or kNoBin) to that
  // month's sample. A month newer than every month seen starts a new sample
  // (dropping samples beyond kDriftMonthsKept); rows of a month older than
  // the samples kept are ignored. An out-of-range bin id counts as kNoBin.
  void AddRows(int month, const uint8_t* bins, int64_t rows);

  // The newest month seen (the one Psi describes); nullopt before any row.
  std::optional<int> month() const;
  // Rows of the newest month offered so far (sampled or not).
  int64_t rows_seen() const;
  // Rows in the newest month's sample (at most window_rows).
  int64_t rows() const;
  // Rows in the newest month's sample with a bin for variable v.
  int64_t rows(int v) const;
  // The sample's counts of variable v's bins (num_bins(v) values).
  std::vector<double> Counts(int v) const;

  // PSI of variable v's counts in the newest month's sample against its
  // reference shares, or nullopt while fewer than min_rows sampled rows have
  // a bin for v.
  std::optional<double> Psi(int v) const;

  // Forgets every sample.
  void Clear();

 private:
  DriftMonitor(std::vector<std::vector<double>> reference_shares,
               std::vector<int> offsets, const DriftMonitorOptions& options);

  const std::vector<std::vector<double>> shares_;
  const std::vector<int>
      offsets_;  // variable v's counts: [offsets_[v], offsets_[v+1])
  const DriftMonitorOptions options_;

  // One month's reservoir.
  struct Sample {
    int month = 0;
    int64_t seen = 0;               // rows offered
    int64_t size = 0;               // rows held (<= window_rows)
    std::vector<uint8_t> rows;      // size * num_variables() bin ids
    std::vector<int32_t> counts;    // per (variable, bin), by offsets_
    std::vector<int64_t> counted;   // per variable: rows held with a bin
  };

  // The sample of `month`, or null when the month is older than those kept.
  Sample* SampleFor(int month);
  // Adds (sign +1) or removes (-1) one stored row's bins to the counts.
  void Count(Sample* sample, const uint8_t* row, int sign) const;
  const Sample* Newest() const;

  std::vector<Sample> samples_;  // ascending months, at most kDriftMonthsKept
  uint64_t rng_state_;           // splitmix64
};

}  // namespace recsys

#endif  // RECSYS_SERVER_DRIFT_MONITOR_H_
