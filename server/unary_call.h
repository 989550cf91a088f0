// UnaryCall: the reactor of one unary RPC, which records the call (metrics
// and CallTracker, see rpc_record.h) until gRPC is done with it.
//
//   auto* call = new UnaryCall(metrics, tracker, kService, "GetModelInfo",
//                              context);
//   if (!call->admitted()) return call->Refuse();
//   ...
//   call->FinishWith(status);   // from any thread, exactly once
//   return call;
//
// Deletes itself in OnDone(). Thread-safe for FinishWith vs OnDone.
#ifndef RECSYS_SERVER_UNARY_CALL_H_
#define RECSYS_SERVER_UNARY_CALL_H_

#include <grpcpp/server_context.h>
#include <grpcpp/support/server_callback.h>

#include <atomic>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "server/rpc_record.h"
#include "server/status_convert.h"

namespace recsys {

class UnaryCall final : public grpc::ServerUnaryReactor {
 public:
  // `context` (optional) lets a call the client already cancelled be refused
  // without taking a slot.
  UnaryCall(ServerMetrics* metrics, CallTracker* tracker,
            absl::string_view service, absl::string_view method,
            grpc::CallbackServerContext* context = nullptr)
      : rpc_(metrics, tracker, service, method, kUnary,
             context != nullptr && context->IsCancelled()) {}

  bool admitted() const { return rpc_.admitted(); }
  // Finishes a call that was not admitted with its refusal.
  UnaryCall* Refuse() { return FinishWith(rpc_.Refusal()); }

  // Finishes the call with `status`; returns this (for handlers' return).
  UnaryCall* FinishWith(const absl::Status& status) {
    code_.store(static_cast<int>(status.code()), std::memory_order_release);
    rpc_.ReleaseSlot();
    Finish(ToGrpcStatus(status));
    return this;
  }

  void OnDone() override {
    rpc_.Done(
        static_cast<absl::StatusCode>(code_.load(std::memory_order_acquire)));
    delete this;
  }

 private:
  RpcRecord rpc_;
  std::atomic<int> code_{static_cast<int>(absl::StatusCode::kUnknown)};
};

}  // namespace recsys

#endif  // RECSYS_SERVER_UNARY_CALL_H_
