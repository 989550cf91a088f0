// The one wrapper of the XGBoost 1.7.4 C API: RAII handles for a training
// matrix (DMatrix) and a model (Booster), a training loop with early stopping,
// in-place prediction from a dense row-major float matrix (probabilities or
// margins), and TreeSHAP feature contributions (explanations).
//
// Every XGBoost call that returns -1 becomes an absl::Status carrying
// XGBGetLastError(); nothing here throws or aborts on bad input.
//
//   RECSYS_ASSIGN_OR_RETURN(auto train, DMatrix::Create(x, rows, cols, y));
//   TrainOptions options;
//   options.params = {{"objective", "multi:softprob"}, {"num_class", "24"}};
//   options.max_rounds = 100;
//   RECSYS_ASSIGN_OR_RETURN(TrainResult result, Train(options, *train));
//   RECSYS_ASSIGN_OR_RETURN(std::string model, result.booster->SaveToBuffer());
//
//   // Serving:
//   RECSYS_ASSIGN_OR_RETURN(auto booster, Booster::LoadFromBuffer(model));
//   RECSYS_RETURN_IF_ERROR(booster->SetParam("nthread", "1"));
//   RECSYS_RETURN_IF_ERROR(booster->Warmup());
//   std::vector<float> scores(rows * booster->scores_per_row());
//   RECSYS_RETURN_IF_ERROR(booster->Predict(x, rows, cols, scores.data()));
//
// Thread safety (XGBoost 1.7.4, verified by booster_test.cc):
// - DMatrix is immutable after Create() and may be read by several threads.
// - Booster: the const methods (Predict, PredictMargin, PredictContributions,
//   Warmup, SaveToBuffer, SaveConfig,
//   GetAttr, BoostedRounds, Slice, the accessors) may run concurrently with
//   each other on one booster, from any number of threads, provided no
//   non-const method (SetParam, SetAttr, UpdateOneIter, EvalOneIter) runs at
//   the same time: XGBoost 1.7.4 gives each thread its own output buffer and
//   configures itself under its own lock. So: load, SetParam("nthread", ...)
//   once, Warmup(), then share it (e.g. as std::shared_ptr<const Booster>).
//   Predict output is copied out of XGBoost's thread-local buffer before
//   Predict returns, so `out` is the caller's alone.
// - Pitfall: XGBoost keeps one prediction output buffer per (thread, booster)
//   pair, and freeing a booster releases only the freeing thread's buffer; the
//   buffers of other threads that predicted with it stay allocated (a small
//   leak per thread per booster, about n_rows * scores_per_row floats of the
//   largest batch). A server that reloads models should therefore predict
//   from a fixed pool of threads, never from a new thread per request.
// - Threads: training uses all cores unless params set "nthread". A server
//   sets "nthread" to "1" and parallelises across requests instead.
#ifndef RECSYS_MODEL_STORE_BOOSTER_H_
#define RECSYS_MODEL_STORE_BOOSTER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace recsys {

// The version of the XGBoost library this process runs, e.g. "1.7.4".
std::string XgboostVersion();

// Turns the return code `rc` of an XGBoost C API call into a Status: OK for
// 0, otherwise `code` (INTERNAL unless the caller knows the failure means bad
// input) with the message "<what>: <XGBGetLastError()>".
absl::Status XgbStatus(int rc, absl::string_view what,
                       absl::StatusCode code = absl::StatusCode::kInternal);

// A training or evaluation matrix: dense features, labels and optional
// weights, copied into XGBoost's own storage. Immutable after Create();
// thread-compatible. Copying is deleted.
class DMatrix {
 public:
  // Copies the row-major `n_rows` x `n_features` matrix `rows` (NaN means
  // missing), the labels (one per row, or empty for no labels) and the
  // weights (one per row, or empty for weight 1).
  // Returns INVALID_ARGUMENT when a size does not match.
  // REQUIRES: `rows` points to n_rows * n_features floats.
  static absl::StatusOr<std::unique_ptr<DMatrix>> Create(
      const float* rows, int64_t n_rows, int64_t n_features,
      absl::Span<const float> labels, absl::Span<const float> weights = {});

  ~DMatrix();
  DMatrix(const DMatrix&) = delete;
  DMatrix& operator=(const DMatrix&) = delete;

  int64_t num_rows() const { return num_rows_; }
  int64_t num_features() const { return num_features_; }
  void* handle() const { return handle_; }  // The XGBoost DMatrixHandle.

 private:
  DMatrix(void* handle, int64_t num_rows, int64_t num_features)
      : handle_(handle), num_rows_(num_rows), num_features_(num_features) {}

