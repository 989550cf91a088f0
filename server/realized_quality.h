// Realized quality: last month's recommendations meet their outcome.
//
// The history for month T (model_store/history_store.h) is built from the
// records through T-1, so it knows, for each customer, the products owned in
// months T-1, T-2, ... (lag 1, 2, ...; featurizer/product_history.h). For a
// served month M it holds, when months M and M-1 are both in its data, the
// truth of M exactly as `recsys evaluate --db --month M` derives it
// (RecordsDb::Truth): the customers of M (present at lag T-M), and for each
// the products added = owned at M and not at M-1 (all owned ones for a
// customer absent at M-1). ScoreServedMonth scores what the served log
// (server/served_log.h) holds for M against it, with AveragePrecisionAtK
// (common/map_at_k.h) as common/submission.h's Evaluate does:
//   - a served customer of M adds its AP@7 to the version that answered it
//     (a customer who added nothing adds 0 and counts, as Kaggle counts
//     them);
//   - a customer of M never served counts in `unserved` (Evaluate's
//     "missing from the submission": 0, but counted);
//   - a served customer not in M counts in `not_in_truth` (ignored, as
//     Evaluate ignores them).
// So Σ ap_sum / (Σ customers + unserved) is exactly Evaluate's MAP@7 of the
// served answers as a submission; when every customer of M was served (a
// batch-scored month) unserved is 0 and Σ ap_sum / Σ customers is that
// number (tests/realized_e2e_test.cc checks it to 1e-9).
//
// RealizedQuality ties it to the server: on each history version served it
// evaluates every month the served log holds that the history contains and
// that this process has not evaluated yet, once per month and process,
// exports the counters through ServerMetrics::RealizedMonth and logs one
// line per month and version:
//   realized 2016-06: santander version 3: 20000 customers, MAP@7 0.031200
//   (validation 0.033000); month: 20000 customers, 0 not served, 0 served
//   not in the month
// A restart with the same served log and history evaluates the same months
// again and so re-derives the same counter values (the counters are per
// process; Prometheus sums them over replicas).
//
// Thread-safe.
#ifndef RECSYS_SERVER_REALIZED_QUALITY_H_
#define RECSYS_SERVER_REALIZED_QUALITY_H_

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "featurizer/product_history.h"
#include "model_store/history_store.h"
#include "server/metrics.h"
#include "server/served_log.h"

namespace recsys {

// One version's share of a served month.
struct RealizedVersion {
  ServedVersion version;
  double ap_sum = 0;      // Σ AP@7 of its served customers of the month
  int64_t customers = 0;  // its served customers of the month
  double map7() const { return customers == 0 ? 0 : ap_sum / customers; }
};

struct RealizedMonth {
  int month = 0;  // month index
  std::vector<RealizedVersion> versions;  // versions with customers > 0
  int64_t truth_customers = 0;  // customers of the month
  int64_t unserved = 0;         // of them, never served
  int64_t not_in_truth = 0;     // served customers not in the month
};

// Scores `served` (ServedLog::Month) against the truth of served.month that
// `snapshot` holds. FAILED_PRECONDITION when the snapshot does not hold the
// month and the month before in its data (it serves a month at or before
// served.month, or is too shallow, or a month is missing from its data).
absl::StatusOr<RealizedMonth> ScoreServedMonth(
    const ServedMonth& served, const ProductHistorySnapshot& snapshot);

// The log line of `result` (one line per version; a month nobody in it was
// served gives one line saying so).
std::vector<std::string> DescribeRealized(const RealizedMonth& result);

class RealizedQuality {
 public:
  // Both borrowed, must outlive this; `metrics` may not be null.
  RealizedQuality(ServedLog* log, ServerMetrics* metrics)
      : log_(log), metrics_(metrics) {}

  // Evaluates the served months `history` holds that were not evaluated by
  // this object yet (see the file comment); returns them.
  std::vector<RealizedMonth> OnHistory(const HistoryVersion& history)
      ABSL_LOCKS_EXCLUDED(mu_);

  // Every month evaluated so far, in order of evaluation.
  std::vector<RealizedMonth> Evaluated() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  ServedLog* const log_;
  ServerMetrics* const metrics_;

  mutable absl::Mutex mu_;  // also serializes evaluations
  std::set<int> done_ ABSL_GUARDED_BY(mu_);
  std::vector<RealizedMonth> evaluated_ ABSL_GUARDED_BY(mu_);
};

}  // namespace recsys

#endif  // RECSYS_SERVER_REALIZED_QUALITY_H_
