// Hostile clients: attacks on a recsys-server address, each one a pattern an
// attacker (or a broken client) can produce, with what happened counted, for
// the hostile-client tests (tests/hostile_e2e_test.cc) and for measuring by
// hand (recsys-hostile).
//
//   FloodOptions flood;
//   flood.streams = 50;
//   flood.duration = absl::Seconds(20);
//   flood.row = SomeValidRow();
//   FloodResult result = FloodWithUnreadStreams("127.0.0.1:50051", flood);
//   // result.statuses: how each stream ended; result.no_status: hangs
//
// Every attack bounds every call with a deadline, so an attack always ends;
// a call that got no status by its deadline plus a margin is counted as hung.
//
// Thread-compatible: each function runs its own threads and joins them.
#ifndef RECSYS_TESTS_HOSTILE_H_
#define RECSYS_TESTS_HOSTILE_H_

#include <grpcpp/support/status.h>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "proto/api.h"

namespace recsys::testing {

// How calls ended: count per gRPC status code.
using StatusCounts = std::map<grpc::StatusCode, int64_t>;

// "OK=3 CANCELLED=47" (codes by name).
std::string FormatStatusCounts(const StatusCounts& counts);

// The first row of a Santander CSV file (e.g. test_ver2.csv) that reads
// without errors, as a ScoreRow with row_id 0. NOT_FOUND / INVALID_ARGUMENT
// when the file cannot be read or has no clean row.
absl::StatusOr<v1::ScoreRow> FirstCleanRow(const std::string& csv_path);

// ---- (1) Streams that send big messages and never read ----------------

struct FloodOptions {
  // Concurrent RecommendStream calls, all on ONE channel (one HTTP/2
  // connection). Default 50.
  int streams = 50;
  // Rows per message, each a copy of `row` (row ids differ). Default 4096
  // (the server's default --max-rows-per-request).
  int rows_per_message = 4096;
  // Target size of one message in bytes: each row is padded with an unknown
  // field (number 1000, which the server parses and keeps) to reach it.
  // 0 = no padding. Default 4 MiB.
  int64_t message_bytes = 4 << 20;
  // How long the streams send before they are cancelled. Default 20 s.
  absl::Duration duration = absl::Seconds(20);
  // The row every message repeats; it should be valid, so that the server
  // scores it. Required.
  v1::ScoreRow row;
  // Called about every 100 ms while the attack runs (e.g. to sample the
  // server's memory). Default none.
  std::function<void()> on_tick;
};

struct FloodResult {
  int64_t messages_sent = 0;
  int64_t bytes_sent = 0;
  int64_t message_size = 0;  // bytes of one message as sent
  StatusCounts statuses;     // how each stream ended
  int64_t no_status = 0;     // streams that got no status in time (hung)
};

// Opens `streams` RecommendStream calls on one channel; each writes
// messages as fast as flow control lets it and never reads a response; after
// `duration` every call is cancelled and its status collected.
FloodResult FloodWithUnreadStreams(const std::string& address,
                                   const FloodOptions& options);

// ---- (2) HTTP/2 rapid reset ---------------------------------------------

struct RapidResetOptions {
  // HEADERS + RST_STREAM(CANCEL) pairs sent on one connection. Default
  // 20000.
  int pairs = 20000;
  // The method each HEADERS frame opens.
  std::string path = "/santander.recsys.v1.Recommender/Recommend";
  // After the last pair: how long to wait for the server's GOAWAY or for it
  // to close the connection. Default 2 s.
  absl::Duration linger = absl::Seconds(2);
};

struct RapidResetResult {
  int64_t pairs_sent = 0;     // stops early when the server closes
  bool goaway = false;        // a GOAWAY frame arrived
  uint32_t goaway_error = 0;  // its HTTP/2 error code (0 = NO_ERROR)
  uint32_t goaway_last_stream = 0;
  std::string goaway_debug;       // its debug data
  bool closed_by_server = false;  // EOF or a reset connection
  int64_t frames_received = 0;
  int64_t rst_received = 0;      // RST_STREAM frames from the server
  int64_t headers_received = 0;  // HEADERS frames from the server
};

// Speaks HTTP/2 over a plain TCP socket (prior knowledge, no TLS): the client
// preface and SETTINGS, then `pairs` times a HEADERS frame opening a new
// stream on `path` (a gRPC request's headers, HPACK literals without
// indexing) immediately followed by RST_STREAM CANCEL. Answers the server's
// SETTINGS and PINGs. UNAVAILABLE when the address cannot be reached.
absl::StatusOr<RapidResetResult> RapidReset(const std::string& address,
                                            const RapidResetOptions& options);

// HPACK (RFC 7541) encoding of one header as a "literal header field without
// indexing -- new name" with no Huffman coding. Exposed for tests.
std::string HpackLiteral(absl::string_view name, absl::string_view value);
// An HPACK integer with an N-bit prefix (RFC 7541 5.1); `first_byte_flags`
// fills the bits above the prefix. Exposed for tests.
std::string HpackInteger(uint64_t value, int prefix_bits,
                         uint8_t first_byte_flags);

// ---- (3) Garbage messages -----------------------------------------------

// A valid serialized RecommendStreamRequest holding `row` as `row_id`.
std::string StreamMessageBytes(const v1::ScoreRow& row, uint64_t row_id);

// A serialized RecommendStreamRequest whose row's customer has a string field
// (nomprov) with invalid UTF-8: the wire format is fine, proto3 parsing fails.
std::string InvalidUtf8StreamMessage(const v1::ScoreRow& row, uint64_t row_id);

struct RawStreamResult {
  grpc::Status status;
  bool got_status = false;  // false: no status before the deadline (hung)
  std::vector<v1::RecommendStreamResponse> responses;  // those that parsed
  int64_t unparseable_responses = 0;
  // Row ids answered (a result or a row error), in arrival order.
  std::vector<uint64_t> AnsweredRowIds() const;
};

// RecommendStream with each of `messages` sent as raw bytes (they need not
// parse), then half-close, then every response read, then the status.
RawStreamResult RawStream(const std::string& address,
                          const std::vector<std::string>& messages,
                          absl::Duration deadline = absl::Seconds(10));

struct RawUnaryResult {
  StatusCounts statuses;
  int64_t no_status = 0;
  std::vector<std::string> messages;  // distinct error messages seen (<= 5)
};

// `calls` unary calls of `method` (e.g. "/santander.recsys.v1.Recommender/
// Recommend") whose request is `bytes`, `parallel` at a time, on one
// channel, each with `deadline`.
RawUnaryResult RawUnaryCalls(const std::string& address,
                             const std::string& method,
                             const std::string& bytes, int calls,
                             int parallel = 8,
                             absl::Duration deadline = absl::Seconds(10));

// Bytes that are not a protobuf message: a field with wire type 7.
std::string GarbageBytes();

}  // namespace recsys::testing

#endif  // RECSYS_TESTS_HOSTILE_H_