  void* const handle_;
  const int64_t num_rows_;
  const int64_t num_features_;
};

// One evaluation metric from EvalOneIter, e.g. {"mlogloss", 0.42}.
struct EvalMetric {
  std::string name;
  double value = 0;
};

// An XGBoost model. See the file comment for thread safety. Copying is
// deleted.
class Booster {
 public:
  // An empty booster for training whose prediction cache holds `cache`
  // (usually the training and validation matrices). The matrices need not
  // outlive the booster. Returns INTERNAL if XGBoost fails.
  static absl::StatusOr<std::unique_ptr<Booster>> CreateForTraining(
      absl::Span<const DMatrix* const> cache);

  // Loads a gbtree model saved by SaveToBuffer() (UBJ) or in XGBoost's JSON
  // format. Returns INVALID_ARGUMENT for an empty, truncated or corrupt
  // buffer, a non-gbtree model or a model without trees: the bytes are
  // checked by CheckXgbModel() (xgb_model_check.h) first, because XGBoost
  // 1.7.4 segfaults on some of them. About 45 ms for a 5 MB model (24
  // classes x 60 rounds, depth 6), a third of it the check.
  static absl::StatusOr<std::unique_ptr<Booster>> LoadFromBuffer(
      absl::string_view model);

  ~Booster();
  Booster(const Booster&) = delete;
  Booster& operator=(const Booster&) = delete;

  // Sets one XGBoost parameter (e.g. "nthread", "1"). Returns
  // INVALID_ARGUMENT if XGBoost rejects it. Not concurrent with anything.
  absl::Status SetParam(absl::string_view name, absl::string_view value);

  // Runs boosting round `iteration` (0-based) on `train`. Not concurrent with
  // anything.
  absl::Status UpdateOneIter(int iteration, const DMatrix& train);

  // Evaluates the configured metrics ("eval_metric" params, or the
  // objective's default) on `data` and returns them in XGBoost's order.
  // `name` labels the set in XGBoost's output ("valid"). Not concurrent with
  // anything (XGBoost caches predictions for `data`).
  absl::StatusOr<std::vector<EvalMetric>> EvalOneIter(int iteration,
                                                      const DMatrix& data,
                                                      absl::string_view name);

  // Number of boosting rounds in the model.
  absl::StatusOr<int> BoostedRounds() const;

  // A new booster with the first `rounds` boosting rounds of this one and
  // the same parameters. Returns INVALID_ARGUMENT unless
  // 1 <= rounds <= BoostedRounds().
  absl::StatusOr<std::unique_ptr<Booster>> Slice(int rounds) const;

  // The model as UBJ bytes (XGBoost's binary JSON, format "ubj"), loadable
  // by LoadFromBuffer() and by XGBoost's Python package.
  absl::StatusOr<std::string> SaveToBuffer() const;

  // XGBoost's JSON configuration (parameters, objective, num_class, ...).
  absl::StatusOr<std::string> SaveConfig() const;

  // A string attribute stored in the model (saved with it), or nullopt.
  absl::StatusOr<std::optional<std::string>> GetAttr(
      absl::string_view key) const;
  absl::Status SetAttr(absl::string_view key, absl::string_view value);

  // Writes n_rows * scores_per_row() scores to `out`, row by row (for
  // multi:softprob, out[r * num_class + c] is the probability of class c for
  // row r). `rows` is row-major, NaN means missing. Uses all trees.
  // Returns INVALID_ARGUMENT if n_features != num_features() or n_rows < 0,
  // INTERNAL if XGBoost fails. Zero rows is OK and writes nothing.
  // REQUIRES: `rows` holds n_rows * n_features floats, `out` has room for
  // n_rows * scores_per_row() floats. Thread-safe (see the file comment).
  absl::Status Predict(const float* rows, int64_t n_rows, int64_t n_features,
                       float* out) const;

  // Writes n_rows * scores_per_row() raw margins (before the softmax; for
  // multi:softprob out[r * num_class + c] is class c's margin) to `out`:
  // XGBoost's in-place prediction with output_margin. Errors, REQUIRES and
  // thread safety as Predict.
  absl::Status PredictMargin(const float* rows, int64_t n_rows,
                             int64_t n_features, float* out) const;

  // Floats PredictContributions writes per row: scores_per_row() x
  // (num_features() + 1).
  int64_t contributions_per_row() const {
    return static_cast<int64_t>(scores_per_row_) * (num_features_ + 1);
  }

