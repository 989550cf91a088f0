// The subcommands of the `recsys` program, callable in-process (tests run
// them against a fake server). main.cc turns flags into these options.
//
// Exit statuses, for every subcommand:
//   0  success (score: every input row was scored);
//   1  the work failed in part or the server refused the call (score: some
//      rows are in the errors file; recommend: e.g. an invalid field);
//   2  usage error, unreadable input, or the server could not be reached.
#ifndef RECSYS_CLIENT_CLI_COMMANDS_H_
#define RECSYS_CLIENT_CLI_COMMANDS_H_

#include <map>
#include <optional>
#include <ostream>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "client/batch_scorer.h"
#include "client/recommender_client.h"
#include "common/command_line.h"
#include "common/progress.h"

namespace recsys {

// kExitOk, kExitFailed and kExitUsage are common/command_line.h's.

// The exit status for a failed call: 2 when the server could not be reached
// (UNAVAILABLE, DEADLINE_EXCEEDED), 1 otherwise.
int ExitStatusForCallError(const absl::Status& status);

struct ScoreCommandOptions {
  ClientOptions client;
  std::string input;   // raw CSV (test or train layout). Required.
  std::string output;  // submission to write. Required.
  // Rows not scored; "" = the output path with ".csv" replaced by
  // ".errors.csv".
  std::string errors;
  BatchScoreOptions batch;
  // How long to wait for the first connection. Default 10 s.
  absl::Duration connect_timeout = absl::Seconds(10);
  // Progress of the file on `err` (its `out` is replaced by &err): the
  // terminal form or plain lines, common/progress.h. Default none.
  std::optional<ProgressOptions> progress;
};

// `recsys score`: writes the submission and errors files and a summary line
// on `err`. Returns 0 when every row was scored, 1 when some were not, 2 for
// bad options, an unreadable input or output, or an unreachable server.
int RunScore(const ScoreCommandOptions& options, std::ostream& out,
             std::ostream& err);

struct RecommendCommandOptions {
  ClientOptions client;
  // Cell text per column name, as in a test_ver2.csv cell ("35", "MADRID",
  // "2016-06-28"); columns not given are missing. Exclusive with csv_line.
  std::map<std::string, std::string> fields;
  // One data line of a raw file, and its header ("" = the test layout).
  std::string csv_line;
  std::string header;
  // "1:ind_cco_fin_ult1,ind_recibo_ult1;2:..." (see ParseHistoryText).
  std::string history;
  int k = 7;
  // Ask for each product's explanation and print it under the product, with
  // at most explain_features features (0: the server's default, 5).
  bool explain = false;
  int explain_features = 0;
};

// `recsys recommend`: prints a table of the top k products (with --explain,
// each with a table of the features that moved its score most).
int RunRecommend(const RecommendCommandOptions& options, std::ostream& out,
                 std::ostream& err);

// `recsys info`, `versions`, `reload`, `pin`, `unpin`, `rollback`: readable
// output of the admin calls. `version` is the version to describe or pin.
int RunInfo(const ClientOptions& client, const std::string& version,
            std::ostream& out, std::ostream& err);
int RunVersions(const ClientOptions& client, std::ostream& out,
                std::ostream& err);
int RunReload(const ClientOptions& client, std::ostream& out,
              std::ostream& err);
int RunPin(const ClientOptions& client, const std::string& version,
           std::ostream& out, std::ostream& err);
// `recsys challenger set VERSION --share S` (action "set") or `recsys
// challenger clear` (action "clear", version empty). Usage errors (2): an
// unknown action, a missing VERSION, a share outside (0, 1].
int RunChallenger(const ClientOptions& client, const std::string& action,
                  const std::string& version, double share, std::ostream& out,
                  std::ostream& err);
int RunUnpin(const ClientOptions& client, std::ostream& out, std::ostream& err);
int RunRollback(const ClientOptions& client, std::ostream& out,
                std::ostream& err);

// `recsys health`: the grpc.health.v1 check of `service` ("" = readiness, a
// model serves; "liveness" = the process works), printed as one line. For a
// container HEALTHCHECK or an exec probe: returns 0 when SERVING and 1
// otherwise, also when the server cannot be reached (Docker reserves 2).
int RunHealth(const ClientOptions& client, const std::string& service,
              std::ostream& out, std::ostream& err);

struct BenchCommandOptions {
  ClientOptions client;        // client.deadline is each unary call's deadline
  std::string mode = "unary";  // "unary" or "stream"
  std::string input;           // raw CSV whose rows are sent. Required.
  // Callers (unary), calls in flight at most (unary with a rate), or streams.
  int concurrency = 1;
  // Unary: how long to call (0 and requests 0: 10 s). Stream: stop reading
  // the input after this long (0 = the whole file).
  absl::Duration duration = absl::ZeroDuration();
  // Unary: calls to make (0 = for `duration`). Stream: rows per stream at
  // most (0 = all).
  int64_t requests = 0;
  double rate = 0;          // unary: total calls per second; 0 = unpaced
  std::string json;         // also write the results here ("" = don't)
  BatchScoreOptions batch;  // stream: batch_rows, window, retries; both: k
  absl::Duration connect_timeout = absl::Seconds(10);
};

// `recsys bench`: load-tests the server and prints throughput, errors and
// latency percentiles (client/load_report.h). Returns 0 when every call (or
// row) succeeded, 1 when some failed, 2 for bad options, an unreadable input
// or an unreachable server.
int RunBench(const BenchCommandOptions& options, std::ostream& out,
             std::ostream& err);

// `recsys evaluate`: MAP@7 of a submission against a truth file.
int RunEvaluate(const std::string& submission, const std::string& truth,
                std::ostream& out, std::ostream& err);

// `recsys evaluate --db records.db --month YYYY-MM`: the same, with the truth
// derived from the records database (RecordsDb::Truth). `truth` must be ""
// (one source of truth). Returns 0, or 2 for bad options, an unreadable
// submission or database, or a month whose truth is not known.
int RunEvaluateMonth(const std::string& submission, const std::string& truth,
                     const std::string& db, const std::string& month,
                     std::ostream& out, std::ostream& err);

}  // namespace recsys

#endif  // RECSYS_CLIENT_CLI_COMMANDS_H_
