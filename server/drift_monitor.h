// DriftMonitor: the population stability index (PSI, featurizer/binning.h) of
// several binned variables over a sliding window of the most recent rows,
// against each variable's reference shares. The server keeps one per serving
// model version: one variable per input feature plus the top-1 product.
//
// clang-format off
//   DriftMonitorOptions options;
//   options.window_rows = 5000;
//   options.min_rows = 2000;
//   RECSYS_ASSIGN_OR_RETURN(
//       std::unique_ptr<DriftMonitor> drift,
//       DriftMonitor::Create({age_shares, sexo_shares}, options));
//   uint8_t bins[2] = {static_cast<uint8_t>(age_bin), kNoBin};
//   drift->AddRows(bins, 1);  // row-major, num_variables() per row
//   std::optional<double> psi = drift->Psi(0);  // nullopt below min_rows
// clang-format on
//
// Cost: a row is num_variables() bytes in a ring buffer; adding one evicts the
// oldest and updates the per-bin window counts incrementally (two increments
// per variable). Psi() is O(bins of the variable).
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

struct DriftMonitorOptions {
  // Rows in the sliding window. Default 5000.
  int window_rows = 5000;
  // Psi(v) is reported only once the window holds this many rows with a bin
  // for variable v. Default 2000.
  int min_rows = 2000;
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

  // Appends `rows` rows (row-major, num_variables() bin ids per row, each
  // < num_bins(v) or kNoBin), evicting the oldest rows beyond window_rows.
  // An out-of-range bin id counts as kNoBin.
  void AddRows(const uint8_t* bins, int64_t rows);

  // Rows in the window (at most window_rows).
  int64_t rows() const { return size_; }
  // Rows in the window with a bin for variable v.
  int64_t rows(int v) const { return counted_[v]; }
  // Window counts of variable v's bins (num_bins(v) values).
  std::vector<double> Counts(int v) const;

  // PSI of variable v's window counts against its reference shares, or
  // nullopt while fewer than min_rows rows of the window have a bin for v.
  std::optional<double> Psi(int v) const;

  // Empties the window.
  void Clear();

 private:
  DriftMonitor(std::vector<std::vector<double>> reference_shares,
               std::vector<int> offsets, const DriftMonitorOptions& options);

  const std::vector<std::vector<double>> shares_;
  const std::vector<int>
      offsets_;  // variable v's counts: [offsets_[v], offsets_[v+1])
  const DriftMonitorOptions options_;

  std::vector<uint8_t> ring_;     // window_rows * num_variables() bin ids
  int64_t next_ = 0;              // ring slot the next row goes to
  int64_t size_ = 0;              // rows in the window
  std::vector<int32_t> counts_;   // per (variable, bin), flattened by offsets_
  std::vector<int64_t> counted_;  // per variable: rows with a bin
};

}  // namespace recsys

#endif  // RECSYS_SERVER_DRIFT_MONITOR_H_
