// `recsys bench`: load-tests a running recsys-server (client/load_generator.h)
// and prints throughput, errors and latency percentiles.
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client/cli/commands.h"
#include "client/load_generator.h"

namespace recsys {
namespace {

// Rows of --input kept in memory for unary calls (cycled through).
constexpr int64_t kMaxUnaryRows = 100000;

absl::StatusOr<LoadReport> RunUnary(const BenchCommandOptions& options,
                                    RecommenderClient* client,
                                    std::ostream& err) {
  const int64_t rows = options.requests > 0
                           ? std::min(options.requests, kMaxUnaryRows)
                           : kMaxUnaryRows;
  int64_t skipped = 0;
  absl::StatusOr<std::vector<v1::RecommendRequest>> requests =
      ReadUnaryRequests(options.input, rows, options.batch.k, &skipped);
  if (!requests.ok()) return requests.status();
  if (skipped > 0) {
    err << "recsys bench: " << skipped
        << " unreadable rows of the input are not sent\n";
  }
  UnaryLoadOptions load;
  load.concurrency = options.concurrency;
  load.max_calls = options.requests;
  load.duration = options.duration;
  if (load.duration == absl::ZeroDuration() && load.max_calls == 0) {
    load.duration = absl::Seconds(10);
  }
  load.rate = options.rate;
  load.deadline = options.client.deadline;
  return RunUnaryLoad(client->recommender_stub(), *requests, load);
}

absl::StatusOr<LoadReport> RunStream(const BenchCommandOptions& options,
                                     RecommenderClient* client) {
  StreamLoadOptions load;
  load.concurrency = options.concurrency;
  load.max_rows_per_stream = options.requests;
  load.duration = options.duration;
  load.batch = options.batch;
  return RunStreamLoad(client->recommender_stub(), options.input, load);
}

}  // namespace

int RunBench(const BenchCommandOptions& options, std::ostream& out,
             std::ostream& err) {
  if (options.mode != "unary" && options.mode != "stream") {
    err << "recsys bench: --mode must be unary or stream, got \""
        << options.mode << "\"\n";
    return kExitUsage;
  }
  if (options.input.empty()) {
    err << "recsys bench: --input is required (a test_ver2.csv file whose rows "
           "are sent)\n";
    return kExitUsage;
  }
  if (options.concurrency < 1 || options.requests < 0 || options.rate < 0 ||
      options.duration < absl::ZeroDuration()) {
    err << "recsys bench: --concurrency must be at least 1 and --requests, "
           "--rate, --duration-seconds not negative\n";
    return kExitUsage;
  }
  if (options.mode == "stream" && options.rate > 0) {
    err << "recsys bench: --rate applies to --mode unary only\n";
    return kExitUsage;
  }
  absl::StatusOr<std::unique_ptr<RecommenderClient>> client =
      RecommenderClient::Create(options.client);
  if (!client.ok()) {
    err << "recsys bench: " << client.status().message() << "\n";
    return kExitUsage;
  }
  if (absl::Status connected =
          (*client)->WaitForConnected(options.connect_timeout);
      !connected.ok()) {
    err << "recsys bench: " << connected.message() << "\n";
    return kExitUsage;
  }
  absl::StatusOr<LoadReport> report =
      options.mode == "unary" ? RunUnary(options, client->get(), err)
                              : RunStream(options, client->get());
  if (!report.ok()) {
    err << "recsys bench: " << report.status().message() << "\n";
    return absl::IsInvalidArgument(report.status()) ||
                   absl::IsNotFound(report.status())
               ? kExitUsage
               : kExitFailed;
  }
  out << report->ToText();
  if (!options.json.empty()) {
    nlohmann::json json = report->ToJson();
    json["server"] = options.client.server;
    json["input"] = options.input;
    json["k"] = options.batch.k;
    if (options.mode == "stream") {
      json["batch_rows"] = options.batch.batch_rows;
      json["window"] = options.batch.window;
    }
    std::ofstream file(options.json, std::ios::trunc);
    file << json.dump(2) << "\n";
    if (!file.good()) {
      err << "recsys bench: cannot write " << options.json << "\n";
      return kExitUsage;
    }
  }
  return report->errors == 0 ? kExitOk : kExitFailed;
}

}  // namespace recsys
