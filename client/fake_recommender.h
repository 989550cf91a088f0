// A fake Recommender and ModelAdmin service for client tests: it answers from
// the customer code alone, in a scrambled order, and can be told to refuse
// rows or break a stream.
//
//   FakeRecommenderOptions options;
//   options.bad_ncodpers = {1170544};
//   auto server = FakeRecommenderServer::Start(options);  // 127.0.0.1:0
//   ClientOptions client_options;
//   client_options.server = (*server)->address();
#ifndef RECSYS_CLIENT_FAKE_RECOMMENDER_H_
#define RECSYS_CLIENT_FAKE_RECOMMENDER_H_

#include <grpcpp/server.h>

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "proto/api.h"

namespace recsys {

struct FakeRecommenderOptions {
  // Rows with these customer codes get a per-row INVALID_ARGUMENT naming
  // customer.ncodpers. Default none.
  std::set<int64_t> bad_ncodpers;
  // Answer the rows of each message in reverse, and each message only after
  // the next one arrived (or the client half-closed). Default true.
  bool scramble = true;
  // In the first `failing_streams` streams, after answering
  // `answers_before_failure` rows, end the stream with `failure` (OK = close
  // the stream with rows unanswered). Defaults: 0 streams, 0 rows, UNAVAILABLE.
  int failing_streams = 0;
  int answers_before_failure = 0;
  grpc::Status failure{grpc::StatusCode::UNAVAILABLE, "fake: injected failure"};
  // The first `stalling_streams` streams read every message and never
  // answer, until the client cancels. Default 0.
  int stalling_streams = 0;
  std::string model_version = "fake-v1";
  // After this many rows answered in all, every stream stops answering (it
  // still reads) until the call is cancelled, e.g. by the server shutting
  // down: a server that goes away mid-run. Default -1: never.
  int64_t hang_after_answers = -1;
  // Port to listen on, on 127.0.0.1 (to restart a server where a client
  // expects it). Default 0: an ephemeral port.
  int port = 0;
};

// The products the fake recommends for `ncodpers`: three Kaggle column names
// derived from the code, e.g. "ind_cco_fin_ult1 ind_recibo_ult1 ...".
std::string FakeProductsFor(int64_t ncodpers);

// Thread-safe.
class FakeRecommenderService final : public v1::Recommender::Service,
                                     public v1::ModelAdmin::Service {
 public:
  explicit FakeRecommenderService(FakeRecommenderOptions options)
      : options_(std::move(options)) {}

  grpc::Status Recommend(grpc::ServerContext* context,
                         const v1::RecommendRequest* request,
                         v1::RecommendResponse* response) override;
  grpc::Status RecommendStream(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<v1::RecommendStreamResponse,
                               v1::RecommendStreamRequest>* stream) override;
  grpc::Status GetModelInfo(grpc::ServerContext* context,
                            const v1::GetModelInfoRequest* request,
                            v1::ModelInfo* response) override;
  grpc::Status ListVersions(grpc::ServerContext* context,
                            const v1::ListVersionsRequest* request,
                            v1::ListVersionsResponse* response) override;
  grpc::Status Pin(grpc::ServerContext* context, const v1::PinRequest* request,
                   v1::ServingChange* response) override;

  // Row ids received, per stream in order of arrival (stream 0 first).
  std::vector<std::vector<uint64_t>> received() const;
  // How many times each row id was answered over all streams.
  std::map<uint64_t, int> answered() const;
  int streams() const;
  // The last unary request.
  v1::RecommendRequest last_request() const;

 private:
  const FakeRecommenderOptions options_;
  mutable absl::Mutex mu_;
  std::vector<std::vector<uint64_t>> received_ ABSL_GUARDED_BY(mu_);
  std::map<uint64_t, int> answered_ ABSL_GUARDED_BY(mu_);
  v1::RecommendRequest last_request_ ABSL_GUARDED_BY(mu_);
};

// The fake service on 127.0.0.1 with an ephemeral port.
class FakeRecommenderServer {
 public:
  // The destructor shuts the server down, cancelling calls still running
  // after 200 ms.
  static absl::StatusOr<std::unique_ptr<FakeRecommenderServer>> Start(
      FakeRecommenderOptions options);
  ~FakeRecommenderServer();

  std::string address() const { return address_; }
  FakeRecommenderService& service() { return *service_; }

 private:
  FakeRecommenderServer() = default;
  std::unique_ptr<FakeRecommenderService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::string address_;
};

}  // namespace recsys

#endif  // RECSYS_CLIENT_FAKE_RECOMMENDER_H_
