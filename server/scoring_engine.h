// ScoringEngine: where the server's scoring work runs. It takes decoded
// requests (server/record_codec.h), runs featurize + predict + rank
// (model_store/scorer.h) on the fixed worker pool against the serving model
// version, records the work in ServerMetrics, and hands the results back as
// plain C++ values (ScoredRows). It knows nothing of the API's messages: the
// services decode before and encode after (recommender_service.cc for unary
// calls, recommend_stream.cc for streams), the same way for both.
//
// clang-format off
//   ScoringEngine engine(&store, &workers, &metrics);
//   engine.Recommend(check, std::move(decoded),
//                    [call](absl::StatusOr<ScoredRows> scored) {
//                      call->FinishWith(Encode(scored));
//                    });
// clang-format on
//
// Deadlines: `check` (the call's deadline and cancellation, see CheckCall in
// rpc_record.h) is run when a worker picks the job up (before featurizing)
// and, for a stream message, again before predicting; a call it refuses gets
// its status (DEADLINE_EXCEEDED, CANCELLED) and no further work is done.
//
// Unary calls are batched adaptively: Recommend queues the call and asks the
// pool for a worker; the worker that picks it up takes its share of the
// unary calls queued by then (an even split over the workers, at most
// max_unary_batch) and scores them together in one prediction. An idle
// server answers each call on its own, with no added wait; a busy one
// amortizes the per-call cost and cold caches over the calls that queued
// meanwhile (BENCHMARKS.md has the numbers). A batched call gets exactly the
// answer it would get alone.
//
// Lone calls inline: when the serving version predicts with our forest
// (model_store/forest.h, no per-thread state), a unary call that arrives to
// an idle engine (no call queued, no pool task waiting or running, no call
// being scored inline) is scored on the thread that called Recommend,
// without the hand-off to a worker; `done` then runs before Recommend
// returns. A call that arrives while anything is being scored goes through
// the pool and may be batched, as before: on a busy server the pool's
// batching is worth more than the hand-off (BENCHMARKS.md). XGBoost keeps a
// prediction buffer per (thread, booster), so with it every call goes
// through the pool's fixed threads.
//
// Explanations: a row whose request asks for them (DecodedRequest::explain)
// is explained after the batch is scored, on the same worker thread, with the
// version that scored it (model_store/explainer.h: XGBoost's TreeSHAP, which
// keeps a buffer per thread, so such a call never runs inline). Rows that do
// not ask cost nothing more. A row whose explanation fails gets INTERNAL
// alone.
//
// Each job holds the std::shared_ptr<const ModelVersion> it started with, so
// a model swapped in meanwhile never changes a batch half-way; likewise each
// batch takes one product-history snapshot (the history store's, or the
// bundle's: ChooseHistory) for all its rows, so the rows of one version in a
// batch never mix two history months.
//
// Champion and challenger: when the store has a challenger
// (ModelStore::Serving), each row goes to the version its customer is routed
// to (RoutesToChallenger in common/traffic_split.h, by ncodpers and the
// share): the rows of a batch are split, each part scored on its version
// (and recorded in the metrics under it), and the answers put back in the
// rows' order. A row's answer is exactly what its version alone gives;
// ScoredRows says per row which version scored it. The route is taken once
// per batch from one Serving() snapshot.
//
// Thread-safe. `done` callbacks run on a worker thread, or on the calling
// thread for a call scored inline (and with UNAVAILABLE when the pool no
// longer accepts work).
#ifndef RECSYS_SERVER_SCORING_ENGINE_H_
#define RECSYS_SERVER_SCORING_ENGINE_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "model_store/explainer.h"
#include "model_store/history_store.h"
#include "model_store/model_store.h"
#include "model_store/scorer.h"
#include "server/metrics.h"
#include "server/record_codec.h"
#include "server/worker_pool.h"

