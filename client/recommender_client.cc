#include "client/recommender_client.h"

#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace recsys {
namespace {

std::chrono::system_clock::time_point DeadlineAfter(absl::Duration d) {
  return std::chrono::system_clock::now() + absl::ToChronoNanoseconds(d);
}

// The whole of the file `path` given as `option`.
absl::StatusOr<std::string> ReadOptionFile(absl::string_view option,
                                           const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int error = errno;
    const std::string why = absl::StrCat(option, ": cannot read ", path, ": ",
                                         std::strerror(error));
    if (error == EACCES || error == EPERM)
      return absl::PermissionDeniedError(why);
    return absl::NotFoundError(why);
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> CredentialsFor(
    const ClientOptions& options) {
  if (options.tls_cert_file.empty() != options.tls_key_file.empty()) {
    return absl::InvalidArgumentError(
        "--tls-cert and --tls-key go together: give both or neither");
  }
  if (options.tls_ca_file.empty() && options.tls_cert_file.empty()) {
    if (!options.tls_server_name.empty()) {
      return absl::InvalidArgumentError(
          "--tls-server-name needs TLS: give --tls-ca too");
    }
    return grpc::InsecureChannelCredentials();
  }
  grpc::SslCredentialsOptions ssl;  // no CA file: the system's roots
  if (!options.tls_ca_file.empty()) {
    RECSYS_ASSIGN_OR_RETURN(ssl.pem_root_certs,
                            ReadOptionFile("--tls-ca", options.tls_ca_file));
  }
  if (!options.tls_cert_file.empty()) {
    RECSYS_ASSIGN_OR_RETURN(
        ssl.pem_cert_chain, ReadOptionFile("--tls-cert", options.tls_cert_file));
    RECSYS_ASSIGN_OR_RETURN(
        ssl.pem_private_key, ReadOptionFile("--tls-key", options.tls_key_file));
  }
  return grpc::SslCredentials(ssl);
}

// Runs one unary call with a deadline (and the admin token, when not empty);
// `call` is a stub method bound to its stub.
template <typename Response, typename Call>
absl::StatusOr<Response> Unary(absl::Duration deadline, Call call,
                               const std::string& admin_token = "") {
  grpc::ClientContext context;
  context.set_deadline(DeadlineAfter(deadline));
  if (!admin_token.empty())
    context.AddMetadata("authorization", absl::StrCat("Bearer ", admin_token));
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
  if (!options.tls_server_name.empty()) {
    args.SetSslTargetNameOverride(options.tls_server_name);
  }
  RECSYS_ASSIGN_OR_RETURN(std::shared_ptr<grpc::ChannelCredentials> credentials,
                          CredentialsFor(options));
  std::string admin_token;
  if (!options.admin_token_file.empty()) {
    RECSYS_ASSIGN_OR_RETURN(
        admin_token,
        ReadOptionFile("--admin-token-file", options.admin_token_file));
    admin_token = std::string(absl::StripTrailingAsciiWhitespace(admin_token));
    if (admin_token.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--admin-token-file: ", options.admin_token_file, " is empty"));
    }
  }
  // gRPC waits up to 120 s between reconnect attempts to a server that went
  // away; `recsys score` retries for 60 s by default, so a server back after
  // a few seconds must be found within a few seconds.
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 2000);
  std::shared_ptr<grpc::Channel> channel =
      grpc::CreateCustomChannel(options.server, credentials, args);
  return std::unique_ptr<RecommenderClient>(new RecommenderClient(
      options, std::move(channel), std::move(admin_token)));
}

RecommenderClient::RecommenderClient(const ClientOptions& options,
                                     std::shared_ptr<grpc::Channel> channel,
                                     std::string admin_token)
    : options_(options),
      admin_token_(std::move(admin_token)),
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

absl::StatusOr<grpc::health::v1::HealthCheckResponse::ServingStatus>
RecommenderClient::CheckHealth(absl::string_view service) {
  using grpc::health::v1::HealthCheckResponse;
  const std::unique_ptr<grpc::health::v1::Health::Stub> health =
      grpc::health::v1::Health::NewStub(channel_);
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(std::string(service));
  absl::StatusOr<HealthCheckResponse> response = Unary<HealthCheckResponse>(
      options_.deadline, [&](grpc::ClientContext* c, HealthCheckResponse* r) {
        return health->Check(c, request, r);
      });
  if (!response.ok()) return response.status();
  return response->status();
}

absl::StatusOr<v1::ListVersionsResponse> RecommenderClient::ListVersions() {
  return Unary<v1::ListVersionsResponse>(
      options_.deadline,
      [&](grpc::ClientContext* c, v1::ListVersionsResponse* r) {
        return admin_->ListVersions(c, v1::ListVersionsRequest(), r);
      },
      admin_token_);
}

absl::StatusOr<v1::ReloadResponse> RecommenderClient::Reload() {
  return Unary<v1::ReloadResponse>(
      options_.reload_deadline,
      [&](grpc::ClientContext* c, v1::ReloadResponse* r) {
        return admin_->Reload(c, v1::ReloadRequest(), r);
      },
      admin_token_);
}

absl::StatusOr<v1::ServingChange> RecommenderClient::Pin(
    absl::string_view version) {
  v1::PinRequest request;
  request.set_version(std::string(version));
  return Unary<v1::ServingChange>(
      options_.deadline, [&](grpc::ClientContext* c, v1::ServingChange* r) {
        return admin_->Pin(c, request, r);
      },
      admin_token_);
}

absl::StatusOr<v1::ServingChange> RecommenderClient::Unpin() {
  return Unary<v1::ServingChange>(
      options_.deadline, [&](grpc::ClientContext* c, v1::ServingChange* r) {
        return admin_->Unpin(c, v1::UnpinRequest(), r);
      },
      admin_token_);
}

absl::StatusOr<v1::ChallengerChange> RecommenderClient::SetChallenger(
    absl::string_view version, double share) {
  v1::SetChallengerRequest request;
  request.set_version(std::string(version));
  request.set_share(share);
  return Unary<v1::ChallengerChange>(
      options_.deadline, [&](grpc::ClientContext* c, v1::ChallengerChange* r) {
        return admin_->SetChallenger(c, request, r);
      },
      admin_token_);
}

absl::StatusOr<v1::ChallengerChange> RecommenderClient::ClearChallenger() {
  return Unary<v1::ChallengerChange>(
      options_.deadline, [&](grpc::ClientContext* c, v1::ChallengerChange* r) {
        return admin_->ClearChallenger(c, v1::ClearChallengerRequest(), r);
      },
      admin_token_);
}

absl::StatusOr<v1::ServingChange> RecommenderClient::Rollback() {
  return Unary<v1::ServingChange>(
      options_.deadline, [&](grpc::ClientContext* c, v1::ServingChange* r) {
        return admin_->Rollback(c, v1::RollbackRequest(), r);
      },
      admin_token_);
}

}  // namespace recsys
