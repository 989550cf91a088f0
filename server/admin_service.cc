#include "server/admin_service.h"

#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "server/proto_encode.h"
#include "server/rpc_record.h"
#include "server/unary_call.h"

namespace recsys {
namespace {

// A string literal (RpcRecord keeps it).
const char* const kService = v1::ModelAdmin::service_full_name();

int64_t ServingVersion(const ModelStore& store) {
  std::shared_ptr<const ModelVersion> current = store.Current();
  return current == nullptr ? 0 : current->version();
}

std::string VersionText(int64_t version) {
  return version == 0 ? "" : absl::StrCat(version);
}

v1::VersionPolicy Policy(const ModelStore& store) {
  return store.pinned().has_value() ? v1::VERSION_POLICY_PINNED
                                    : v1::VERSION_POLICY_LATEST;
}

void FillChange(const ModelStore& store, int64_t previous,
                v1::ServingChange* change) {
  change->set_serving_version(VersionText(ServingVersion(store)));
  change->set_previous_serving_version(VersionText(previous));
  change->set_policy(Policy(store));
}

int64_t ChallengerVersion(const ModelStore& store) {
  ServingModels serving = store.Serving();
  return serving.challenger == nullptr ? 0 : serving.challenger->version();
}

void FillChallengerChange(const ModelStore& store, int64_t previous,
                          v1::ChallengerChange* change) {
  const ServingModels serving = store.Serving();
  change->set_challenger_version(VersionText(
      serving.challenger == nullptr ? 0 : serving.challenger->version()));
  change->set_challenger_share(serving.challenger_share);
  change->set_previous_challenger_version(VersionText(previous));
  change->set_serving_version(VersionText(
      serving.champion == nullptr ? 0 : serving.champion->version()));
}

}  // namespace

v1::ListVersionsResponse DescribeVersions(const ModelStore& store) {
  v1::ListVersionsResponse out;
  out.set_model_name(store.options().model_name);
  for (const VersionStatus& status : store.Versions()) {
    *out.add_versions() = EncodeVersionInfo(status);
  }
  out.set_serving_version(VersionText(ServingVersion(store)));
  out.set_policy(Policy(store));
  const ServingModels serving = store.Serving();
  if (serving.challenger != nullptr) {
    out.set_challenger_version(VersionText(serving.challenger->version()));
    out.set_challenger_share(serving.challenger_share);
  }
  return out;
}

template <typename Work>
grpc::ServerUnaryReactor* ModelAdminService::RunOnAdminPool(
    grpc::CallbackServerContext* context, absl::string_view method,
    Work work) {
  auto* call = new UnaryCall(metrics_, tracker_, kService, method);
  if (!call->admitted()) return call->Refuse();
  if (absl::Status allowed = auth_->Check(*context); !allowed.ok())
    return call->FinishWith(allowed);
  // The admin pool stops only after every call has finished.
  admin_pool_->Submit([call, work = std::move(work)](int) mutable {
    call->FinishWith(work());
  });
  return call;
}

grpc::ServerUnaryReactor* ModelAdminService::ListVersions(
    grpc::CallbackServerContext* context,
    const v1::ListVersionsRequest* request,
    v1::ListVersionsResponse* response) {
  auto* call = new UnaryCall(metrics_, tracker_, kService, "ListVersions");
  if (!call->admitted()) return call->Refuse();
  if (absl::Status allowed = auth_->Check(*context); !allowed.ok())
    return call->FinishWith(allowed);
  *response = DescribeVersions(*store_);
  return call->FinishWith(absl::OkStatus());
}

grpc::ServerUnaryReactor* ModelAdminService::Reload(
    grpc::CallbackServerContext* context, const v1::ReloadRequest* request,
    v1::ReloadResponse* response) {
  return RunOnAdminPool(context, "Reload", [this, response]() -> absl::Status {
    RECSYS_ASSIGN_OR_RETURN(ReloadReport report, store_->Reload());
    response->set_serving_version(VersionText(report.serving_version));
    response->set_previous_serving_version(
        VersionText(report.previous_version));
    const std::vector<VersionStatus> versions = store_->Versions();
    for (int64_t loaded : report.loaded) {
      for (const VersionStatus& status : versions) {
        if (status.version == loaded)
          *response->add_changed() = EncodeVersionInfo(status);
      }
    }
    for (const auto& [version, reason] : report.failed) {
      v1::VersionInfo* info = response->add_changed();
      info->set_version(absl::StrCat(version));
      info->set_state(v1::VERSION_STATE_FAILED);
      info->set_reason(reason);
    }
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ModelAdminService::Pin(
    grpc::CallbackServerContext* context, const v1::PinRequest* request,
    v1::ServingChange* response) {
  return RunOnAdminPool(
      context, "Pin", [this, response, text = request->version()]() -> absl::Status {
        RECSYS_ASSIGN_OR_RETURN(int64_t version,
                                ParseVersionField("version", text));
        const int64_t previous = ServingVersion(*store_);
        absl::Status pinned = store_->Pin(version);
        if (!pinned.ok() && pinned.code() != absl::StatusCode::kNotFound) {
          return absl::FailedPreconditionError(absl::StrCat(
              "version ", version, " cannot be served: ", pinned.message()));
        }
        RECSYS_RETURN_IF_ERROR(pinned);
        FillChange(*store_, previous, response);
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* ModelAdminService::Unpin(
    grpc::CallbackServerContext* context, const v1::UnpinRequest* request,
    v1::ServingChange* response) {
  return RunOnAdminPool(context, "Unpin", [this, response]() -> absl::Status {
    const int64_t previous = ServingVersion(*store_);
    RECSYS_RETURN_IF_ERROR(store_->Unpin().status());
    FillChange(*store_, previous, response);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ModelAdminService::Rollback(
    grpc::CallbackServerContext* context, const v1::RollbackRequest* request,
    v1::ServingChange* response) {
  return RunOnAdminPool(context, "Rollback", [this, response]() -> absl::Status {
    const int64_t previous = ServingVersion(*store_);
    RECSYS_RETURN_IF_ERROR(store_->Rollback().status());
    FillChange(*store_, previous, response);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ModelAdminService::SetChallenger(
    grpc::CallbackServerContext* context,
    const v1::SetChallengerRequest* request, v1::ChallengerChange* response) {
  return RunOnAdminPool(
      context, "SetChallenger",
      [this, response, text = request->version(),
       share = request->share()]() -> absl::Status {
        RECSYS_ASSIGN_OR_RETURN(int64_t version,
                                ParseVersionField("version", text));
        if (!(share > 0 && share <= 1)) {
          return absl::InvalidArgumentError(absl::StrCat(
              "share: must be in (0, 1] (e.g. 0.1), got ", share));
        }
        const int64_t previous = ChallengerVersion(*store_);
        RECSYS_RETURN_IF_ERROR(store_->SetChallenger(version, share));
        FillChallengerChange(*store_, previous, response);
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* ModelAdminService::ClearChallenger(
    grpc::CallbackServerContext* context,
    const v1::ClearChallengerRequest* request,
    v1::ChallengerChange* response) {
  return RunOnAdminPool(
      context, "ClearChallenger", [this, response]() -> absl::Status {
        const int64_t previous = store_->ClearChallenger();
        FillChallengerChange(*store_, previous, response);
        return absl::OkStatus();
      });
}

}  // namespace recsys
