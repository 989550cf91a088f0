// recsys-http-bench: unary Recommend latency and throughput over gRPC and
// over HTTP/JSON (server/http_gateway.h) against one running recsys-server,
// in the same run, alternating protocols so that both see the same machine.
//
//   recsys-server --store models --port 50051 --http-port 8080 &
//   recsys-http-bench --grpc 127.0.0.1:50051 --http 127.0.0.1:8080 \
//       --input data/test_ver2.csv --calls 4000 --callers 1,4 --rounds 2
//
// Each caller sends its next call when the previous one returns (closed
// loop), one connection per caller (HTTP keep-alive; one gRPC channel per
// caller). Both clients encode each call's request in the loop (protobuf
// binary, or protobuf's JSON mapping) and decode the answer, so the client
// cost of each protocol is in its latency. Percentiles are exact over every
// call (client/load_report.h). Prints one markdown table row per run.
#include <google/protobuf/util/json_util.h>
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "client/load_report.h"
#include "client/record_codec.h"
#include "client/recommender_client.h"
#include "common/raw_reader.h"
#include "proto/api.h"

ABSL_FLAG(std::string, grpc, "127.0.0.1:50051", "gRPC address HOST:PORT");
ABSL_FLAG(std::string, http, "127.0.0.1:8080", "HTTP address HOST:PORT");
ABSL_FLAG(std::string, input, "", "Customers to score (test_ver2.csv form)");
ABSL_FLAG(int32_t, customers, 2000, "Customers read from --input");
ABSL_FLAG(int32_t, calls, 4000, "Calls per protocol, callers and round");
ABSL_FLAG(std::string, callers, "1,4", "Comma-separated caller counts");
ABSL_FLAG(int32_t, rounds, 2, "Rounds (each runs gRPC then HTTP)");

namespace recsys {
namespace {

struct Run {
  std::vector<int64_t> nanos;
  int64_t errors = 0;
  double seconds = 0;
};

using CallFn = std::function<bool(const v1::RecommendRequest&)>;

// `callers` threads, each with its own `make()` client, `calls` in all.
Run RunCalls(int callers, int calls,
             const std::vector<v1::RecommendRequest>& requests,
             const std::function<CallFn()>& make) {
  Run run;
  std::vector<std::vector<int64_t>> per(callers);
  std::atomic<int64_t> errors{0};
  std::vector<CallFn> clients;
  for (int c = 0; c < callers; ++c) clients.push_back(make());
  // One warm-up call each (connections, first-call costs).
  for (int c = 0; c < callers; ++c) clients[c](requests[c % requests.size()]);
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < callers; ++c) {
    threads.emplace_back([&, c] {
      for (int i = c; i < calls; i += callers) {
        const auto t0 = std::chrono::steady_clock::now();
        if (!clients[c](requests[i % requests.size()])) ++errors;
        per[c].push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(
                             std::chrono::steady_clock::now() - t0)
                             .count());
      }
    });
  }
  for (std::thread& t : threads) t.join();
  run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                              start)
                    .count();
  for (auto& v : per) run.nanos.insert(run.nanos.end(), v.begin(), v.end());
  run.errors = errors.load();
  return run;
}

CallFn GrpcCaller(const std::string& address) {
  ClientOptions options;
  options.server = address;
  std::shared_ptr<RecommenderClient> client =
      std::move(RecommenderClient::Create(options)).value();
  return [client](const v1::RecommendRequest& request) {
    absl::StatusOr<v1::RecommendResponse> response = client->Recommend(request);
    return response.ok() && response->recommendations_size() > 0;
  };
}

CallFn HttpCaller(const std::string& address) {
  std::vector<std::string> parts = absl::StrSplit(address, ':');
  int port = 0;
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[1], &port)) {
    std::fprintf(stderr, "--http: want HOST:PORT, got %s\n", address.c_str());
    std::exit(2);
  }
  auto client = std::make_shared<httplib::Client>(parts[0], port);
  client->set_keep_alive(true);
  // httplib writes headers and body separately: without TCP_NODELAY,
  // Nagle waits for the delayed ACK (40 ms) before sending the body.
  client->set_tcp_nodelay(true);
  return [client](const v1::RecommendRequest& request) {
    std::string body;
    if (!google::protobuf::util::MessageToJsonString(request, &body).ok())
      return false;
    httplib::Result result = client->Post("/v1/models/santander:recommend",
                                          body, "application/json");
    if (!result || result->status != 200) return false;
    v1::RecommendResponse response;
    return google::protobuf::util::JsonStringToMessage(result->body, &response)
               .ok() &&
           response.recommendations_size() > 0;
  };
}

int Main() {
  std::unique_ptr<RawReader> reader =
      std::move(RawReader::Open(absl::GetFlag(FLAGS_input))).value();
  std::vector<v1::RecommendRequest> requests;
  RawRecord record;
  std::vector<RowError> row_errors;
  while (static_cast<int>(requests.size()) < absl::GetFlag(FLAGS_customers) &&
         reader->Next(&record, &row_errors)) {
    if (!row_errors.empty()) continue;
    absl::StatusOr<v1::CustomerRecord> customer = EncodeCustomer(record);
    if (!customer.ok()) continue;
    v1::RecommendRequest request;
    *request.mutable_customer() = *std::move(customer);
    requests.push_back(std::move(request));
  }
  if (requests.empty()) {
    std::fprintf(stderr, "no customers read from --input\n");
    return 1;
  }
  std::printf(
      "| round | protocol | callers | calls | calls/s | p50 ms | p90 ms | p99 "
      "ms | errors |\n|---|---|---|---|---|---|---|---|---|\n");
  for (int round = 1; round <= absl::GetFlag(FLAGS_rounds); ++round) {
    for (absl::string_view text :
         absl::StrSplit(absl::GetFlag(FLAGS_callers), ',')) {
      int callers = 1;
      if (!absl::SimpleAtoi(text, &callers) || callers < 1) return 2;
      for (const char* protocol : {"gRPC", "HTTP/JSON"}) {
        const bool grpc = protocol[0] == 'g';
        const std::string grpc_address = absl::GetFlag(FLAGS_grpc);
        const std::string http_address = absl::GetFlag(FLAGS_http);
        Run run = RunCalls(callers, absl::GetFlag(FLAGS_calls), requests, [&] {
          return grpc ? GrpcCaller(grpc_address) : HttpCaller(http_address);
        });
        const int64_t calls = static_cast<int64_t>(run.nanos.size());
        const LatencySummary latency = SummarizeLatencies(std::move(run.nanos));
        std::printf("| %d | %s | %d | %lld | %.0f | %.3f | %.3f | %.3f | %lld |\n",
                    round, protocol, callers, static_cast<long long>(calls),
                    calls / run.seconds,
                    absl::ToDoubleMilliseconds(latency.p50),
                    absl::ToDoubleMilliseconds(latency.p90),
                    absl::ToDoubleMilliseconds(latency.p99),
                    static_cast<long long>(run.errors));
        std::fflush(stdout);
      }
    }
  }
  return 0;
}

}  // namespace
}  // namespace recsys

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return recsys::Main();
}
