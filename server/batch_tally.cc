#include "server/batch_tally.h"

#include <algorithm>
#include <cmath>

#include "server/drift_monitor.h"

namespace recsys {

void BatchTally::Count(const ModelVersion& version, const float* features,
                       int64_t rows, const TopKResult* tops,
                       const std::vector<double>& score_buckets_upper) {
  const ReferenceDistributions& ref = version.reference();
  const FeatureSchema& schema = version.featurizer().schema();
  const int stride_in = version.num_features();
  const int nf = std::min(stride_in, ref.num_features());
  const int stride = nf + 1;

  bin_offsets.resize(nf + 1);
  drift_ok_.resize(nf);
  bin_offsets[0] = 0;
  for (int f = 0; f < nf; ++f) {
    // Features drift monitoring skips have no bins (serving_series.cc).
    const int bins = ref.monitored(f) ? ref.num_bins(f) : 0;
    bin_offsets[f + 1] = bin_offsets[f] + bins;
    drift_ok_[f] = bins > 0 && bins <= kMaxDriftBins;
  }
  if (bin_counts.size() == static_cast<size_t>(bin_offsets[nf])) {
    // Only the bins the last batch touched are non-zero.
    for (int i : touched_bins) bin_counts[i] = 0;
  } else {
    bin_counts.assign(bin_offsets[nf], 0);
  }
  touched_bins.clear();
  missing.assign(nf, 0);
  unknown.assign(nf, 0);
  drift_bins.resize(static_cast<size_t>(rows) * stride);
  top1.fill(0);
  for (int p = 0; p < kNumProducts; ++p) {
    std::fill(recommended[p].begin(), recommended[p].begin() + max_rank, 0);
    if (score_count[p] > 0 || score_buckets[p].empty()) {
      score_buckets[p].assign(score_buckets_upper.size() + 1, 0.0);
    }
  }
  max_rank = 0;
  score_sum.fill(0);
  score_count.fill(0);

  for (int64_t r = 0; r < rows; ++r) {
    const float* row = features + r * stride_in;
    uint8_t* out = drift_bins.data() + r * stride;
    for (int f = 0; f < nf; ++f) {
      const float v = row[f];
      if (bin_offsets[f + 1] > bin_offsets[f]) {
        const int b = ref.Bin(f, v);
        const int i = bin_offsets[f] + b;
        if (bin_counts[i]++ == 0) touched_bins.push_back(i);
        out[f] = drift_ok_[f] ? static_cast<uint8_t>(b) : kNoBin;
      } else {
        out[f] = kNoBin;
      }
      if (FeatureSchema::IsMissing(v)) {
        ++missing[f];
      } else if (schema.IsUnknownCategory(f, v)) {
        ++unknown[f];
      }
    }
    const TopKResult& top = tops[r];
    out[nf] = kNoBin;
    for (int i = 0; i < top.size && i < kNumProducts; ++i) {
      const int p = top.items[i].product;
      if (p < 0 || p >= kNumProducts) continue;
      if (i == 0) {
        ++top1[p];
        out[nf] = static_cast<uint8_t>(p);
      }
      ++recommended[p][i];
      max_rank = std::max(max_rank, i + 1);
      const double score = top.items[i].score;
      if (!std::isfinite(score)) continue;
      // Prometheus buckets are upper-inclusive ("le").
      const size_t bucket = std::lower_bound(score_buckets_upper.begin(),
                                             score_buckets_upper.end(), score) -
                            score_buckets_upper.begin();
      score_buckets[p][bucket] += 1;
      score_sum[p] += score;
      ++score_count[p];
    }
  }
}

}  // namespace recsys
