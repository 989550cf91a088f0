// ScoringEngine: the server's scoring path. It takes decoded API requests,
// runs featurize + predict + rank (model_store/scorer.h) on the fixed worker
// pool against the serving model version, encodes the results, and records
// the work in ServerMetrics.
//
//   ScoringEngine engine(&store, &workers, &metrics);
//   engine.Recommend(context, std::move(decoded), response,
//                    [reactor](absl::Status s) {
//                    reactor->Finish(ToGrpcStatus(s)); });
//
// Deadlines: the call's deadline and cancellation are checked when a worker
// picks the job up (before featurizing) and, for a stream message, again
// before predicting; an expired call gets DEADLINE_EXCEEDED (a cancelled one
// CANCELLED) and no further work is done for it.
//
// Unary calls are batched adaptively: Recommend queues the call and asks the
// pool for a worker; the worker that picks it up takes its share of the
// unary calls queued by then (an even split over the workers, at most
// max_unary_batch) and scores them together in one prediction. An idle server answers each call on its own, with no added
// wait; a busy one amortizes XGBoost's per-call cost and its cold caches
// over the calls that queued meanwhile (BENCHMARKS.md has the numbers).
// A batched call gets exactly the answer it would get alone.
//
// Each job holds the std::shared_ptr<const ModelVersion> it started with, so
// a model swapped in meanwhile never changes a batch half-way; likewise each
// batch takes one product-history snapshot (the history store's, or the
// bundle's: ChooseHistory) for all its rows, so a batch never mixes two
// history months.
//
// Thread-safe. `done` callbacks run on a worker thread (or inline, with
// UNAVAILABLE, when the pool no longer accepts work).
#ifndef RECSYS_SERVER_SCORING_ENGINE_H_
#define RECSYS_SERVER_SCORING_ENGINE_H_

#include <google/protobuf/arena.h>
#include <grpcpp/server_context.h>

#include <deque>
#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "model_store/history_store.h"
#include "model_store/model_store.h"
#include "model_store/scorer.h"
#include "proto/api.h"
#include "server/metrics.h"
#include "server/record_codec.h"
#include "server/worker_pool.h"

namespace recsys {

// OK while the call may still be worked on; DEADLINE_EXCEEDED once its
// deadline has passed; CANCELLED when the client (or the server's shutdown)
// cancelled it.
absl::Status CheckCall(const grpc::ServerContextBase& context);

struct ScoringEngineOptions {
  // Most unary calls scored in one batch, >= 1 (1: no batching). Default 64.
  int max_unary_batch = 64;
  // Product-history versions refreshed beside the model (borrowed, must
  // outlive the engine); null: always the model bundle's own snapshot.
  // Default null.
  HistoryStore* history = nullptr;
};

// One RecommendStream message and its answer, allocated on one protobuf
// arena and freed together once the answer is written: parsing ~15 strings
// per row and building 7 recommendations per row on the heap cost the
// server about 3 µs per row in malloc/free (BENCHMARKS.md).
struct StreamBatch {
  StreamBatch();
  StreamBatch(const StreamBatch&) = delete;
  StreamBatch& operator=(const StreamBatch&) = delete;

  google::protobuf::Arena arena;
  v1::RecommendStreamRequest* const request;    // on `arena`
  v1::RecommendStreamResponse* const response;  // on `arena`
};

class ScoringEngine {
 public:
  using StreamDone =
      absl::AnyInvocable<void(absl::StatusOr<std::unique_ptr<StreamBatch>>)>;

  // All pointers are borrowed and must outlive the engine.
  ScoringEngine(ModelStore* store, WorkerPool* workers, ServerMetrics* metrics,
                const ScoringEngineOptions& options = {});
  // Answers the unary calls still queued (none once the pool has stopped)
  // with UNAVAILABLE.
  ~ScoringEngine();
  ScoringEngine(const ScoringEngine&) = delete;
  ScoringEngine& operator=(const ScoringEngine&) = delete;

  // Scores one customer and fills `*response` (which must stay valid until
  // `done` runs), possibly in one batch with other calls (see above). `done` gets OK, UNAVAILABLE (no model yet, shutting down),
  // DEADLINE_EXCEEDED / CANCELLED, OUT_OF_RANGE (fecha_dato before the
  // months the model's history serves) or INTERNAL (XGBoost failed).
  void Recommend(const grpc::ServerContextBase* context, DecodedRequest request,
                 v1::RecommendResponse* response,
                 absl::AnyInvocable<void(absl::Status)> done);

  // The history a batch scored now on `model` uses; `*hold` keeps the store's
  // version alive while the choice is used.
  HistoryChoice HistoryFor(const ModelVersion& model,
                           std::shared_ptr<const HistoryVersion>* hold) const;

  // The history store's last load failure ("" when none, or no store).
  std::string HistoryLoadError() const;

  // Decodes and scores the rows of batch->request together, with `k`
  // products each (already validated). `done` gets the batch back with
  // batch->response answering every row in order (a bad row has its own
  // RowError; the good rows are scored), or a status for the stream as a
  // whole: UNAVAILABLE, DEADLINE_EXCEEDED, CANCELLED or INTERNAL as for
  // Recommend.
  void ScoreStreamMessage(const grpc::ServerContextBase* context,
                          std::unique_ptr<StreamBatch> batch, int k,
                          StreamDone done);

 private:
  // A queued unary call.
  struct UnaryJob {
    const grpc::ServerContextBase* context = nullptr;
    DecodedRequest request;
    v1::RecommendResponse* response = nullptr;
    absl::AnyInvocable<void(absl::Status)> done;
  };
  // Reused by one worker thread across jobs.
  struct Scratch {
    std::vector<UnaryJob> unary;     // the batch being scored
    std::vector<int> unary_row;      // per job: its row in decoded, or -1
    ScoreScratch score;
    std::vector<DecodedRequest> decoded;
    std::vector<HistoryView> views;
    std::vector<ScoreRow> rows;
    std::vector<RowScore> out;
    std::vector<TopKResult> tops;
    std::vector<int> months;  // per entry of tops: the month scored for
    std::string history_month;  // "YYYY-MM" the batch's history serves
  };
  // Scores scratch->decoded on `model`: fills scratch->out (same order) and
  // records metrics. Per-row problems stay in scratch->out[i].status. When
  // `context` is not null, its deadline is checked again before predicting.
  absl::Status ScoreDecoded(const ModelVersion& model,
                            const grpc::ServerContextBase* context, int k,
                            Scratch* scratch);
  // Counts the rows of scratch->out scored from `history` for a month more
  // than one month after the month it serves.
  void CountStaleRows(const HistoryChoice& history, const Scratch& scratch);
  // Runs on a worker: takes up to max_unary_batch queued unary calls and
  // answers each.
  void ScoreQueuedUnary(int worker) ABSL_LOCKS_EXCLUDED(unary_mu_);
  // Answers every queued unary call with `status`.
  void FailQueuedUnary(const absl::Status& status)
      ABSL_LOCKS_EXCLUDED(unary_mu_);
  // The serving version, or UNAVAILABLE.
  absl::StatusOr<std::shared_ptr<const ModelVersion>> ServingModel() const;

  ModelStore* const store_;
  WorkerPool* const workers_;
  ServerMetrics* const metrics_;
  const ScoringEngineOptions options_;
  std::vector<Scratch> scratch_;  // one per worker, indexed by worker number

  absl::Mutex unary_mu_;
  std::deque<UnaryJob> unary_queue_ ABSL_GUARDED_BY(unary_mu_);
};

}  // namespace recsys

#endif  // RECSYS_SERVER_SCORING_ENGINE_H_
