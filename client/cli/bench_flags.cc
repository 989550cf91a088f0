// The flags of `recsys bench` (abseil flags; shown by `recsys bench --help`).
#include "client/cli/bench_flags.h"

#include "absl/flags/flag.h"

ABSL_FLAG(std::string, mode, "unary",
          "unary: one Recommend call per customer from --concurrency callers "
          "at once; stream: --concurrency RecommendStream batch runs over "
          "--input, as `recsys score` sends them.");
ABSL_FLAG(int32_t, concurrency, 1,
          "Concurrent callers (unary), calls in flight at most (unary with "
          "--rate), or concurrent streams (stream).");
ABSL_FLAG(double, duration_seconds, 0,
          "How long to send, in seconds. unary: default 10 when --requests is "
          "not given either; stream: stop reading --input after this long "
          "(default: the whole file).");
ABSL_FLAG(int64_t, requests, 0,
          "unary: number of calls to make (instead of --duration-seconds); "
          "stream: rows per stream at most (0 = the whole file).");
ABSL_FLAG(double, rate, 0,
          "unary: total calls per second, started on a fixed schedule "
          "without waiting for earlier answers (an open loop); latency is "
          "then measured from when each call was due (0 = closed loop: every "
          "caller sends as soon as its previous call returns).");
ABSL_FLAG(std::string, json, "",
          "Also write the results as JSON to this file.");
ABSL_FLAG(bool, arenas, true,
          "stream: build requests and parse answers on protobuf arenas, as "
          "`recsys score` does (--noarenas: on the heap, to measure the "
          "difference).");
