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
      rng_state_(options.seed) {}

namespace {

// splitmix64: fast, and good enough to pick reservoir slots.
uint64_t NextRandom(uint64_t* state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace

DriftMonitor::Sample* DriftMonitor::SampleFor(int month) {
  for (Sample& sample : samples_) {
    if (sample.month == month) return &sample;
  }
  if (!samples_.empty() && month < samples_.front().month) return nullptr;
  if (!samples_.empty() && month < samples_.back().month &&
      static_cast<int>(samples_.size()) == kDriftMonthsKept) {
    return nullptr;  // between the kept months, and no room for it
  }
  Sample sample;
  sample.month = month;
  sample.rows.reserve(static_cast<size_t>(options_.window_rows) *
                      shares_.size());
  sample.counts.assign(offsets_.back(), 0);
  sample.counted.assign(shares_.size(), 0);
  auto at = std::find_if(samples_.begin(), samples_.end(),
                         [month](const Sample& s) { return s.month > month; });
  const size_t index = at - samples_.begin();
  samples_.insert(at, std::move(sample));
  if (static_cast<int>(samples_.size()) > kDriftMonthsKept) {
    samples_.erase(samples_.begin());
    return &samples_[index - 1];
  }
  return &samples_[index];
}

void DriftMonitor::Count(Sample* sample, const uint8_t* row, int sign) const {
  for (int v = 0; v < num_variables(); ++v) {
    if (row[v] == kNoBin) continue;
    sample->counts[offsets_[v] + row[v]] += sign;
    sample->counted[v] += sign;
  }
}

void DriftMonitor::AddRows(int month, const uint8_t* bins, int64_t rows) {
  Sample* sample = SampleFor(month);
  if (sample == nullptr) return;
  const int nv = num_variables();
  const int64_t capacity = options_.window_rows;
  for (int64_t r = 0; r < rows; ++r) {
    const uint8_t* in = bins + r * nv;
    ++sample->seen;
    uint8_t* slot = nullptr;
    if (sample->size < capacity) {
      sample->rows.resize(sample->rows.size() + nv);
      slot = &sample->rows[sample->size * nv];
      ++sample->size;
    } else {
      // Algorithm R: the row replaces a random one with probability
      // capacity / seen, which keeps every row equally likely to be held.
      const uint64_t j =
          NextRandom(&rng_state_) % static_cast<uint64_t>(sample->seen);
      if (j >= static_cast<uint64_t>(capacity)) continue;
      slot = &sample->rows[j * nv];
      Count(sample, slot, -1);
    }
    for (int v = 0; v < nv; ++v) {
      const uint8_t b = in[v];
      slot[v] = b >= offsets_[v + 1] - offsets_[v] ? kNoBin : b;
    }
    Count(sample, slot, +1);
  }
}

const DriftMonitor::Sample* DriftMonitor::Newest() const {
  return samples_.empty() ? nullptr : &samples_.back();
}

std::optional<int> DriftMonitor::month() const {
  if (Newest() == nullptr) return std::nullopt;
  return Newest()->month;
}

int64_t DriftMonitor::rows_seen() const {
  return Newest() == nullptr ? 0 : Newest()->seen;
}

int64_t DriftMonitor::rows() const {
  return Newest() == nullptr ? 0 : Newest()->size;
}

int64_t DriftMonitor::rows(int v) const {
  return Newest() == nullptr ? 0 : Newest()->counted[v];
}

std::vector<double> DriftMonitor::Counts(int v) const {
  const Sample* s = Newest();
  if (s == nullptr) return std::vector<double>(num_bins(v), 0.0);
  return std::vector<double>(s->counts.begin() + offsets_[v],
                             s->counts.begin() + offsets_[v + 1]);
}

std::optional<double> DriftMonitor::Psi(int v) const {
  if (rows(v) < options_.min_rows) return std::nullopt;
  return recsys::Psi(Counts(v), shares_[v]);
}

void DriftMonitor::Clear() { samples_.clear(); }

}  // namespace recsys
