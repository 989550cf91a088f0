#include "client/recommender_client.h"

#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>

#include <chrono>
#include <utility>

#include "absl/strings/str_cat.h"

namespace recsys {
namespace {

std::chrono::system_clock::time_point DeadlineAfter(absl::Duration d) {
  return std::chrono::system_clock::now() + absl::ToChronoNanoseconds(d);
}

// Runs one unary call with a deadline; `call` is a stub method bound to its
// stub.
template <typename Response, typename Call>
absl::StatusOr<Response> Unary(absl::Duration deadline, Call call) {
  grpc::ClientContext context;
  context.set_deadline(DeadlineAfter(deadline));
  Response response;
  grpc::Status status = call(&context, &response);
  if (!status.ok()) return FromGrpcStatus(status);
  return response;
}

}  // namespace

absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      status.error_message());
}

bool IsTransient(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kCancelled:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kAborted:
    case absl::StatusCode::kResourceExhausted:
      return true;
    default:
      return false;
  }
}

absl::StatusOr<std::unique_ptr<RecommenderClient>> RecommenderClient::Create(
    const ClientOptions& options) {
  if (options.server.empty()) {
    return absl::InvalidArgumentError("server: required (HOST:PORT)");
  }
  if (options.max_message_bytes <= 0 ||
      options.deadline <= absl::ZeroDuration() ||
      options.reload_deadline <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "max_message_bytes, deadline and reload_deadline must be positive");
  }
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(options.max_message_bytes);
  args.SetMaxSendMessageSize(options.max_message_bytes);
  // gRPC waits up to 120 s between reconnect attempts to a server that went
  // away; `recsys score` retries for 60 s by default, so a server back after
  // a few seconds must be found within a few seconds.
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 2000);
  std::shared_ptr<grpc::Channel> channel = grpc::CreateCustomChannel(
      options.server, grpc::InsecureChannelCredentials(), args);
  return std::unique_ptr<RecommenderClient>(
      new RecommenderClient(options, std::move(channel)));
}

RecommenderClient::RecommenderClient(const ClientOptions& options,
                                     std::shared_ptr<grpc::Channel> channel)
    : options_(options),
      channel_(std::move(channel)),
      recommender_(v1::Recommender::NewStub(channel_)),
      admin_(v1::ModelAdmin::NewStub(channel_)) {}

absl::Status RecommenderClient::WaitForConnected(absl::Duration timeout) {
  if (channel_->WaitForConnected(DeadlineAfter(timeout)))
    return absl::OkStatus();
  return absl::UnavailableError(absl::StrCat("cannot reach the server at ",
                                             options_.server, " within ",
                                             absl::FormatDuration(timeout)));
}

absl::StatusOr<v1::RecommendResponse> RecommenderClient::Recommend(
    const v1::RecommendRequest& request) {
  return Unary<v1::RecommendResponse>(
      options_.deadline, [&](grpc::ClientContext* c, v1::RecommendResponse* r) {
        return recommender_->Recommend(c, request, r);
      });
}

absl::StatusOr<v1::ModelInfo> RecommenderClient::GetModelInfo(
    absl::string_view version) {
  v1::GetModelInfoRequest request;
  request.set_version(std::string(version));
  return Unary<v1::ModelInfo>(
      options_.deadline, [&](grpc::ClientContext* c, v1::ModelInfo* r) {
        return recommender_->GetModelInfo(c, request, r);
      });
}

absl::StatusOr<v1::ListVersionsResponse> RecommenderClient::ListVersions() {
  return Unary<v1::ListVersionsResponse>(
      options_.deadline,
      [&](grpc::ClientContext* c, v1::ListVersionsResponse* r) {
        return admin_->ListVersions(c, v1::ListVersionsRequest(), r);
      });
}

absl::StatusOr<v1::ReloadResponse> RecommenderClient::Reload() {
  return Unary<v1::ReloadResponse>(
      options_.reload_deadline,
      [&](grpc::ClientContext* c, v1::ReloadResponse* r) {
        return admin_->Reload(c, v1::ReloadRequest(), r);
      });
}

absl::StatusOr<v1::ServingChange> RecommenderClient::Pin(
    absl::string_view version) {
  v1::PinRequest request;
  request.set_version(std::string(version));
  return Unary<v1::ServingChange>(
      options_.deadline, [&](grpc::ClientContext* c, v1::ServingChange* r) {
        return admin_->Pin(c, request, r);
      });
}

absl::StatusOr<v1::ServingChange> RecommenderClient::Unpin() {
  return Unary<v1::ServingChange>(
      options_.deadline, [&](grpc::ClientContext* c, v1::ServingChange* r) {
        return admin_->Unpin(c, v1::UnpinRequest(), r);
      });
}

absl::StatusOr<v1::ServingChange> RecommenderClient::Rollback() {
  return Unary<v1::ServingChange>(
      options_.deadline, [&](grpc::ClientContext* c, v1::ServingChange* r) {
        return admin_->Rollback(c, v1::RollbackRequest(), r);
      });
}

}  // namespace recsys