  // Exact TreeSHAP feature contributions (XGBoosterPredictFromDMatrix,
  // "type": 2): writes n_rows * contributions_per_row() floats to `out`,
  // for row r, class c and feature f at
  //   out[(r * scores_per_row() + c) * (num_features() + 1) + f],
  // with the bias (the expected margin, base_score included) at
  // f = num_features(). For each row and class, bias + the sum of the
  // contributions is that class's margin (PredictMargin), up to float
  // rounding. `rows` is row-major, NaN means missing. Errors as Predict.
  // Builds a DMatrix of the rows on every call (contributions have no
  // in-place path in 1.7.4) and costs far more than Predict: BENCHMARKS.md.
  // Thread-safe like Predict, with the same pitfall: XGBoost keeps the
  // output buffer per (thread, booster), so call it from a fixed pool of
  // threads. REQUIRES: `out` has room for n_rows * contributions_per_row()
  // floats.
  absl::Status PredictContributions(const float* rows, int64_t n_rows,
                                    int64_t n_features, float* out) const;

  // Predicts one row of NaNs: XGBoost configures itself lazily on the first
  // prediction, so a server calls this before reporting ready.
  absl::Status Warmup() const;

  // Number of features the model expects (0 before the first training
  // round).
  int64_t num_features() const { return num_features_; }
  // "num_class" of the model: the class count for multi:softprob /
  // multi:softmax, 0 for other objectives.
  int num_class() const { return num_class_; }
  // Scores Predict() writes per row: num_class() for multi:softprob, else 1.
  int scores_per_row() const { return scores_per_row_; }

 private:
  explicit Booster(void* handle) : handle_(handle) {}

  // Re-reads num_features_, num_class_ and scores_per_row_ from XGBoost.
  absl::Status RefreshShape();

  // Predict and PredictMargin: XGBoost's in-place prediction of `rows` with
  // `config`, `scores_per_row_` floats per row copied to `out`.
  absl::Status PredictInPlace(const char* config, const float* rows,
                              int64_t n_rows, int64_t n_features,
                              float* out) const;
  // INVALID_ARGUMENT for a bad shape or null pointers (see Predict).
  absl::Status CheckInput(const float* rows, int64_t n_rows, int64_t n_features,
                          const float* out) const;

  void* const handle_;  // BoosterHandle, owned.
  int64_t num_features_ = 0;
  int num_class_ = 0;
  int scores_per_row_ = 1;
};

// Called once per round during Train(): the 0-based round, the validation
// metric used for early stopping (nullopt without validation data) and
// every validation metric in XGBoost's style ("[3]\tvalid-mlogloss:0.41";
// empty without validation data).
using TrainLogFn = std::function<void(int round, std::optional<double> metric,
                                      absl::string_view line)>;

struct TrainOptions {
  // XGBoost parameters, e.g. {"objective", "multi:softprob"}, {"eta", "0.1"}.
  // Train() adds {"tree_method", "hist"} and {"seed", "0"} when absent so
  // that training is deterministic for the same data, seed and "nthread"
  // (set "nthread" to fix the thread count; default all cores). Default {}.
  std::map<std::string, std::string> params;
  // Boosting rounds at most. Default 100.
  int max_rounds = 100;
  // Stop when the validation metric (the last one XGBoost reports; lower is
  // better except auc/aucpr/map/ndcg) has not improved for this many rounds.
  // 0 disables early stopping; ignored without validation data. Default 0.
  int early_stopping_rounds = 0;
  // Return only the rounds up to the best one (best_iteration + 1); when
  // false, every trained round is kept. Default true.
  bool keep_best_rounds_only = true;
  // Called after every round when set. Default none.
  TrainLogFn log;
};

struct TrainResult {
  std::unique_ptr<Booster> booster;
  // 0-based round with the best validation metric (the last round without
  // validation data). The booster has best_iteration + 1 rounds when
  // keep_best_rounds_only.
  int best_iteration = 0;
  // Validation metric of every trained round (empty without validation).
  std::vector<double> validation_history;
  // Name of the early-stopping metric, e.g. "mlogloss" (empty without
  // validation data).
  std::string metric_name;
};

// Trains a booster on `train`, evaluating on `validation` after every round
// when it is not null. The booster also stores the attributes
// "best_iteration" and "best_score" (as XGBoost's Python package does).
// Returns INVALID_ARGUMENT for bad parameters or data (e.g. no labels),
// INTERNAL for other XGBoost failures.
// REQUIRES: options.max_rounds >= 1; `validation`, when given, has the same
// number of features as `train`.
absl::StatusOr<TrainResult> Train(const TrainOptions& options,
                                  const DMatrix& train,
                                  const DMatrix* validation = nullptr);

}  // namespace recsys

#endif  // RECSYS_MODEL_STORE_BOOSTER_H_
