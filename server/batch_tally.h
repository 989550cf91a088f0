// BatchTally: what one scored batch adds to the metrics, counted without any
// lock so that ServerMetrics::ObserveBatch can apply it under its mutex with
// one increment per touched series (an implementation detail of metrics.cc).
//
//   thread_local BatchTally tally;
//   tally.Count(version, features, rows, tops, score_buckets);
//   for (size_t i = 0; i < tally.bin_counts.size(); ++i) ...
//
// Thread-compatible: one per thread; reused across batches.
#ifndef RECSYS_SERVER_BATCH_TALLY_H_
#define RECSYS_SERVER_BATCH_TALLY_H_

#include <array>
#include <cstdint>
#include <vector>

#include "common/products.h"
#include "common/ranking.h"
#include "model_store/model_version.h"

namespace recsys {

struct BatchTally {
  // Resets the tally and counts `rows` rows of `version`: `features` is
  // row-major (version.num_features() floats per row), `tops[i]` row i's
  // ranking, `score_buckets` the upper bounds of the score histogram.
  void Count(const ModelVersion& version, const float* features, int64_t rows,
             const TopKResult* tops, const std::vector<double>& score_buckets);

  // Feature f's reference bins are [bin_offsets[f], bin_offsets[f + 1]);
  // empty for a feature drift monitoring skips (ReferenceDistributions::
  // monitored).
  std::vector<int> bin_offsets;
  std::vector<int64_t> bin_counts;  // per (feature, bin)
  std::vector<int> touched_bins;    // indices of the non-zero bin_counts
  std::vector<int64_t> missing;     // per feature
  std::vector<int64_t> unknown;     // per feature
  // Per row: the bin of each feature (kNoBin for a feature with more bins
  // than a byte holds), then the top-1 product (kNoBin when none).
  std::vector<uint8_t> drift_bins;
  std::array<int64_t, kNumProducts> top1{};  // rows per top-1 product
  // [product][rank - 1]: times recommended at that rank.
  std::array<std::array<int64_t, kNumProducts>, kNumProducts> recommended{};
  int max_rank = 0;  // ranks 1..max_rank may be non-zero
  // Per product: histogram bucket increments (score_buckets.size() + 1, the
  // last is +Inf), sum and count of its finite recommended scores.
  std::array<std::vector<double>, kNumProducts> score_buckets;
  std::array<double, kNumProducts> score_sum{};
  std::array<int64_t, kNumProducts> score_count{};

 private:
  std::vector<uint8_t> drift_ok_;  // per feature: fits a byte
};

}  // namespace recsys

#endif  // RECSYS_SERVER_BATCH_TALLY_H_
