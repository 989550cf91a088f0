// RecommendStreamReactor: one Recommender.RecommendStream call, on raw bytes.
//
// Messages arrive as bytes and are parsed here (server/request_parsing.h):
// a message that does not parse fails the stream with INVALID_ARGUMENT
// naming it ("request message 3 of the stream: ...", and the field and row
// for text that is not UTF-8), after the answers to the messages before it
// are written; it never looks like the end of the stream. Its rows are
// counted before it is parsed (a message over the row limit costs nothing),
// and parsing waits for room in the server's RequestMemoryBudget. Answers are
// kept serialized while they wait to be written.
//
// Each request message is one batch: its rows are decoded and scored
// together on the worker pool (ScoringEngine::ScoreRows), and
// answered by one response message with a RowResult per row (bad rows carry
// their own RowError). While workers score, the reactor keeps reading, with at
// most `max_inflight_batches` messages being scored and `max_pending_responses`
// responses waiting to be written; beyond that it stops reading until the
// client catches up (flow control). At most one Write is in flight.
//
// The stream ends with OK once the client has half-closed and every message
// has been answered; with INVALID_ARGUMENT for a message with an invalid k or
// model_version or more rows than allowed (after writing the answers already
// computed); with the status of a batch that failed as a whole (UNAVAILABLE:
// no model; NOT_FOUND: its model_version names no loaded version;
// DEADLINE_EXCEEDED; INTERNAL); or CANCELLED when the client went away. A
// message's model_version applies to all its rows (ScoringEngine::ScoreRows).
//
//   return new RecommendStreamReactor(context, &engine, metrics, tracker,
//                                     budget, limits);
//
// Thread-safety: gRPC reactions and worker callbacks may run concurrently;
// the state is guarded by mu_. The reactor deletes itself in OnDone().
#ifndef RECSYS_SERVER_RECOMMEND_STREAM_H_
#define RECSYS_SERVER_RECOMMEND_STREAM_H_

#include <google/protobuf/arena.h>
#include <grpcpp/server_context.h>
#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/server_callback.h>

#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "proto/api.h"
#include "server/call_tracker.h"
#include "server/metrics.h"
#include "server/request_memory.h"
#include "server/rpc_record.h"
#include "server/scoring_engine.h"
#include "server/served_log.h"

namespace recsys {

struct StreamLimits {
  // Rows one request message may carry. Default 4096.
  int max_rows_per_message = 4096;
  // Messages of one stream being scored at the same time. Default 2.
  int max_inflight_batches = 2;
  // Responses of one stream computed and waiting to be written. Default 2.
  int max_pending_responses = 2;
};

// One RecommendStream message and its answer, allocated on one protobuf
// arena and freed together once the answer is written: parsing ~15 strings
// per row and building 7 recommendations per row on the heap cost the
// server about 3 µs per row in malloc/free (BENCHMARKS.md).
struct StreamBatch {
  StreamBatch();
  StreamBatch(const StreamBatch&) = delete;
  StreamBatch& operator=(const StreamBatch&) = delete;

  google::protobuf::Arena arena;
  v1::RecommendStreamRequest* const request;    // on `arena`
  v1::RecommendStreamResponse* const response;  // on `arena`
  // Per request row: its index among the rows handed to the engine, or -1
  // for a row that did not decode (its RowError is already in `response`).
  std::vector<int> decoded_index;
};

class RecommendStreamReactor final
    : public grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  // Starts reading (or, while the server drains, finishes with
  // UNAVAILABLE). The pointers must outlive the call.
  RecommendStreamReactor(grpc::CallbackServerContext* context,
                         ScoringEngine* engine, ServerMetrics* metrics,
                         CallTracker* tracker, RequestMemoryBudget* budget,
                         const StreamLimits& limits,
                         ServedLog* served_log = nullptr);

  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

 private:
  // What to start after releasing mu_.
  struct Actions {
    // The buffer to read into (owned by reading_), or null.
    grpc::ByteBuffer* read = nullptr;
    const grpc::ByteBuffer* write = nullptr;
    std::optional<grpc::Status> finish;
    bool any() const {
      return read != nullptr || write != nullptr || finish.has_value();
    }
  };

  // Decides the next operations from the state. A read or a write counts in
  // running_ until Drive has started it; Finish is chosen only when nothing
  // else is outstanding on our side, so that nothing touches the reactor
  // after Finish.
  Actions NextActionsLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Starts `actions` and whatever becomes possible after them.
  void Drive(Actions actions) ABSL_LOCKS_EXCLUDED(mu_);
  // With `reserved` bytes of the budget: parses message number `index` and
  // hands it to the engine (or fails the stream).
  void ParseAndScore(int64_t index, std::string wire, int64_t reserved)
      ABSL_LOCKS_EXCLUDED(mu_);
  // A scored message: `status` OK when batch->response holds its answer.
  void BatchDone(absl::Status status, std::unique_ptr<StreamBatch> batch,
                 int64_t reserved) ABSL_LOCKS_EXCLUDED(mu_);
  // A message that is not scored after all: gives back its reservation.
  void Abandon(absl::Status status, int64_t reserved) ABSL_LOCKS_EXCLUDED(mu_);
  // Records the first stream-level error; reading stops.
  void FailLocked(absl::Status status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  grpc::CallbackServerContext* const context_;
  ScoringEngine* const engine_;
  RequestMemoryBudget* const budget_;
  const StreamLimits limits_;
  ServedLog* const served_log_;  // may be null
  RpcRecord rpc_;

  absl::Mutex mu_;
  // The target of the outstanding read, a fresh buffer each time.
  std::unique_ptr<grpc::ByteBuffer> reading_buffer_ ABSL_GUARDED_BY(mu_);
  int64_t messages_read_ ABSL_GUARDED_BY(mu_) = 0;
  int running_ ABSL_GUARDED_BY(mu_) =
      0;  // reads/writes decided, not yet started
  bool reading_ ABSL_GUARDED_BY(mu_) = false;
  bool read_closed_ ABSL_GUARDED_BY(mu_) = false;  // half-closed or read failed
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  bool write_failed_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  // Messages waiting for the budget, being parsed or being scored.
  int inflight_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Status error_ ABSL_GUARDED_BY(mu_);
  // Serialized answers waiting to be written, and the one being written.
  std::deque<std::unique_ptr<grpc::ByteBuffer>> pending_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<grpc::ByteBuffer> writing_ ABSL_GUARDED_BY(mu_);
  absl::StatusCode final_code_ ABSL_GUARDED_BY(mu_) =
      absl::StatusCode::kUnknown;
};

}  // namespace recsys

#endif  // RECSYS_SERVER_RECOMMEND_STREAM_H_
