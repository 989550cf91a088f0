// RpcRecord: one RPC from start to status, for the metrics, the call caps and
// draining.
//
//   auto rpc = std::make_shared<RpcRecord>(metrics, tracker, kService,
//                                          "Recommend", kUnary);
//   if (!rpc->admitted()) return Finish(rpc->Refusal());
//   ...
//   rpc->Finished(status.code());   // when Finish is called
//   rpc->Done(status.code());       // when gRPC is done (OnDone)
//
// Construction counts the call as started (metrics) and asks the CallTracker
// for a slot (none is taken while the server drains, over the cap, or for a
// call the client had cancelled before it reached us); Finished() counts it
// as handled with its code and duration. The slot is given back at Finish,
// not at OnDone: gRPC may call OnDone seconds after a cancelled call finished
// (an HTTP/2 "rapid reset" flood left the caps full of finished calls).
// Not thread-safe apart from ReleaseSlot: one owner per call.
#ifndef RECSYS_SERVER_RPC_RECORD_H_
#define RECSYS_SERVER_RPC_RECORD_H_

#include <grpcpp/server_context.h>

#include <atomic>
#include <chrono>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "server/call_tracker.h"
#include "server/metrics.h"

namespace recsys {

// The grpc_type label values, as go-grpc-prometheus writes them.
inline constexpr absl::string_view kUnary = "unary";
inline constexpr absl::string_view kClientStream = "client_stream";
inline constexpr absl::string_view kServerStream = "server_stream";
inline constexpr absl::string_view kBidiStream = "bidi_stream";

// The grpc_type of a method that streams requests and/or responses.
inline absl::string_view RpcTypeOf(bool client_streaming,
                                   bool server_streaming) {
  if (client_streaming) return server_streaming ? kBidiStream : kClientStream;
  return server_streaming ? kServerStream : kUnary;
}

// OK while a call with `deadline` may still be worked on; DEADLINE_EXCEEDED
// once the deadline has passed; CANCELLED when `cancelled`. Shared by gRPC
// calls (CheckCall) and HTTP calls (server/http_gateway.h).
inline absl::Status CheckDeadline(
    std::chrono::system_clock::time_point deadline, bool cancelled) {
  if (std::chrono::system_clock::now() >= deadline) {
    return absl::DeadlineExceededError(
        "deadline exceeded before the request was scored");
  }
  if (cancelled) return absl::CancelledError("the call was cancelled");
  return absl::OkStatus();
}

// OK while the call may still be worked on; DEADLINE_EXCEEDED once its
// deadline has passed; CANCELLED when the client (or the server's shutdown)
// cancelled it.
inline absl::Status CheckCall(const grpc::ServerContextBase& context) {
  return CheckDeadline(context.deadline(), context.IsCancelled());
}

class RpcRecord {
 public:
  // `metrics` and `tracker` must outlive the record; the names must be
  // string literals or otherwise outlive it. `cancelled`: the client had
  // already cancelled the call; it takes no slot and is refused CANCELLED.
  // `protocol`: how the call came (the metrics' protocol label); HTTP calls
  // share the call caps with gRPC ones.
  RpcRecord(ServerMetrics* metrics, CallTracker* tracker,
            absl::string_view service, absl::string_view method,
            absl::string_view type, bool cancelled = false,
            Protocol protocol = Protocol::kGrpc)
      : metrics_(metrics),
        tracker_(tracker),
        service_(service),
        method_(method),
        type_(type),
        protocol_(protocol),
        kind_(type == kBidiStream ? CallKind::kStream : CallKind::kUnary),
        start_(std::chrono::steady_clock::now()),
        cancelled_(cancelled),
        admission_(cancelled ? Admission::kDraining : tracker->Begin(kind_)) {
    holds_slot_.store(admitted(), std::memory_order_relaxed);
    metrics_->RpcStarted(service_, method_, type_, protocol_);
    metrics_->InflightRequests(+1);
  }
  RpcRecord(const RpcRecord&) = delete;
  RpcRecord& operator=(const RpcRecord&) = delete;

  // False when the call must be refused with Refusal().
  bool admitted() const {
    return !cancelled_ && admission_ == Admission::kAdmitted;
  }
  // The status a call that was not admitted gets: CANCELLED, UNAVAILABLE
  // (draining) or RESOURCE_EXHAUSTED (over the cap, naming it and its flag).
  absl::Status Refusal() const {
    if (cancelled_) return absl::CancelledError("the client cancelled the call");
    if (admission_ == Admission::kDraining) {
      return absl::UnavailableError(
          "the server is shutting down; retry on another server");
    }
    const bool stream = kind_ == CallKind::kStream;
    return absl::ResourceExhaustedError(absl::StrCat(
        "the server is already answering ",
        stream ? tracker_->limits().max_streams : tracker_->limits().max_unary,
        stream ? " streams, its limit (--max-concurrent-streams)"
               : " unary calls, its limit (--max-concurrent-calls)",
        "; retry later with backoff"));
  }

  // Gives the call's slot back to the CallTracker (no-op when it holds none
  // or gave it back already). Thread-safe.
  void ReleaseSlot() {
    if (holds_slot_.exchange(false, std::memory_order_acq_rel))
      tracker_->End(kind_);
  }

  CallTracker* tracker() const { return tracker_; }

  // Records the call as handled with `code` (metrics) and gives its slot
  // back: call it when the status is handed to gRPC, so that a client that
  // has its answer sees its call counted. Only the first call counts.
  // Thread-safe.
  void Finished(absl::StatusCode code) {
    if (finished_.exchange(true, std::memory_order_acq_rel)) return;
    ReleaseSlot();
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_)
            .count();
    metrics_->InflightRequests(-1);
    metrics_->RpcHandled(service_, method_, type_, protocol_, code, seconds);
  }

  // When gRPC is done with the call: counts it (as `code`) if Finished()
  // was not called.
  void Done(absl::StatusCode code) { Finished(code); }

 private:
  ServerMetrics* const metrics_;
  CallTracker* const tracker_;
  const absl::string_view service_;
  const absl::string_view method_;
  const absl::string_view type_;
  const Protocol protocol_;
  const CallKind kind_;
  const std::chrono::steady_clock::time_point start_;
  const bool cancelled_;
  const Admission admission_;
  std::atomic<bool> holds_slot_{false};
  std::atomic<bool> finished_{false};
};

}  // namespace recsys

#endif  // RECSYS_SERVER_RPC_RECORD_H_
