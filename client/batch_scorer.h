// Batch scoring of a whole raw file through Recommender.RecommendStream.
//
// The scorer reads rows with the CSV reader, sends them in messages of
// `batch_rows` rows with at most `window` messages' worth of rows unanswered
// at any time, and writes each row, in input order, either to the submission
// (scored) or to the errors file (not scored, with its line and reason):
//   - rows the reader could not parse are reported locally and never sent;
//   - a row the server answers with an error keeps that error as its reason;
//   - a row whose customer (ncodpers) an earlier row of the file already had
//     is not sent: it goes to the errors file as a duplicate naming the first
//     line, so that the submission has one line per customer, as Kaggle
//     requires (the first occurrence is the one scored);
//   - when the stream breaks with a transient status (IsTransient in
//     recommender_client.h: the server unreachable or restarting, the
//     connection lost, no answer for `stall_timeout` while rows are in
//     flight) the scorer opens a new stream after an exponential backoff and
//     resends only the rows not yet answered, so no row is scored twice; it
//     keeps retrying until no row has been answered for `retry_for`;
//   - a deterministic failure (INVALID_ARGUMENT, INTERNAL, ..., or the server
//     ending the stream OK with rows unanswered, which breaks the protocol)
//     is not retried: resending the same rows would fail the same way.
// On giving up, the unanswered and unread rows go to the errors file.
// Every input row thus ends up in exactly one of the two files.
//
//   RECSYS_ASSIGN_OR_RETURN(auto scorer,
//   BatchScorer::Create(client->recommender_stub(), {}));
//   RECSYS_ASSIGN_OR_RETURN(auto reader, RawReader::Open("test_ver2.csv"));
//   RECSYS_ASSIGN_OR_RETURN(BatchScoreSummary summary,
//                           scorer->Run(reader.get(), &submission, &errors));
//   return summary.all_scored() ? 0 : 1;
#ifndef RECSYS_CLIENT_BATCH_SCORER_H_
#define RECSYS_CLIENT_BATCH_SCORER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "client/batch_summary.h"
#include "common/raw_reader.h"
#include "proto/api.h"

namespace recsys {

struct BatchScoreOptions {
  // Rows per request message. Default 256.
  int batch_rows = 256;
  // Request messages' worth of rows unanswered at most. Default 8.
  int window = 8;
  // Products per row, 1..24. Default 7.
  int k = 7;
  // RecommendStreamRequest.model_version of every message: "" (each
  // customer's routed version), a version number or a label (serving,
  // latest, pinned, challenger). The server checks it. Default "".
  std::string model_version;
  // Broken streams are reopened until this long has passed without a row
  // answered (measured from the last answer, or from the start). Default 60 s.
  absl::Duration retry_for = absl::Seconds(60);
  // Wait before the first reopen; doubles each time up to max_backoff, and
  // starts again from initial_backoff after a stream that answered rows.
  // Defaults 200 ms and 5 s.
  absl::Duration initial_backoff = absl::Milliseconds(200);
  absl::Duration max_backoff = absl::Seconds(5);
  // A stream with rows in flight and no answer for this long counts as broken.
  // Default 60 s.
  absl::Duration stall_timeout = absl::Seconds(60);
  // Called about every `progress_interval` from a scorer thread while Run
  // runs. Default none, 200 ms.
  std::function<void(const BatchProgress&)> on_progress;
  absl::Duration progress_interval = absl::Milliseconds(200);
  // Build each request and parse each answer on a reused protobuf arena
  // rather than field by field on the heap (about 20 allocations per row in
  // each direction), and keep unanswered rows serialized. Default true;
  // false (heap messages, a copy of each unanswered row: the client before
  // the benchmarking issue's performance pass) only to measure the
  // difference (`recsys bench --noarenas`).
  bool use_arenas = true;
};

// Runs one batch at a time: not thread-safe.
class BatchScorer {
 public:
  // INVALID_ARGUMENT when an option is out of range. `stub` must outlive the
  // scorer.
  static absl::StatusOr<std::unique_ptr<BatchScorer>> Create(
      v1::Recommender::StubInterface* stub, const BatchScoreOptions& options);

  BatchScorer(const BatchScorer&) = delete;
  BatchScorer& operator=(const BatchScorer&) = delete;

  // Scores every row of `reader` (from its current position), writing the
  // submission to `submission` and the rows not scored to `errors` (nullptr:
  // counted only); see row_sink.h for the formats. Returns the summary; the
  // run itself fails only when an output stream fails (INTERNAL), the
  // summary's input_status holds an input I/O error (naming the line; the rows
  // after it are in neither file). All pointers are borrowed for the call.
  //
  // Memory: besides the rows in flight, the customer codes seen (for the
  // duplicate check) in an absl::flat_hash_map<int64_t, int64_t> grown by
  // doubling, 17 bytes per slot: 34.0 MiB of heap measured (mallinfo2) for
  // 950,000 customers, about the 929,615 of test_ver2.csv.
  absl::StatusOr<BatchScoreSummary> Run(RawReader* reader,
                                        std::ostream* submission,
                                        std::ostream* errors);

 private:
  BatchScorer(v1::Recommender::StubInterface* stub,
              const BatchScoreOptions& options)
      : stub_(stub), options_(options) {}

  v1::Recommender::StubInterface* const stub_;
  const BatchScoreOptions options_;
};

}  // namespace recsys

#endif  // RECSYS_CLIENT_BATCH_SCORER_H_
