#include "server/recommender_service.h"

#include <chrono>
#include <memory>

#include "common/date.h"
#include "common/elapsed.h"
#include "common/status_macros.h"
#include "server/proto_encode.h"
#include "server/recommend_answer.h"
#include "server/record_codec.h"
#include "server/request_parsing.h"
#include "server/rpc_record.h"
#include "server/unary_call.h"

namespace recsys {
namespace {

// A string literal (RpcRecord keeps it).
const char* const kService = v1::Recommender::service_full_name();

// The answer to a unary Recommend call from what the engine gave: the
// serialized response, or the call's status (RecommendAnswer).
absl::Status EncodeRecommendResponse(
    const absl::StatusOr<ScoredRows>& scored, grpc::ByteBuffer* out) {
  absl::StatusOr<v1::RecommendResponse> response = RecommendAnswer(scored);
  if (!response.ok()) return response.status();
  return SerializeToByteBuffer(*response, out);
}

}  // namespace

grpc::ServerUnaryReactor* RecommenderService::Recommend(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request_bytes,
    grpc::ByteBuffer* response_bytes) {
  auto* call = new UnaryCall(metrics_, tracker_, kService, "Recommend", context);
  if (!call->admitted()) return call->Refuse();
  if (request_bytes->Length() >
      static_cast<size_t>(limits_.max_unary_message_bytes)) {
    return call->FinishWith(UnaryRequestTooLarge(
        request_bytes->Length(), limits_.max_unary_message_bytes));
  }
  const auto parse_start = std::chrono::steady_clock::now();
  v1::RecommendRequest request;
  absl::Status parsed = ParseRequest(*request_bytes, &request, "request");
  absl::StatusOr<DecodedRequest> decoded =
      parsed.ok() ? DecodeRecommendRequest(request)
                  : absl::StatusOr<DecodedRequest>(parsed);
  metrics_->StageDuration(Stage::kParse, SecondsSince(parse_start));
  if (!decoded.ok()) return call->FinishWith(decoded.status());
  engine_->Recommend(
      [context] { return CheckCall(*context); }, *std::move(decoded),
      [call, response_bytes,
       log = served_log_](absl::StatusOr<ScoredRows> scored) {
        absl::Status status = EncodeRecommendResponse(scored, response_bytes);
        if (status.ok() && log != nullptr) log->Record(*scored);
        call->FinishWith(status);
      });
  return call;
}

grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>*
RecommenderService::RecommendStream(grpc::CallbackServerContext* context) {
  return new RecommendStreamReactor(context, engine_, metrics_, tracker_,
                                    budget_, limits_.stream, served_log_);
}

void RecommenderService::DescribeHistory(const ModelVersion& serving,
                                         v1::ModelInfo* info) const {
  DescribeServingHistory(*engine_, serving, info);
}

void RecommenderService::DescribeChallenger(v1::ModelInfo* info) const {
  const ServingModels serving = store_->Serving();
  if (serving.challenger == nullptr) return;
  const std::string challenger = absl::StrCat(serving.challenger->version());
  // The serving version's info names its challenger; the challenger's, itself.
  const bool serving_info =
      serving.champion != nullptr &&
      info->version() == absl::StrCat(serving.champion->version());
  if (!serving_info && info->version() != challenger) return;
  info->set_challenger_version(challenger);
  info->set_challenger_share(serving.challenger_share);
}

grpc::ServerUnaryReactor* RecommenderService::GetModelInfo(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request_bytes,
    grpc::ByteBuffer* response_bytes) {
  auto* call =
      new UnaryCall(metrics_, tracker_, kService, "GetModelInfo", context);
  if (!call->admitted()) return call->Refuse();
  v1::GetModelInfoRequest request;
  if (request_bytes->Length() >
      static_cast<size_t>(limits_.max_unary_message_bytes)) {
    return call->FinishWith(RequestTooLarge(request_bytes->Length(),
                                            limits_.max_unary_message_bytes));
  }
  if (absl::Status parsed = ParseRequest(*request_bytes, &request, "request");
      !parsed.ok()) {
    return call->FinishWith(parsed);
  }
  std::shared_ptr<const ModelVersion> serving = store_->Current();
  absl::StatusOr<int64_t> version = -1;
  if (!request.version().empty())
    version = ParseVersionField("version", request.version());
  if (!version.ok()) return call->FinishWith(version.status());
  if (*version < 0 || (serving != nullptr && *version == serving->version())) {
    absl::StatusOr<v1::ModelInfo> info =
        serving == nullptr
            ? absl::UnavailableError(
                  "no model is loaded yet; the server is not serving")
            : EncodeModelInfo(DescribeVersion(*serving));
    absl::Status status = info.status();
    if (info.ok()) {
      DescribeHistory(*serving, &*info);
      DescribeChallenger(&*info);
      status = SerializeToByteBuffer(*info, response_bytes);
    }
    return call->FinishWith(status);
  }
  // Another version: it may have to be read from disk, off gRPC's threads
  // (the admin pool stops only after every call has finished).
  admin_pool_->Submit([this, call, response_bytes, v = *version](int) {
    absl::StatusOr<VersionDescription> description = store_->Describe(v);
    absl::StatusOr<v1::ModelInfo> info =
        description.ok() ? EncodeModelInfo(*description)
                         : absl::StatusOr<v1::ModelInfo>(description.status());
    absl::Status status = info.status();
    if (info.ok()) {
      DescribeChallenger(&*info);
      status = SerializeToByteBuffer(*info, response_bytes);
    }
    call->FinishWith(status);
  });
  return call;
}

grpc::ServerUnaryReactor* RecommenderService::GetCustomer(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request_bytes,
    grpc::ByteBuffer* response_bytes) {
  auto* call =
      new UnaryCall(metrics_, tracker_, kService, "GetCustomer", context);
  if (!call->admitted()) return call->Refuse();
  if (request_bytes->Length() >
      static_cast<size_t>(limits_.max_unary_message_bytes)) {
    return call->FinishWith(RequestTooLarge(request_bytes->Length(),
                                            limits_.max_unary_message_bytes));
  }
  v1::GetCustomerRequest request;
  if (absl::Status parsed = ParseRequest(*request_bytes, &request, "request");
      !parsed.ok()) {
    return call->FinishWith(parsed);
  }
  absl::StatusOr<v1::Customer> customer =
      customers_ == nullptr
          ? absl::UnimplementedError("GetCustomer is not served here")
          : customers_->Get(request.ncodpers());
  return call->FinishWith(customer.ok()
                              ? SerializeToByteBuffer(*customer, response_bytes)
                              : customer.status());
}

}  // namespace recsys
