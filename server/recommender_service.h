// RecommenderService: the santander.recsys.v1.Recommender service on gRPC's
// callback API. Handlers decode the request (server/record_codec.h), hand
// the scoring to the ScoringEngine (which runs it on the worker pool), encode
// and finish with the converted status.
//
//   RecommenderService service(options, &store, &engine, &admin_pool, metrics);
//   builder.RegisterService(&service);
//
// While the server drains (CallTracker), new calls get UNAVAILABLE.
//
// Thread-safe; every pointer is borrowed and must outlive the service.
#ifndef RECSYS_SERVER_RECOMMENDER_SERVICE_H_
#define RECSYS_SERVER_RECOMMENDER_SERVICE_H_

#include "model_store/model_store.h"
#include "proto/api.h"
#include "server/call_tracker.h"
#include "server/metrics.h"
#include "server/recommend_stream.h"
#include "server/scoring_engine.h"
#include "server/worker_pool.h"

namespace recsys {

class RecommenderService final : public v1::Recommender::CallbackService {
 public:
  // `admin_pool` runs the rare calls that read files (GetModelInfo of a
  // version other than the serving one) off gRPC's threads.
  RecommenderService(const StreamLimits& limits, ModelStore* store,
                     ScoringEngine* engine, WorkerPool* admin_pool,
                     ServerMetrics* metrics, CallTracker* tracker)
      : limits_(limits),
        store_(store),
        engine_(engine),
        admin_pool_(admin_pool),
        metrics_(metrics),
        tracker_(tracker) {}

  grpc::ServerUnaryReactor* Recommend(grpc::CallbackServerContext* context,
                                      const v1::RecommendRequest* request,
                                      v1::RecommendResponse* response) override;

  grpc::ServerBidiReactor<v1::RecommendStreamRequest,
                          v1::RecommendStreamResponse>*
  RecommendStream(grpc::CallbackServerContext* context) override;

  grpc::ServerUnaryReactor* GetModelInfo(grpc::CallbackServerContext* context,
                                         const v1::GetModelInfoRequest* request,
                                         v1::ModelInfo* response) override;

 private:
  const StreamLimits limits_;
  ModelStore* const store_;
  ScoringEngine* const engine_;
  WorkerPool* const admin_pool_;
  ServerMetrics* const metrics_;
  CallTracker* const tracker_;
};

}  // namespace recsys

#endif  // RECSYS_SERVER_RECOMMENDER_SERVICE_H_
