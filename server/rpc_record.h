// RpcRecord: one RPC from start to status, for the metrics and for draining.
//
//   auto rpc = std::make_shared<RpcRecord>(metrics, tracker, kService,
//                                          "Recommend", kUnary);
//   if (!rpc->admitted()) return Finish(rpc->Refusal());   // draining
//   ...
//   rpc->Done(status.code());   // exactly once
//
// Construction counts the call as started and in flight (metrics, and the
// CallTracker unless the server is draining); Done() counts it as handled
// with its code and duration and no longer in flight. Not thread-safe: one
// owner per call.
#ifndef RECSYS_SERVER_RPC_RECORD_H_
#define RECSYS_SERVER_RPC_RECORD_H_

#include <chrono>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "server/call_tracker.h"
#include "server/metrics.h"

namespace recsys {

inline constexpr absl::string_view kUnary = "unary";
inline constexpr absl::string_view kBidiStream = "bidi_stream";

class RpcRecord {
 public:
  // `metrics` and `tracker` must outlive the record; the names must be
  // string literals or otherwise outlive it.
  RpcRecord(ServerMetrics* metrics, CallTracker* tracker,
            absl::string_view service, absl::string_view method,
            absl::string_view type)
      : metrics_(metrics),
        tracker_(tracker),
        service_(service),
        method_(method),
        type_(type),
        start_(std::chrono::steady_clock::now()),
        admitted_(tracker->Begin()) {
    metrics_->RpcStarted(service_, method_, type_);
    metrics_->InflightRequests(+1);
  }
  RpcRecord(const RpcRecord&) = delete;
  RpcRecord& operator=(const RpcRecord&) = delete;

  // False when the server was draining: the call must be refused.
  bool admitted() const { return admitted_; }
  // The status a call that was not admitted gets.
  static absl::Status Refusal() {
    return absl::UnavailableError(
        "the server is shutting down; retry on another server");
  }

  // REQUIRES: called once.
  void Done(absl::StatusCode code) {
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_)
            .count();
    metrics_->InflightRequests(-1);
    metrics_->RpcHandled(service_, method_, type_, code, seconds);
    if (admitted_) tracker_->End();
  }

 private:
  ServerMetrics* const metrics_;
  CallTracker* const tracker_;
  const absl::string_view service_;
  const absl::string_view method_;
  const absl::string_view type_;
  const std::chrono::steady_clock::time_point start_;
  const bool admitted_;
};

}  // namespace recsys

#endif  // RECSYS_SERVER_RPC_RECORD_H_
