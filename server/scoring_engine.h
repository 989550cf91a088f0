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
// picks the job up (before featurizing) and again before predicting; an
// expired call gets DEADLINE_EXCEEDED (a cancelled one CANCELLED) and no
// further work is done for it.
//
// Each job holds the std::shared_ptr<const ModelVersion> it started with, so
// a model swapped in meanwhile never changes a batch half-way.
//
// Thread-safe. `done` callbacks run on a worker thread (or inline, with
// UNAVAILABLE, when the pool no longer accepts work).
#ifndef RECSYS_SERVER_SCORING_ENGINE_H_
#define RECSYS_SERVER_SCORING_ENGINE_H_

#include <grpcpp/server_context.h>

#include <memory>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
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

class ScoringEngine {
 public:
  using StreamDone = absl::AnyInvocable<void(
      absl::StatusOr<std::unique_ptr<v1::RecommendStreamResponse>>)>;

  // All pointers are borrowed and must outlive the engine.
  ScoringEngine(ModelStore* store, WorkerPool* workers, ServerMetrics* metrics);
  ScoringEngine(const ScoringEngine&) = delete;
  ScoringEngine& operator=(const ScoringEngine&) = delete;

  // Scores one customer and fills `*response` (which must stay valid until
  // `done` runs). `done` gets OK, UNAVAILABLE (no model yet, shutting down),
  // DEADLINE_EXCEEDED / CANCELLED, OUT_OF_RANGE (fecha_dato before the
  // months the model's history serves) or INTERNAL (XGBoost failed).
  void Recommend(const grpc::ServerContextBase* context, DecodedRequest request,
                 v1::RecommendResponse* response,
                 absl::AnyInvocable<void(absl::Status)> done);

  // Decodes and scores the rows of one RecommendStream message together,
  // with `k` products each (already validated). `done` gets one response
  // answering every row in order (a bad row has its own RowError; the good
  // rows are scored), or a status for the stream as a whole: UNAVAILABLE,
  // DEADLINE_EXCEEDED, CANCELLED or INTERNAL as for Recommend.
  void ScoreStreamMessage(const grpc::ServerContextBase* context,
                          std::unique_ptr<v1::RecommendStreamRequest> request,
                          int k, StreamDone done);

 private:
  // Reused by one worker thread across jobs.
  struct Scratch {
    ScoreScratch score;
    std::vector<DecodedRequest> decoded;
    std::vector<HistoryView> views;
    std::vector<ScoreRow> rows;
    std::vector<RowScore> out;
    std::vector<TopKResult> tops;
  };
  // Scores scratch->decoded on `model`: fills scratch->out (same order) and
  // records metrics. Per-row problems stay in scratch->out[i].status.
  absl::Status ScoreDecoded(const ModelVersion& model,
                            const grpc::ServerContextBase& context, int k,
                            Scratch* scratch);
  // The serving version, or UNAVAILABLE.
  absl::StatusOr<std::shared_ptr<const ModelVersion>> ServingModel() const;

  ModelStore* const store_;
  WorkerPool* const workers_;
  ServerMetrics* const metrics_;
  std::vector<Scratch> scratch_;  // one per worker, indexed by worker number
};

}  // namespace recsys

#endif  // RECSYS_SERVER_SCORING_ENGINE_H_
