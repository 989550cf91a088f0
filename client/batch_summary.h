// What a batch-scoring run reports: progress while it runs, a summary at the
// end (see client/batch_scorer.h).
//
//   std::cerr << summary.ToString() << "\n";
//   return summary.all_scored() ? 0 : 1;
#ifndef RECSYS_CLIENT_BATCH_SUMMARY_H_
#define RECSYS_CLIENT_BATCH_SUMMARY_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace recsys {

// A snapshot of a run in progress.
struct BatchProgress {
  int64_t rows_read = 0;    // input rows read so far
  int64_t rows_scored = 0;  // rows answered with recommendations
  int64_t rows_failed = 0;  // rows that went to the errors file
  int64_t rows_in_flight = 0;
  int64_t bytes_read = 0;  // input bytes consumed (for a percentage)
  int retries = 0;         // streams reopened so far
};

struct BatchScoreSummary {
  int64_t rows_read = 0;
  int64_t rows_scored = 0;
  int64_t client_errors = 0;  // rows the reader could not parse
  int64_t server_errors = 0;  // rows the server answered with an error
  int64_t given_up = 0;       // rows not scored because the stream failed
  int64_t duplicates = 0;     // later rows of a customer already in the file
  int streams_opened = 0;
  int retries = 0;
  // Why rows were given up on (OK when none were).
  absl::Status give_up_reason;
  // OK, or the I/O error that stopped reading the input early.
  absl::Status input_status;
  // Model versions that answered, sorted.
  std::vector<std::string> model_versions;
  // Rows scored by each version (a row names its own version when a
  // challenger answers part of the customers; otherwise the message's).
  std::map<std::string, int64_t> rows_by_version;
  absl::Duration elapsed;

  int64_t rows_failed() const {
    return client_errors + server_errors + given_up + duplicates;
  }
  bool all_scored() const { return rows_failed() == 0 && input_status.ok(); }
  double rows_per_second() const;
  // "929615 rows: 929600 scored, 15 failed (0 unreadable, 15 refused by the
  // server, 0 given up, 0 duplicates) in 41.2 s, 22563 rows/s; model version
  // v3; 1 retry".
  std::string ToString() const;
};

}  // namespace recsys

#endif  // RECSYS_CLIENT_BATCH_SUMMARY_H_
