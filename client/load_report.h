// What a load test of the server measured (`recsys bench`): throughput,
// errors by status code, the client's CPU time, and exact latency
// percentiles over every call.
//
//   std::vector<int64_t> nanos = ...;           // one per call, any order
//   LoadReport report;
//   report.mode = "unary";
//   report.latency = SummarizeLatencies(std::move(nanos));
//   std::cout << report.ToText();
//   std::ofstream("bench.json") << report.ToJson().dump(2);
//
// Percentiles are exact (nearest rank over every recorded latency, nothing
// sampled or bucketed): p-th percentile = the smallest recorded value such
// that at least p% of the values are <= it.
//
// Plain value types; thread-compatible.
#ifndef RECSYS_CLIENT_LOAD_REPORT_H_
#define RECSYS_CLIENT_LOAD_REPORT_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "nlohmann/json.hpp"

namespace recsys {

struct LatencySummary {
  int64_t count = 0;  // latencies recorded; the rest is 0 when count == 0
  absl::Duration min;
  absl::Duration mean;
  absl::Duration p50;
  absl::Duration p90;
  absl::Duration p99;
  absl::Duration p999;
  absl::Duration max;
};

// The nearest-rank `fraction` (0..1] percentile of `sorted` (ascending), in
// nanoseconds: sorted[ceil(fraction * n) - 1]. 0 for an empty vector.
int64_t NearestRankPercentile(const std::vector<int64_t>& sorted,
                              double fraction);

// Sorts `nanos` (latencies in nanoseconds) and summarizes them.
LatencySummary SummarizeLatencies(std::vector<int64_t> nanos);

struct LoadReport {
  std::string mode;  // "unary" or "stream"
  int concurrency = 0;
  // Unary: the requested total rate in calls per second; 0 = each caller
  // sends its next call as soon as the previous one returns.
  double target_rate = 0;
  int64_t calls = 0;        // unary calls made, or streams opened
  int64_t rows_scored = 0;  // customers answered with recommendations
  int64_t errors = 0;       // failed calls (unary) or rows not scored (stream)
  // Failed calls / rows by canonical status code name, e.g. "UNAVAILABLE";
  // rows the client could not read count as "CLIENT_ERROR".
  std::map<std::string, int64_t> errors_by_code;
  absl::Duration elapsed;         // wall time of the measured run
  double client_cpu_seconds = 0;  // user + system CPU of this process
  // Unary: every call's latency (from the moment it was due to be sent when
  // target_rate > 0, so that a slow server cannot hide queueing). Stream:
  // not measured (count 0).
  LatencySummary latency;
  // Unary with target_rate > 0: the same calls timed from when they were
  // actually sent (the difference is time the caller thread started late).
  LatencySummary send_latency;

  // rows_scored / elapsed (0 when elapsed is 0).
  double rows_per_second() const;
  // Several lines, e.g.
  //   mode unary, 4 callers, 30012 calls in 10.00 s: 3001.2 rows/s
  //   errors: 0
  //   latency ms: p50 1.21  p90 1.90  p99 3.02  p99.9 5.55  max 9.1 (30012)
  std::string ToText() const;
  // {"mode": ..., "concurrency": ..., "rows_per_second": ...,
  //  "latency_ms": {"p50": ..., "p90": ..., "p99": ..., "p99_9": ..., ...},
  //  "errors_by_code": {...}, ...}.
  nlohmann::json ToJson() const;
};

}  // namespace recsys

#endif  // RECSYS_CLIENT_LOAD_REPORT_H_
