// Load generators for benchmarking a recsys-server (`recsys bench`).
//
// Unary: `concurrency` threads, each with a blocking stub, call
// Recommender.Recommend with requests taken round-robin from a prepared list,
// for a fixed duration or number of calls; every call's latency is recorded.
// With a target rate the load is an open loop instead: one thread starts
// call n at start + n / rate with gRPC's callback API whatever earlier calls
// are doing (at most `concurrency` in flight), and each latency is measured
// from the moment the call was due, so a server that falls behind shows its
// queueing delay instead of slowing the load down (no "coordinated
// omission").
//
// Stream: `concurrency` independent RecommendStream batch runs, each reading
// the input file with its own RawReader and scoring it with BatchScorer
// (client/batch_scorer.h, exactly what `recsys score` does), the answers
// discarded; optionally capped in rows or time.
//
//   RECSYS_ASSIGN_OR_RETURN(std::vector<v1::RecommendRequest> requests,
//                           ReadUnaryRequests("test_ver2.csv", 100000, 7, &n));
//   UnaryLoadOptions options;
//   options.concurrency = 4;
//   options.duration = absl::Seconds(10);
//   LoadReport report = RunUnaryLoad(client->recommender_stub(), requests,
//                                    options);
//
// Thread-safe to call from any thread; each run uses its own threads.
#ifndef RECSYS_CLIENT_LOAD_GENERATOR_H_
#define RECSYS_CLIENT_LOAD_GENERATOR_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "client/batch_scorer.h"
#include "client/load_report.h"
#include "proto/api.h"

namespace recsys {

// Reads up to `max_rows` rows of the raw file `path` (0 = all) and encodes
// each as a RecommendRequest for `k` products (client/record_codec.h). Rows
// that cannot be read or encoded are skipped and counted in `*skipped` (may
// be null). NOT_FOUND / INVALID_ARGUMENT when the file cannot be opened,
// INVALID_ARGUMENT when it holds no usable row, the I/O error otherwise.
absl::StatusOr<std::vector<v1::RecommendRequest>> ReadUnaryRequests(
    const std::string& path, int64_t max_rows, int k, int64_t* skipped);

struct UnaryLoadOptions {
  // Threads calling at once, each waiting for its call; with a rate, the
  // most calls in flight. Default 1.
  int concurrency = 1;
  // Stop sending after this long (0 = no time limit). Default 10 s.
  absl::Duration duration = absl::Seconds(10);
  // Stop after this many calls (0 = no limit). Default 0. At least one of
  // duration and max_calls must be set.
  int64_t max_calls = 0;
  // Total calls per second over all threads; 0 = as fast as they can.
  // Default 0.
  double rate = 0;
  // Deadline of each call. Default 10 s.
  absl::Duration deadline = absl::Seconds(10);
};

// Runs the unary load. INVALID_ARGUMENT for bad options or no requests.
// Failed calls are counted by status code in the report, not returned.
// `stub` and `requests` are borrowed for the call.
absl::StatusOr<LoadReport> RunUnaryLoad(
    v1::Recommender::StubInterface* stub,
    const std::vector<v1::RecommendRequest>& requests,
    const UnaryLoadOptions& options);

struct StreamLoadOptions {
  // Streams at once, each scoring the input from its start. Default 1.
  int concurrency = 1;
  // Rows per stream at most (0 = the whole file). Default 0.
  int64_t max_rows_per_stream = 0;
  // Stop reading input after this long (0 = no limit); rows in flight are
  // still answered. Default 0.
  absl::Duration duration = absl::ZeroDuration();
  // Batch size, window, k, retries of each stream.
  BatchScoreOptions batch;
};

// Scores `input` through RecommendStream `concurrency` times at once.
// Returns the input's open error, INVALID_ARGUMENT for bad options, INTERNAL
// when a run fails as a whole; rows not scored are counted in the report.
absl::StatusOr<LoadReport> RunStreamLoad(v1::Recommender::StubInterface* stub,
                                         const std::string& input,
                                         const StreamLoadOptions& options);

}  // namespace recsys

#endif  // RECSYS_CLIENT_LOAD_GENERATOR_H_