namespace recsys {

struct ScoringEngineOptions {
  // Most unary calls scored in one batch, >= 1 (1: no batching). Default 64.
  int max_unary_batch = 64;
  // Score a lone unary call on the calling thread when the forest predicts
  // (see above). Default true.
  bool score_lone_calls_inline = true;
  // Product-history versions refreshed beside the model (borrowed, must
  // outlive the engine); null: always the model bundle's own snapshot.
  // Default null.
  HistoryStore* history = nullptr;
};

// OK while a call may still be worked on, else why not (DEADLINE_EXCEEDED,
// CANCELLED). Called on worker threads.
using CallCheck = std::function<absl::Status()>;

// What the engine answers for a unary call or a stream message. A view into
// the engine's buffers: valid only while the `done` callback runs.
struct ScoredRows {
  // The version that scored every row not routed to a challenger (the
  // champion; for a unary call, the version that scored its row).
  const ModelVersion* model = nullptr;
  // "YYYY-MM": the month the product history of `model`'s rows serves (one
  // for all of them).
  absl::string_view history_month;
  // The requests, as decoded.
  absl::Span<const DecodedRequest> requests;
  // scores[i] answers requests[i]: its top requests[i].k products (fewer
  // when the customer owns the rest), or, when scores[i].status is not OK,
  // why the scorer could not score that row (scores[i].error_field names
  // the record field it is about).
  absl::Span<const RowScore> scores;
  // row_models[i] is the version that scored scores[i] (never null): `model`,
  // or the challenger for a customer in its share. Empty means `model` for
  // every row.
  absl::Span<const ModelVersion* const> row_models;
  // "YYYY-MM" the product history of the challenger's rows serves; empty
  // when no row went to the challenger.
  absl::string_view challenger_history_month;

  // When some row asked for explanations (DecodedRequest::explain):
  // explanations[i] explains scores[i].top product by product, in rank order
  // (empty for a row that did not ask). Empty when no row asked.
  absl::Span<const std::vector<ProductExplanation>> explanations;

  // The version that scored row i, and the month its history serves.
  const ModelVersion& ModelOf(size_t i) const {
    return row_models.empty() ? *model : *row_models[i];
  }
  absl::string_view HistoryMonthOf(size_t i) const {
    return &ModelOf(i) == model ? history_month : challenger_history_month;
  }
};

class ScoringEngine {
 public:
  // The call's answer, or a status for the call as a whole: UNAVAILABLE (no
  // model yet, shutting down), DEADLINE_EXCEEDED / CANCELLED (from the
  // call's check) or INTERNAL (the predictor failed).
  using Done = absl::AnyInvocable<void(absl::StatusOr<ScoredRows>)>;
  // Appends the requests of a stream message to `*rows` (empty on entry).
  // Runs on the worker that scores them, so that decoded rows live in that
  // worker's reused buffers.
  using DecodeRows = absl::AnyInvocable<void(std::vector<DecodedRequest>*)>;

  // All pointers are borrowed and must outlive the engine.
  ScoringEngine(ModelStore* store, WorkerPool* workers, ServerMetrics* metrics,
                const ScoringEngineOptions& options = {});
  // Answers the unary calls still queued (none once the pool has stopped)
  // with UNAVAILABLE.
  ~ScoringEngine();
  ScoringEngine(const ScoringEngine&) = delete;
  ScoringEngine& operator=(const ScoringEngine&) = delete;

  // Scores one customer, possibly in one batch with other calls (see
  // above); `done` gets one row.
  void Recommend(CallCheck check, DecodedRequest request, Done done);

  // The history a batch scored now on `model` uses; `*hold` keeps the store's
  // version alive while the choice is used.
  HistoryChoice HistoryFor(const ModelVersion& model,
                           std::shared_ptr<const HistoryVersion>* hold) const;

  // The history store's last load failure ("" when none, or no store).
  std::string HistoryLoadError() const;

  // Unary calls scored on the calling thread so far.
  int64_t scored_inline() const {
    return scored_inline_.load(std::memory_order_relaxed);
  }

  // Scores the rows that `decode` gives together, with `k` products each
  // (already validated); `done` gets them in the order `decode` gave them.
  void ScoreRows(CallCheck check, int k, DecodeRows decode, Done done);

