// `recsys`: the command-line client of recsys-server. main() only picks the
// subcommand, parses its flags and calls it (client/cli/commands.h).
#include <unistd.h>

#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "client/cli/bench_flags.h"
#include "client/cli/commands.h"
#include "client/cli/flags.h"
#include "common/command_line.h"

namespace recsys {
namespace {

ClientOptions ClientFromFlags(absl::Duration default_deadline) {
  ClientOptions options;
  options.server = absl::GetFlag(FLAGS_server);
  const double seconds = absl::GetFlag(FLAGS_deadline_seconds);
  options.deadline = seconds > 0 ? absl::Seconds(seconds) : default_deadline;
  options.reload_deadline =
      seconds > 0 ? absl::Seconds(seconds) : absl::Seconds(120);
  options.tls_ca_file = absl::GetFlag(FLAGS_tls_ca);
  options.tls_cert_file = absl::GetFlag(FLAGS_tls_cert);
  options.tls_key_file = absl::GetFlag(FLAGS_tls_key);
  options.tls_server_name = absl::GetFlag(FLAGS_tls_server_name);
  options.admin_token_file = absl::GetFlag(FLAGS_admin_token_file);
  return options;
}

int Score(const std::vector<std::string>&) {
  ScoreCommandOptions options;
  options.client = ClientFromFlags(absl::Seconds(10));
  options.input = absl::GetFlag(FLAGS_input);
  options.output = absl::GetFlag(FLAGS_output);
  options.errors = absl::GetFlag(FLAGS_errors);
  options.batch.batch_rows = absl::GetFlag(FLAGS_batch_rows);
  options.batch.window = absl::GetFlag(FLAGS_window);
  options.batch.k = absl::GetFlag(FLAGS_k);
  options.batch.retry_for =
      absl::Seconds(absl::GetFlag(FLAGS_retry_for_seconds));
  const double deadline = absl::GetFlag(FLAGS_deadline_seconds);
  options.batch.stall_timeout = absl::Seconds(deadline > 0 ? deadline : 60);
  options.connect_timeout =
      absl::Seconds(absl::GetFlag(FLAGS_connect_timeout_seconds));
  if (absl::GetFlag(FLAGS_progress))
    options.progress = StderrProgressOptions(absl::GetFlag(FLAGS_progress_seconds));
  return RunScore(options, std::cout, std::cerr);
}

int Recommend(const std::vector<std::string>&) {
  RecommendCommandOptions options;
  options.client = ClientFromFlags(absl::Seconds(10));
  for (const std::string& field : CustomerFieldFlags()) {
    std::string value = absl::FindCommandLineFlag(field)->CurrentValue();
    if (!value.empty()) options.fields[field] = value;
  }
  options.csv_line = absl::GetFlag(FLAGS_csv_line);
  options.header = absl::GetFlag(FLAGS_header);
  options.history = absl::GetFlag(FLAGS_history);
  options.k = absl::GetFlag(FLAGS_k);
  options.explain = absl::GetFlag(FLAGS_explain);
  options.explain_features = absl::GetFlag(FLAGS_explain_features);
  return RunRecommend(options, std::cout, std::cerr);
}

int Bench(const std::vector<std::string>&) {
  BenchCommandOptions options;
  options.client = ClientFromFlags(absl::Seconds(10));
  options.mode = absl::GetFlag(FLAGS_mode);
  options.input = absl::GetFlag(FLAGS_input);
  options.concurrency = absl::GetFlag(FLAGS_concurrency);
  options.duration = absl::Seconds(absl::GetFlag(FLAGS_duration_seconds));
  options.requests = absl::GetFlag(FLAGS_requests);
  options.rate = absl::GetFlag(FLAGS_rate);
  options.json = absl::GetFlag(FLAGS_json);
  options.batch.batch_rows = absl::GetFlag(FLAGS_batch_rows);
  options.batch.window = absl::GetFlag(FLAGS_window);
  options.batch.k = absl::GetFlag(FLAGS_k);
  options.batch.retry_for =
      absl::Seconds(absl::GetFlag(FLAGS_retry_for_seconds));
  options.batch.use_arenas = absl::GetFlag(FLAGS_arenas);
  options.connect_timeout =
      absl::Seconds(absl::GetFlag(FLAGS_connect_timeout_seconds));
  return RunBench(options, std::cout, std::cerr);
}

// The flags of every subcommand that talks to a server.
FlagGroup ConnectionFlags(bool admin) {
  FlagGroup group{"Connection flags",
                  {"server", "deadline_seconds", "tls_ca", "tls_cert",
                   "tls_key", "tls_server_name"}};
  if (admin) group.flags.push_back("admin_token_file");
  return group;
}

constexpr char kCallExitStatus[] =
    "0 ok; 1 the server refused the call; 2 usage error or the server could "
    "not be reached.";

// An admin subcommand that takes only the connection flags.
Subcommand AdminCommand(std::string name, std::string summary,
                        std::string description,
                        int (*run)(const ClientOptions&, std::ostream&,
                                   std::ostream&),
                        absl::Duration deadline) {
  return {{.name = name,
           .summary = std::move(summary),
           .usage = {absl::StrCat("recsys ", name, " --server HOST:PORT")},
           .description = std::move(description),
           .flags = {ConnectionFlags(/*admin=*/true)},
           .exit_status = kCallExitStatus},
          [run, deadline](const std::vector<std::string>&) {
            return run(ClientFromFlags(deadline), std::cout, std::cerr);
          }};
}

const ProgramSpec& Program() {
  static const auto* const kProgram = new ProgramSpec{
      .name = "recsys",
      .summary =
          "the command-line client of the Santander product recommender "
          "(recsys-server): batch-score a month of customers into a Kaggle "
          "submission, ask for one customer's recommendations, evaluate "
          "MAP@7, and operate the server's model versions.",
      .subcommands =
          {
              {{.name = "score",
                .summary = "scores a whole raw file into a Kaggle submission.",
                .usage =
                    {"recsys score --server HOST:PORT --input test_ver2.csv "
                     "--output submission.csv",
                     "             [--errors errors.csv] [--batch-rows 256] "
                     "[--window 8] [--k 7]",
                     "             [--retry-for-seconds 60] "
                     "[--deadline-seconds 60]"},
                .description =
                    "Reads every customer row of --input (the Kaggle "
                    "test_ver2.csv layout, ISO or spreadsheet dates), streams "
                    "the rows to the server in batches, and writes the "
                    "recommended products of each customer to --output in the "
                    "Kaggle submission format (`ncodpers,added_products`, rows "
                    "in input order).\n\n"
                    "Every input row ends in exactly one of the two files: a "
                    "row "
                    "that cannot be scored (unreadable in the file, e.g. text "
                    "that is not UTF-8 or a line over 4 MiB; refused by the "
                    "server; a customer already on an earlier line; or given "
                    "up) "
                    "is written to the errors file with its line number, "
                    "customer code and reason. The submission has one line per "
                    "customer, the first row of each. If the server is "
                    "unreachable, restarts or the connection breaks, the "
                    "client "
                    "reconnects with exponential backoff for up to "
                    "--retry-for-seconds without an answer and resends only "
                    "the "
                    "rows not yet answered. Progress (MB of the file, rows, "
                    "rows/s, failures, ETA) goes to stderr: one line redrawn "
                    "in place on a terminal, else a plain line every "
                    "--progress-seconds (for logs); a summary line (rows, "
                    "failures, retries, rows/s) always.",
                .flags = {ConnectionFlags(/*admin=*/false),
                          {"Score flags",
                           {"input", "output", "errors", "batch_rows", "window",
                            "k", "retry_for_seconds", "connect_timeout_seconds",
                            "progress", "progress_seconds"}}},
                .required = {"input", "output"},
                .exit_status =
                    "0 every row scored; 1 some rows are in the errors file; 2 "
                    "usage error, unreadable input (an I/O error names the "
                    "line), or the server could not be reached."},
               Score},
              {{.name = "recommend",
                .summary =
                    "recommends products for one customer and prints them "
                    "as a table.",
                .usage =
                    {"recsys recommend --server HOST:PORT --ncodpers 15889 "
                     "--age 56 ...",
                     "recsys recommend --server HOST:PORT --csv-line \"<a "
                     "line of test_ver2.csv>\"",
                     "                 [--header \"<its header line>\"]",
                     "                 [--history \"1:ind_cco_fin_ult1\"]",
                     "                 [--explain [--explain-features N]]"},
                .description =
                    "Describe the customer either with one flag per field "
                    "(named "
                    "after the Kaggle columns: --ncodpers, --age, --sexo, "
                    "--renta, --segmento, ...; fields not given are missing, "
                    "as "
                    "\"NA\" in the files) or with --csv-line, a data line "
                    "copied "
                    "from a raw file (by default in the 24-column "
                    "test_ver2.csv "
                    "layout; give --header for another layout). Values are "
                    "written as in the files.\n\n"
                    "The server looks up the customer's recent products in its "
                    "history store, unless --history gives them. The table "
                    "shows "
                    "the top --k products the customer did not own last month, "
                    "best first, with the model's score, and the model version "
                    "that answered.\n\n"
                    "With --explain, each product is followed by why: the "
                    "features that moved its score most (exact TreeSHAP "
                    "contributions, in log-odds units before the softmax; + "
                    "pushed the product up), each with the value the model "
                    "saw and the raw field it came from as given, then the "
                    "sum of all other features, the bias (the average "
                    "margin) and the product's margin, which they add up to. "
                    "Explaining costs the server more than scoring.",
                .flags =
                    {ConnectionFlags(/*admin=*/false),
                     {"Recommend flags",
                      {"csv_line", "header", "history", "k", "explain",
                       "explain_features"}},
                     {"Customer field flags (text as in a test_ver2.csv cell)",
                      CustomerFieldFlags()}},
                .exit_status =
                    "0 ok; 1 the server refused the request (e.g. an invalid "
                    "field, named in the message); 2 usage error or the server "
                    "could not be reached."},
               Recommend},
              {{.name = "info",
                .summary =
                    "describes the model that is serving (or --version V).",
                .usage = {"recsys info --server HOST:PORT [--version V]"},
                .description =
                    "Prints the serving model's name and version, its feature "
                    "spec hash and number of features, the months it was "
                    "trained "
                    "and validated on, its validation MAP@7 next to the "
                    "popularity baseline and the ceiling, the month of its "
                    "product-history snapshot, and when it was created and "
                    "loaded.",
                .flags = {ConnectionFlags(/*admin=*/false),
                          {"Info flags", {"model_version"}}},
                .aliases = {{"version", "model_version"}},
                .exit_status = kCallExitStatus},
               [](const std::vector<std::string>&) {
                 return RunInfo(ClientFromFlags(absl::Seconds(10)),
                                absl::GetFlag(FLAGS_model_version), std::cout,
                                std::cerr);
               }},
              AdminCommand(
                  "versions",
                  "lists the model versions the server knows and their states.",
                  "One line per version in the model store: LOADING, READY, "
                  "SERVING, CHALLENGER, FAILED (with the reason) or "
                  "UNLOADED; whether it "
                  "is "
                  "pinned; when it was loaded.",
                  RunVersions, absl::Seconds(10)),
              AdminCommand(
                  "reload", "makes the server scan its model store now.",
                  "New versions are loaded, validated and warmed; under the "
                  "`latest` policy the newest good one starts serving. A "
                  "broken "
                  "version is marked FAILED with its reason and the serving "
                  "version stays. Prints what changed.",
                  RunReload, absl::Seconds(120)),
              {{.name = "pin",
                .summary = "serves one version from now on, whatever newer "
                           "versions appear.",
                .usage = {"recsys pin --server HOST:PORT --version V",
                          "recsys pin --server HOST:PORT V"},
                .description =
                    "Pins version V (see `recsys versions`): it serves "
                    "until `recsys unpin`.",
                .flags = {ConnectionFlags(/*admin=*/true),
                          {"Pin flags", {"model_version"}}},
                .aliases = {{"version", "model_version"}},
                .max_args = 1,
                .args_name = "VERSION",
                .exit_status = kCallExitStatus},
               [](const std::vector<std::string>& args) {
                 std::string version = absl::GetFlag(FLAGS_model_version);
                 if (version.empty() && args.size() == 1) version = args[0];
                 return RunPin(ClientFromFlags(absl::Seconds(10)), version,
                               std::cout, std::cerr);
               }},
              AdminCommand("unpin",
                           "returns to the `latest` policy: the newest good "
                           "version serves.",
                           "Undoes `recsys pin` and `recsys rollback`.",
                           RunUnpin, absl::Seconds(10)),
              AdminCommand(
                  "rollback",
                  "serves the previous good version again (and pins it).",
                  "Goes back to the version that served before the current one "
                  "and pins it, so that the next store scan does not bring "
                  "back "
                  "the version rolled back from. `recsys unpin` returns to the "
                  "newest version.",
                  RunRollback, absl::Seconds(10)),
              {{.name = "challenger",
                .summary = "serves a second version beside the champion to "
                           "a stable share of customers, or stops it.",
                .usage = {"recsys challenger set VERSION --share 0.1 "
                          "--server HOST:PORT",
                          "recsys challenger clear --server HOST:PORT"},
                .description =
                    "`set` loads and validates VERSION and serves it to the "
                    "customers whose hash of ncodpers falls under --share "
                    "(a customer always gets the same version); the champion "
                    "does not change. Answers and metrics name the version "
                    "that produced them. `clear` returns every customer to "
                    "the champion. The challenger is saved with the serving "
                    "policy (it survives a restart); pinning it promotes it "
                    "to champion and clears it (docs/monthly.md).",
                .flags = {ConnectionFlags(/*admin=*/true),
                          {"Challenger flags", {"share"}}},
                .min_args = 1,
                .max_args = 2,
                .args_name = "set VERSION | clear",
                .exit_status = kCallExitStatus},
               [](const std::vector<std::string>& args) {
                 return RunChallenger(ClientFromFlags(absl::Seconds(120)),
                                      args[0], args.size() > 1 ? args[1] : "",
                                      absl::GetFlag(FLAGS_share), std::cout,
                                      std::cerr);
               }},
              {{.name = "health",
                .summary = "asks the server's health service; exit 0 SERVING, "
                           "1 not.",
                .usage = {"recsys health --server HOST:PORT [--service "
                          "liveness]"},
                .description =
                    "Calls the standard grpc.health.v1 Check of --service and "
                    "prints the status. \"\" (the default) is readiness: "
                    "SERVING once a model version serves; \"liveness\" is "
                    "SERVING while the process works. For a container "
                    "HEALTHCHECK or a Kubernetes exec probe (works over TLS, "
                    "unlike native gRPC probes).",
                .flags = {ConnectionFlags(/*admin=*/false),
                          {"Health flags", {"service"}}},
                .exit_status = "0 SERVING; 1 anything else, also an "
                               "unreachable server; 2 usage error."},
               [](const std::vector<std::string>&) {
                 return RunHealth(ClientFromFlags(absl::Seconds(5)),
                                  absl::GetFlag(FLAGS_service), std::cout,
                                  std::cerr);
               }},
              {{.name = "evaluate",
                .summary =
                    "computes MAP@7 of a submission against a truth file, "
                    "as Kaggle scores it.",
                .usage = {"recsys evaluate --submission submission.csv --truth "
                          "test_truth.csv",
                          "recsys evaluate --submission submission.csv --db "
                          "records.db --month 2016-06"},
                .description =
                    "For each customer of the truth file, the products added "
                    "(owned now, not owned last month) are compared with the "
                    "submission's ranked products: average precision at 7, "
                    "averaged over every customer of the truth file (customers "
                    "who added nothing score 0, as on Kaggle). Runs offline. "
                    "With --db and --month the truth is the month's customers "
                    "in the records database and the products each added "
                    "versus the month before.",
                .flags = {{"Flags", {"submission", "truth", "db", "month"}}},
                .required = {"submission"},
                .exit_status = "0 ok; 2 usage error or a file that cannot be "
                               "read."},
               [](const std::vector<std::string>&) {
                 if (!absl::GetFlag(FLAGS_db).empty() ||
                     !absl::GetFlag(FLAGS_month).empty()) {
                   return RunEvaluateMonth(
                       absl::GetFlag(FLAGS_submission),
                       absl::GetFlag(FLAGS_truth), absl::GetFlag(FLAGS_db),
                       absl::GetFlag(FLAGS_month), std::cout, std::cerr);
                 }
                 return RunEvaluate(absl::GetFlag(FLAGS_submission),
                                    absl::GetFlag(FLAGS_truth), std::cout,
                                    std::cerr);
               }},
              {{.name = "bench",
                .summary = "load-tests a server: throughput, latency "
                           "percentiles, errors.",
                .usage =
                    {"recsys bench --server HOST:PORT --input test_ver2.csv "
                     "[--mode unary]",
                     "             [--concurrency 1] [--duration-seconds 10 "
                     "| --requests N]",
                     "             [--rate CALLS_PER_S] [--json "
                     "results.json]",
                     "recsys bench --server HOST:PORT --input test_ver2.csv "
                     "--mode stream",
                     "             [--concurrency 1] [--batch-rows 256] "
                     "[--window 8]",
                     "             [--requests ROWS]"},
                .description =
                    "Sends the customers of --input (rows of a test_ver2.csv "
                    "file) to a running server and measures it.\n\n"
                    "--mode unary: --concurrency threads each call Recommend "
                    "for "
                    "one customer and wait for the answer, for "
                    "--duration-seconds (default 10) or --requests calls (the "
                    "first 100000 rows of --input are used in turn). Every "
                    "call's latency is recorded; the percentiles printed are "
                    "exact. With --rate the load is an open loop: one call is "
                    "started every 1/rate seconds whatever the earlier ones "
                    "are "
                    "doing (at most --concurrency in flight), and latency "
                    "counts "
                    "from when each call was due, so queueing in a slow server "
                    "shows.\n\n"
                    "--mode stream: --concurrency RecommendStream runs, each "
                    "scoring --input from the start exactly as `recsys score` "
                    "does (answers are discarded); prints rows per second.\n\n"
                    "Both print rows scored, rows/s, this client's CPU time, "
                    "and "
                    "errors by status code; --json writes the same numbers to "
                    "a "
                    "file. Run it on an idle machine: the client's CPU use "
                    "competes with a server on the same host.",
                .flags = {ConnectionFlags(/*admin=*/false),
                          {"Bench flags",
                           {"mode", "input", "concurrency", "duration_seconds",
                            "requests", "rate", "json", "k", "batch_rows",
                            "window", "retry_for_seconds", "arenas",
                            "connect_timeout_seconds"}}},
                .required = {"input"},
                .exit_status =
                    "0 no errors; 1 some calls or rows failed; 2 usage error, "
                    "unreadable input, or the server could not be reached."},
               Bench},
          },
      .exit_status =
          "0 success; 1 partial or refused work; 2 usage error "
          "(unknown flag or subcommand, bad value), unreadable "
          "input, or the server could not be reached."};
  return *kProgram;
}

}  // namespace
}  // namespace recsys

int main(int argc, char** argv) {
  // Debian's abseil is built with Mutex deadlock detection on, which tracks
  // lock order on every lock (GraphCycles, ~1% of CPU under load in perf).
  // Our lock order is checked at compile time (make tsa) and by TSAN tests.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  return recsys::RunProgram(recsys::Program(), argc, argv);
}
