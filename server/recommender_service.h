// RecommenderService: the santander.recsys.v1.Recommender service on gRPC's
// callback API. Every method takes its request as raw bytes and parses it
// itself (server/request_parsing.h), so a request that does not parse is
// answered INVALID_ARGUMENT with the reason, counted in the metrics like any
// call, and never silently dropped. Handlers then decode the request
// (server/record_codec.h), hand the scoring to the ScoringEngine (which runs
// it on the worker pool, or at once on the calling thread for a lone call),
// encode its ScoredRows and finish with the converted status.
//
//   RecommenderService service(options, &store, &engine, &admin_pool,
//                              metrics, &tracker, &budget);
//   builder.RegisterService(&service);
//
// While the server drains (CallTracker), new calls get UNAVAILABLE; over the
// call caps, RESOURCE_EXHAUSTED.
//
// Thread-safe; every pointer is borrowed and must outlive the service.
#ifndef RECSYS_SERVER_RECOMMENDER_SERVICE_H_
#define RECSYS_SERVER_RECOMMENDER_SERVICE_H_

#include <grpcpp/support/byte_buffer.h>

#include "model_store/model_store.h"
#include "proto/api.h"
#include "server/call_tracker.h"
#include "server/customer_directory.h"
#include "server/metrics.h"
#include "server/recommend_stream.h"
#include "server/request_memory.h"
#include "server/scoring_engine.h"
#include "server/worker_pool.h"

namespace recsys {

// The Recommender service with every method on raw bytes.
using RawRecommenderBase = v1::Recommender::WithRawCallbackMethod_Recommend<
    v1::Recommender::WithRawCallbackMethod_RecommendStream<
        v1::Recommender::WithRawCallbackMethod_GetModelInfo<
            v1::Recommender::WithRawCallbackMethod_GetCustomer<
                v1::Recommender::Service>>>>;

struct RecommenderLimits {
  StreamLimits stream;
  // Largest unary request accepted, in bytes; larger ones are refused with
  // RESOURCE_EXHAUSTED before they are parsed. Default 64 KiB.
  int max_unary_message_bytes = 64 << 10;
};

class RecommenderService final : public RawRecommenderBase {
 public:
  // `admin_pool` runs the rare calls that read files (GetModelInfo of a
  // version other than the serving one) off gRPC's threads. `served_log`
  // (may be null: none) records every answer (server/served_log.h).
  // `customers` (may be null: GetCustomer is UNIMPLEMENTED) answers
  // GetCustomer, on gRPC's thread (one indexed SQLite read).
  RecommenderService(const RecommenderLimits& limits, ModelStore* store,
                     ScoringEngine* engine, WorkerPool* admin_pool,
                     ServerMetrics* metrics, CallTracker* tracker,
                     RequestMemoryBudget* budget,
                     ServedLog* served_log = nullptr,
                     const CustomerDirectory* customers = nullptr)
      : limits_(limits),
        store_(store),
        engine_(engine),
        admin_pool_(admin_pool),
        metrics_(metrics),
        tracker_(tracker),
        budget_(budget),
        served_log_(served_log),
        customers_(customers) {}

  grpc::ServerUnaryReactor* Recommend(grpc::CallbackServerContext* context,
                                      const grpc::ByteBuffer* request,
                                      grpc::ByteBuffer* response) override;

  grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>*
  RecommendStream(grpc::CallbackServerContext* context) override;

  grpc::ServerUnaryReactor* GetModelInfo(grpc::CallbackServerContext* context,
                                         const grpc::ByteBuffer* request,
                                         grpc::ByteBuffer* response) override;

  grpc::ServerUnaryReactor* GetCustomer(grpc::CallbackServerContext* context,
                                        const grpc::ByteBuffer* request,
                                        grpc::ByteBuffer* response) override;

 private:
  // Fills the serving_history_* and history_load_error fields of `info`.
  void DescribeHistory(const ModelVersion& serving, v1::ModelInfo* info) const;
  // Fills challenger_version and challenger_share of the serving version's
  // or the challenger's `info`.
  void DescribeChallenger(v1::ModelInfo* info) const;

  const RecommenderLimits limits_;
  ModelStore* const store_;
  ScoringEngine* const engine_;
  WorkerPool* const admin_pool_;
  ServerMetrics* const metrics_;
  CallTracker* const tracker_;
  RequestMemoryBudget* const budget_;
  ServedLog* const served_log_;
  const CustomerDirectory* const customers_;
};

}  // namespace recsys

#endif  // RECSYS_SERVER_RECOMMENDER_SERVICE_H_
