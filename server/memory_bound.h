// The server's memory bound: what traffic can make the server hold, as a
// formula of its flags, and the helpers that keep it true.
//
// Above what the idle server holds (the model versions, the history, the
// worker scratch; tens of MiB, printed at start), clients can make the
// server hold at most
//
//     grpc_memory_bytes                                     gRPC's buffers (ResourceQuota)
//   + max_streams x max_inflight x max_message_bytes        messages read, waiting to be parsed
//   + request_memory_bytes                                  parsed messages being scored
//   + max_streams x (max_pending + 1) x max_rows x kSerializedAnswerBytesPerRow
//                                                           answers waiting to be written
//   + max_unary x (max_message_bytes + kMaxParseExpansion x max_unary_message_bytes)
//                                                           unary calls
//   + http_threads x kHttpBodyCopies x max_unary_message_bytes
//                                                           HTTP bodies read
//
// which is about 1.1 GiB with the defaults (TrafficMemoryBound prints the
// terms). Each term holds because: the call caps refuse calls beyond
// max_streams / max_unary (CallTracker); a stream reads at most max_inflight
// messages ahead and keeps at most max_pending answers (flow control stops
// reading, gRPC's window stops the client); parsing reserves an upper bound
// of the parsed size from the shared RequestMemoryBudget first; a unary
// request over max_unary_message_bytes is refused before it is parsed. An
// HTTP/JSON call (server/http_gateway.h) takes a unary call slot before it
// is parsed, so its parsing is within the unary term; what the slots do not
// cover is the bodies the gateway's threads read before a call is admitted
// or refused (a body over max_unary_message_bytes is refused unread).
//
// Memory freed by a cancelled flood goes back to the system: buffers over
// 128 KiB are mmap'ed (ConfigureMallocForServing), and the heap is trimmed
// when the last stream ends (ReturnFreedMemory).
#ifndef RECSYS_SERVER_MEMORY_BOUND_H_
#define RECSYS_SERVER_MEMORY_BOUND_H_

#include <cstdint>
#include <string>
#include <thread>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

namespace recsys {

// Upper bound of a parsed message's size over its wire size. Measured: a
// message of full rows parses to 8.6x its bytes; one of rows holding only
// empty history entries (2 bytes each on the wire) to 39x.
inline constexpr int64_t kMaxParseExpansion = 48;
// Per row, on top of the expansion: the row's objects and its answer built
// on the batch's arena (7..24 recommendations).
inline constexpr int64_t kRowObjectBytes = 512;
inline constexpr int64_t kAnswerBytesPerRow = 2048;
// Per HTTP thread: the JSON body read, and protobuf's binary rendering of it
// while the JSON is parsed (never larger than the JSON).
inline constexpr int64_t kHttpBodyCopies = 2;
// A serialized answer row with up to 24 recommendations.
inline constexpr int64_t kSerializedAnswerBytesPerRow = 768;

// The reservation made before parsing a stream message of `wire_bytes`
// carrying `rows` rows.
inline int64_t ParsedStreamMessageBound(int64_t wire_bytes, int64_t rows) {
  return kMaxParseExpansion * wire_bytes +
         rows * (kRowObjectBytes + kAnswerBytesPerRow);
}

struct MemoryBoundInputs {
  int64_t grpc_memory_bytes = 0;
  int64_t max_streams = 0;
  int64_t max_inflight = 0;
  int64_t max_pending = 0;
  int64_t max_rows = 0;
  int64_t max_message_bytes = 0;
  int64_t request_memory_bytes = 0;
  int64_t max_unary = 0;
  int64_t max_unary_message_bytes = 0;
  // Threads of the HTTP/JSON gateway; 0 without one.
  int64_t http_threads = 0;
};

// The formula above, in bytes; 0 for a term whose cap is 0 (unlimited) is
// not possible: an unlimited cap makes the bound meaningless, and the
// server refuses it.
int64_t TrafficMemoryBound(const MemoryBoundInputs& in);

// One line for the log: the bound and its terms in MiB.
std::string DescribeMemoryBound(const MemoryBoundInputs& in);

// Makes large buffers mmap'ed so that freeing them returns them to the
// system. Call once at process start.
void ConfigureMallocForServing();

// Returns freed heap memory to the system (malloc_trim); called when the last
// stream ends. Takes about a millisecond per 100 MiB of heap. Thread-safe.
void ReturnFreedMemory();

// A thread that calls ReturnFreedMemory() every `period` until destroyed:
// calls that a client resets before they reach our handlers (an HTTP/2
// rapid-reset flood) free gRPC's memory without any call of ours ending.
// Thread-safe.
class PeriodicMemoryReturn {
 public:
  explicit PeriodicMemoryReturn(absl::Duration period);
  ~PeriodicMemoryReturn();  // stops and joins the thread
  PeriodicMemoryReturn(const PeriodicMemoryReturn&) = delete;
  PeriodicMemoryReturn& operator=(const PeriodicMemoryReturn&) = delete;

 private:
  absl::Notification stop_;
  std::thread thread_;
};

}  // namespace recsys

#endif  // RECSYS_SERVER_MEMORY_BOUND_H_