 private:
  // A queued unary call.
  struct UnaryJob {
    CallCheck check;
    DecodedRequest request;
    Done done;
  };
  // Reused by one worker thread across jobs.
  struct Scratch {
    std::vector<UnaryJob> unary;     // the batch being scored
    std::vector<int> unary_row;      // per job: its row in decoded, or -1
    ScoreScratch score;
    std::vector<DecodedRequest> decoded;
    std::vector<HistoryView> views;
    std::vector<ScoreInput> rows;
    std::vector<RowScore> out;
    std::vector<TopKResult> tops;
    std::vector<int> months;    // per entry of tops: the month scored for
    std::string history_month;  // "YYYY-MM" the champion's rows' history
    std::string challenger_history_month;  // ... the challenger's ("": none)
    std::vector<const ModelVersion*> row_model;  // per decoded row
    std::vector<int> part;        // rows of decoded scored by one version
    std::vector<RowScore> part_out;  // their scores, when not every row
    // Per decoded row when some row asks for explanations, else empty.
    std::vector<std::vector<ProductExplanation>> explanations;
    ExplainScratch explain;
  };
  // Scores scratch->decoded, each row on the version `serving` routes it to:
  // fills scratch->out and scratch->row_model (same order) and records
  // metrics. Per-row problems stay in scratch->out[i].status. When `check`
  // is set, it is run again before predicting.
  absl::Status ScoreDecoded(const ServingModels& serving,
                            const CallCheck& check, int k, Scratch* scratch);
  // Scores the rows scratch->part of scratch->decoded on `model` into their
  // places in scratch->out; `*month` gets the month their history serves.
  absl::Status ScorePart(const ModelVersion& model, const CallCheck& check,
                         int k, Scratch* scratch, std::string* month);
  // Explains the rows of scratch->part that ask for it and were scored
  // (`out`: their scores, in part order; scratch->score: their features)
  // into scratch->explanations; a row that cannot be explained gets
  // INTERNAL in its out[j].status.
  void ExplainPart(const ModelVersion& model, absl::Span<RowScore> out,
                   Scratch* scratch);
  // Counts the rows of `out` scored from `history` for a month more than one
  // month after the month it serves.
  void CountStaleRows(const HistoryChoice& history,
                      absl::Span<const RowScore> out);
  // Runs on a worker: takes up to max_unary_batch queued unary calls and
  // answers each.
  void ScoreQueuedUnary(int worker) ABSL_LOCKS_EXCLUDED(unary_mu_);
  // Scores the calls in scratch->unary together (each on the version its
  // customer is routed to) and answers each; clears scratch->unary.
  void AnswerUnary(const ServingModels& serving, Scratch* scratch);
  // Scratch for a call to score inline on `model`, or null when the call
  // must go through the pool (see the file comment).
  std::unique_ptr<Scratch> InlineScratchLocked(const ModelVersion* model)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(unary_mu_);
  // Answers every queued unary call with `status`.
  void FailQueuedUnary(const absl::Status& status)
      ABSL_LOCKS_EXCLUDED(unary_mu_);
  // The champion and the challenger, or UNAVAILABLE when nothing serves.
  absl::StatusOr<ServingModels> ServingModel() const;

  ModelStore* const store_;
  WorkerPool* const workers_;
  ServerMetrics* const metrics_;
  const ScoringEngineOptions options_;
  std::vector<Scratch> scratch_;  // one per worker, indexed by worker number

  std::atomic<int64_t> scored_inline_{0};

  absl::Mutex unary_mu_;
  std::deque<UnaryJob> unary_queue_ ABSL_GUARDED_BY(unary_mu_);
  // The scratch of the call scored inline; null while one is.
  std::unique_ptr<Scratch> inline_scratch_ ABSL_GUARDED_BY(unary_mu_);
};

}  // namespace recsys

#endif  // RECSYS_SERVER_SCORING_ENGINE_H_
