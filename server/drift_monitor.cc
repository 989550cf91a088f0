#include "server/drift_monitor.h"

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "featurizer/binning.h"

namespace recsys {

absl::StatusOr<std::unique_ptr<DriftMonitor>> DriftMonitor::Create(
    std::vector<std::vector<double>> reference_shares,
    const DriftMonitorOptions& options) {
  if (reference_shares.empty()) {
    return absl::InvalidArgumentError("drift monitor: no variables");
  }
  if (options.window_rows < 1 || options.min_rows < 1 ||
      options.min_rows > options.window_rows) {
    return absl::InvalidArgumentError(absl::StrCat(
        "drift monitor: need 1 <= min_rows <= window_rows, got min_rows ",
        options.min_rows, " and window_rows ", options.window_rows));
  }
  std::vector<int> offsets = {0};
  for (size_t v = 0; v < reference_shares.size(); ++v) {
    const size_t bins = reference_shares[v].size();
    if (bins == 0 || bins > static_cast<size_t>(kMaxDriftBins)) {
      return absl::InvalidArgumentError(
          absl::StrCat("drift monitor: variable ", v, " has ", bins,
                       " bins; expected 1..", kMaxDriftBins));
    }
    offsets.push_back(offsets.back() + static_cast<int>(bins));
  }
  return std::unique_ptr<DriftMonitor>(new DriftMonitor(
      std::move(reference_shares), std::move(offsets), options));
}

DriftMonitor::DriftMonitor(std::vector<std::vector<double>> reference_shares,
                           std::vector<int> offsets,
                           const DriftMonitorOptions& options)
    : shares_(std::move(reference_shares)),
      offsets_(std::move(offsets)),
      options_(options),
      ring_(static_cast<size_t>(options.window_rows) * shares_.size(), kNoBin),
      counts_(offsets_.back(), 0),
      counted_(shares_.size(), 0) {}

void DriftMonitor::AddRows(const uint8_t* bins, int64_t rows) {
  const int nv = num_variables();
  const int* const offsets = offsets_.data();
  int32_t* const counts = counts_.data();
  int64_t* const counted = counted_.data();
  for (int64_t r = 0; r < rows; ++r) {
    const uint8_t* in = bins + r * nv;
    uint8_t* slot = ring_.data() + next_ * nv;
    const bool evict = size_ == options_.window_rows;
    for (int v = 0; v < nv; ++v) {
      if (evict && slot[v] != kNoBin) {
        --counts[offsets[v] + slot[v]];
        --counted[v];
      }
      uint8_t b = in[v];
      if (b >= offsets[v + 1] - offsets[v]) b = kNoBin;
      if (b != kNoBin) {
        ++counts[offsets[v] + b];
        ++counted[v];
      }
      slot[v] = b;
    }
    if (!evict) ++size_;
    if (++next_ == options_.window_rows) next_ = 0;
  }
}

std::vector<double> DriftMonitor::Counts(int v) const {
  return std::vector<double>(counts_.begin() + offsets_[v],
                             counts_.begin() + offsets_[v + 1]);
}

std::optional<double> DriftMonitor::Psi(int v) const {
  if (counted_[v] < options_.min_rows) return std::nullopt;
  return recsys::Psi(Counts(v), shares_[v]);
}

void DriftMonitor::Clear() {
  std::fill(ring_.begin(), ring_.end(), kNoBin);
  std::fill(counts_.begin(), counts_.end(), 0);
  std::fill(counted_.begin(), counted_.end(), 0);
  next_ = 0;
  size_ = 0;
}

}  // namespace recsys
