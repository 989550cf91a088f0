// A client of the santander.recsys.v1 services: one channel, typed calls,
// absl::Status errors.
//
//   ClientOptions options;
//   options.server = "127.0.0.1:50051";
//   RECSYS_ASSIGN_OR_RETURN(auto client, RecommenderClient::Create(options));
//   v1::RecommendRequest request;
//   RECSYS_ASSIGN_OR_RETURN(*request.mutable_customer(), EncodeCustomer(row));
//   RECSYS_ASSIGN_OR_RETURN(v1::RecommendResponse top,
//   client->Recommend(request));
//
// Batch scoring over RecommendStream lives in client/batch_scorer.h and uses
// recommender_stub().
#ifndef RECSYS_CLIENT_RECOMMENDER_CLIENT_H_
#define RECSYS_CLIENT_RECOMMENDER_CLIENT_H_

#include <grpcpp/channel.h>
#include <grpcpp/support/status.h>

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "proto/api.h"

namespace recsys {

struct ClientOptions {
  // "host:port" of the server. Required.
  std::string server;
  // Largest message sent or received, in bytes. Default 64 MiB.
  int max_message_bytes = 64 << 20;
  // Deadline of each unary call (Recommend, GetModelInfo, admin calls).
  // Default 10 s.
  absl::Duration deadline = absl::Seconds(10);
  // Deadline of Reload, which waits for a whole store scan. Default 120 s.
  absl::Duration reload_deadline = absl::Seconds(120);
  // TLS (docs/security.md). PEM file of the CA that signed the server's
  // certificate; setting it (or tls_cert_file) turns TLS on. Default empty:
  // plaintext.
  std::string tls_ca_file;
  // Client certificate and key (PEM) for a server that requires mutual TLS.
  // Default empty.
  std::string tls_cert_file;
  std::string tls_key_file;
  // Name the server's certificate must carry, when it differs from the host
  // in `server` (e.g. connecting by IP). Default empty.
  std::string tls_server_name;
  // File holding the admin token sent with every ModelAdmin call as
  // "authorization: Bearer <token>". Default empty: none sent.
  std::string admin_token_file;
};

// Thread-safe: calls may be made concurrently from any thread.
class RecommenderClient {
 public:
  // Creates a client over a channel to options.server (TLS when
  // options.tls_ca_file or tls_cert_file is set, else plaintext; connecting
  // lazily). INVALID_ARGUMENT when options.server is empty, a size or
  // deadline is not positive, or only one of tls_cert_file and tls_key_file
  // is set; NOT_FOUND / PERMISSION_DENIED naming a TLS or token file that
  // cannot be read.
  static absl::StatusOr<std::unique_ptr<RecommenderClient>> Create(
      const ClientOptions& options);

  RecommenderClient(const RecommenderClient&) = delete;
  RecommenderClient& operator=(const RecommenderClient&) = delete;

  // Waits up to `timeout` for the channel to connect. Returns UNAVAILABLE
  // naming the server when it could not.
  absl::Status WaitForConnected(absl::Duration timeout);

  // Recommender.Recommend with options.deadline. Errors are the server's
  // status (e.g. INVALID_ARGUMENT naming a field) or a transport error.
  absl::StatusOr<v1::RecommendResponse> Recommend(
      const v1::RecommendRequest& request);

  // Recommender.GetModelInfo of `version` ("" = the serving version).
  absl::StatusOr<v1::ModelInfo> GetModelInfo(absl::string_view version = "");

  // grpc.health.v1 Health.Check of `service` ("" = readiness: a model
  // serves; "liveness": the process works) with options.deadline. Returns
  // the status the server reports (SERVING, NOT_SERVING); NOT_FOUND when
  // it does not know the service; transport errors as UNAVAILABLE etc.
  absl::StatusOr<grpc::health::v1::HealthCheckResponse::ServingStatus>
  CheckHealth(absl::string_view service);

  // ModelAdmin calls; see the proto for their semantics.
  absl::StatusOr<v1::ListVersionsResponse> ListVersions();
  absl::StatusOr<v1::ReloadResponse> Reload();
  absl::StatusOr<v1::ServingChange> Pin(absl::string_view version);
  absl::StatusOr<v1::ServingChange> Unpin();
  absl::StatusOr<v1::ServingChange> Rollback();
  absl::StatusOr<v1::ChallengerChange> SetChallenger(absl::string_view version,
                                                     double share);
  absl::StatusOr<v1::ChallengerChange> ClearChallenger();

  // The Recommender stub on this client's channel, for streaming calls.
  // Owned by the client.
  v1::Recommender::StubInterface* recommender_stub() {
    return recommender_.get();
  }

  // The channel every call of this client uses (e.g. for grpc.health.v1).
  std::shared_ptr<grpc::Channel> channel() const { return channel_; }

  const ClientOptions& options() const { return options_; }

 private:
  RecommenderClient(const ClientOptions& options,
                    std::shared_ptr<grpc::Channel> channel,
                    std::string admin_token);

  const ClientOptions options_;
  const std::string admin_token_;  // "" = none
  const std::shared_ptr<grpc::Channel> channel_;
  const std::unique_ptr<v1::Recommender::StubInterface> recommender_;
  const std::unique_ptr<v1::ModelAdmin::StubInterface> admin_;
};

// The absl::Status for a grpc::Status: same canonical code and message.
absl::Status FromGrpcStatus(const grpc::Status& status);

// True for failures worth retrying on a new call, the one place that decides
// it: UNAVAILABLE (server down, connection lost, draining), CANCELLED (a
// stalled stream the client cancelled), DEADLINE_EXCEEDED, ABORTED and
// RESOURCE_EXHAUSTED (the server at its limit of concurrent calls). Every
// other code is deterministic (INVALID_ARGUMENT, FAILED_PRECONDITION,
// INTERNAL, ...): the same request would fail the same way.
bool IsTransient(const absl::Status& status);

}  // namespace recsys

#endif  // RECSYS_CLIENT_RECOMMENDER_CLIENT_H_
