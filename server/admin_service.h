// ModelAdminService: the santander.recsys.v1.ModelAdmin service on gRPC's
// callback API, operating the ModelStore: ListVersions, Reload, Pin, Unpin,
// Rollback, SetChallenger, ClearChallenger.
//
// Reload, Pin, Unpin, Rollback and SetChallenger may load a model (seconds): they run on the
// admin pool (one fixed thread), never on gRPC's threads, and return when
// done. Codes: NOT_FOUND for an unknown version (or when nothing can serve
// after a reload), FAILED_PRECONDITION for a version that failed to load or
// when there is nothing to roll back to, INVALID_ARGUMENT for a version that
// is not a number; UNAVAILABLE while the server drains; UNAUTHENTICATED or
// PERMISSION_DENIED when admin authentication refuses the caller.
//
//   ModelAdminService admin(&store, &admin_pool, metrics, &tracker, &auth);
//   builder.RegisterService(&admin);
//
// Thread-safe; every pointer is borrowed and must outlive the service.
#ifndef RECSYS_SERVER_ADMIN_SERVICE_H_
#define RECSYS_SERVER_ADMIN_SERVICE_H_

#include "absl/status/statusor.h"
#include "model_store/model_store.h"
#include "proto/api.h"
#include "server/call_tracker.h"
#include "server/metrics.h"
#include "server/security.h"
#include "server/worker_pool.h"

namespace recsys {

// The store's versions and policy as the API lists them.
v1::ListVersionsResponse DescribeVersions(const ModelStore& store);

class ModelAdminService final : public v1::ModelAdmin::CallbackService {
 public:
  // Every call is first checked by `auth` (server/security.h); a refused
  // call ends with its UNAUTHENTICATED / PERMISSION_DENIED status.
  ModelAdminService(ModelStore* store, WorkerPool* admin_pool,
                    ServerMetrics* metrics, CallTracker* tracker,
                    const AdminAuth* auth)
      : store_(store),
        admin_pool_(admin_pool),
        metrics_(metrics),
        tracker_(tracker),
        auth_(auth) {}

  grpc::ServerUnaryReactor* ListVersions(
      grpc::CallbackServerContext* context,
      const v1::ListVersionsRequest* request,
      v1::ListVersionsResponse* response) override;
  grpc::ServerUnaryReactor* Reload(grpc::CallbackServerContext* context,
                                   const v1::ReloadRequest* request,
                                   v1::ReloadResponse* response) override;
  grpc::ServerUnaryReactor* Pin(grpc::CallbackServerContext* context,
                                const v1::PinRequest* request,
                                v1::ServingChange* response) override;
  grpc::ServerUnaryReactor* Unpin(grpc::CallbackServerContext* context,
                                  const v1::UnpinRequest* request,
                                  v1::ServingChange* response) override;
  grpc::ServerUnaryReactor* Rollback(grpc::CallbackServerContext* context,
                                     const v1::RollbackRequest* request,
                                     v1::ServingChange* response) override;
  grpc::ServerUnaryReactor* SetChallenger(
      grpc::CallbackServerContext* context,
      const v1::SetChallengerRequest* request,
      v1::ChallengerChange* response) override;
  grpc::ServerUnaryReactor* ClearChallenger(
      grpc::CallbackServerContext* context,
      const v1::ClearChallengerRequest* request,
      v1::ChallengerChange* response) override;

 private:
  // Runs `work` on the admin pool, then finishes the call with its status.
  template <typename Work>
  grpc::ServerUnaryReactor* RunOnAdminPool(grpc::CallbackServerContext* context,
                                           absl::string_view method, Work work);

  ModelStore* const store_;
  WorkerPool* const admin_pool_;
  ServerMetrics* const metrics_;
  CallTracker* const tracker_;
  const AdminAuth* const auth_;
};

}  // namespace recsys

#endif  // RECSYS_SERVER_ADMIN_SERVICE_H_
