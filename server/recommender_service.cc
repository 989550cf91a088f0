#include "server/recommender_service.h"

#include <chrono>
#include <memory>

#include "common/status_macros.h"
#include "server/proto_encode.h"
#include "server/record_codec.h"
#include "server/rpc_record.h"
#include "server/unary_call.h"

namespace recsys {
namespace {

constexpr absl::string_view kService = "santander.recsys.v1.Recommender";

// The ModelInfo of a version that is not the serving one: read from its
// manifest on disk. NOT_FOUND when the store does not know the version.
absl::StatusOr<v1::ModelInfo> DescribeStoredVersion(const ModelStore& store,
                                                    int64_t version) {
  for (const VersionStatus& status : store.Versions()) {
    if (status.version != version) continue;
    RECSYS_ASSIGN_OR_RETURN(BundleManifest manifest,
                            ReadManifest(store.VersionDir(version)));
    return EncodeModelInfo(manifest, status.loaded_at);
  }
  return absl::NotFoundError(
      absl::StrCat("version: no version ", version, " in the model store"));
}

}  // namespace

grpc::ServerUnaryReactor* RecommenderService::Recommend(
    grpc::CallbackServerContext* context, const v1::RecommendRequest* request,
    v1::RecommendResponse* response) {
  auto* call = new UnaryCall(metrics_, tracker_, kService, "Recommend");
  if (!call->admitted()) return call->FinishWith(RpcRecord::Refusal());
  const auto parse_start = std::chrono::steady_clock::now();
  absl::StatusOr<DecodedRequest> decoded = DecodeRecommendRequest(*request);
  metrics_->StageDuration(Stage::kParse,
                          std::chrono::duration<double>(
                              std::chrono::steady_clock::now() - parse_start)
                              .count());
  if (!decoded.ok()) return call->FinishWith(decoded.status());
  engine_->Recommend(context, *std::move(decoded), response,
                     [call](absl::Status status) { call->FinishWith(status); });
  return call;
}

grpc::ServerBidiReactor<v1::RecommendStreamRequest,
                        v1::RecommendStreamResponse>*
RecommenderService::RecommendStream(grpc::CallbackServerContext* context) {
  return new RecommendStreamReactor(context, engine_, metrics_, tracker_,
                                    limits_);
}

grpc::ServerUnaryReactor* RecommenderService::GetModelInfo(
    grpc::CallbackServerContext* context,
    const v1::GetModelInfoRequest* request, v1::ModelInfo* response) {
  auto* call = new UnaryCall(metrics_, tracker_, kService, "GetModelInfo");
  if (!call->admitted()) return call->FinishWith(RpcRecord::Refusal());
  std::shared_ptr<const ModelVersion> serving = store_->Current();
  absl::StatusOr<int64_t> version = -1;
  if (!request->version().empty())
    version = ParseVersionField("version", request->version());
  if (!version.ok()) return call->FinishWith(version.status());
  if (*version < 0 || (serving != nullptr && *version == serving->version())) {
    absl::StatusOr<v1::ModelInfo> info =
        serving == nullptr
            ? absl::UnavailableError(
                  "no model is loaded yet; the server is not serving")
            : EncodeModelInfo(serving->manifest(), serving->loaded_at());
    if (info.ok()) {
      info->set_predictor(serving->predictor());
      info->set_predictor_note(serving->predictor_note());
      *response = *std::move(info);
    }
    return call->FinishWith(info.status());
  }
  // Another version: its manifest is read from disk, off gRPC's threads (the
  // admin pool stops only after every call has finished).
  admin_pool_->Submit([this, call, response, v = *version](int) {
    absl::StatusOr<v1::ModelInfo> info = DescribeStoredVersion(*store_, v);
    if (info.ok()) *response = *std::move(info);
    call->FinishWith(info.status());
  });
  return call;
}

}  // namespace recsys
