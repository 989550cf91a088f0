// Scorer: featurize, predict and rank a batch of customers on one model
// version, in-process. The gRPC server calls it for every request; the
// benchmarks call it directly as the in-process floor.
//
// clang-format off
//   ScoreScratch scratch;                       // one per worker thread
//   std::vector<ScoreInput> rows = {{&record, nullptr}};
//   std::vector<RowScore> out(rows.size());
//   RECSYS_RETURN_IF_ERROR(ScoreBatch(*model, rows, 7, &scratch,
//                                     absl::MakeSpan(out), &timings));
//   for (const RowScore& r : out) if (r.status.ok()) Use(r.top);
// clang-format on
//
// For each row the target month is the record's fecha_dato, or the month the
// model's history snapshot serves when fecha_dato is missing. The customer's
// history is the row's explicit history when given, else the snapshot's (a
// customer not in it is served as a new customer). All rows are predicted in
// one call of ModelVersion::Predict (our forest evaluator when it verified at
// load, else XGBoost, which predicts with one thread: run batches on a fixed
// pool of threads). Products owned last month are never recommended.
//
// Thread-safe: ScoreBatch may run on many threads at once, each with its own
// ScoreScratch.
#ifndef RECSYS_MODEL_STORE_SCORER_H_
#define RECSYS_MODEL_STORE_SCORER_H_

#include <cstdint>
#include <functional>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "common/ranking.h"
#include "common/raw_record.h"
#include "featurizer/history_view.h"
#include "model_store/model_version.h"

namespace recsys {

// One row to score. (Named apart from the API's v1::ScoreRow, which the
// server decodes into a RawRecord first.)
struct ScoreInput {
  const RawRecord* record = nullptr;     // borrowed; required
  const HistoryView* history = nullptr;  // borrowed; null = use the snapshot
};

enum class HistorySourceKind { kRequest, kStore, kNotFound };

struct RowScore {
  // OK, or why this row was not scored (e.g. OUT_OF_RANGE for a fecha_dato
  // before the month the history snapshot serves).
  absl::Status status;
  // The RawRecord field `status` is about, as the files and the API name it
  // ("fecha_dato"); empty when the row was scored or the failure is about no
  // one field. Points to a string literal.
  absl::string_view error_field;
  TopKResult top;
  HistorySourceKind history = HistorySourceKind::kNotFound;
  int target_month = 0;  // month index the row was scored for
};

// Per-call stage times (seconds) and history outcomes.
struct ScoreTimings {
  double featurize_seconds = 0;  // includes the history lookups
  double predict_seconds = 0;
  double rank_seconds = 0;
  int64_t history_hits = 0;
  int64_t history_misses = 0;
  int64_t history_from_request = 0;
};

// Buffers reused across calls by one thread.
struct ScoreScratch {
  std::vector<float> features;  // row-major, only rows that were featurized
  std::vector<float> scores;
  std::vector<int> feature_row;  // per input row: its row in `features`, or -1
  std::vector<ProductMask> owned_last;  // per featurized row
};

// Called once featurizing is done and before predicting; a non-OK status
// (e.g. DEADLINE_EXCEEDED for a call whose deadline passed meanwhile) stops
// ScoreBatch, which returns it without predicting.
using BeforePredict = std::function<absl::Status()>;

// Scores `rows` into `out` (same size) with the top `k` (1..24) products of
// each. Per-row problems go into out[i].status; the call itself fails only
// when XGBoost fails (INTERNAL), sizes are wrong (INVALID_ARGUMENT) or
// `before_predict` (may be empty) refuses.
// After the call, scratch->features holds the feature rows of the rows that
// were scored, in input order (for drift monitoring).
absl::Status ScoreBatch(const ModelVersion& model,
                        absl::Span<const ScoreInput> rows, int k,
                        ScoreScratch* scratch, absl::Span<RowScore> out,
                        ScoreTimings* timings,
                        const BeforePredict& before_predict = nullptr);

// The same with `history` (borrowed for the call) in place of the model's own
// snapshot, e.g. a newer month from the history store
// (model_store/history_store.h): rows without fecha_dato are scored for the
// month `history` serves.
absl::Status ScoreBatch(const ModelVersion& model,
                        const ProductHistorySnapshot& history,
                        absl::Span<const ScoreInput> rows, int k,
                        ScoreScratch* scratch, absl::Span<RowScore> out,
                        ScoreTimings* timings,
                        const BeforePredict& before_predict = nullptr);

}  // namespace recsys

#endif  // RECSYS_MODEL_STORE_SCORER_H_
