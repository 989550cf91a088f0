// The flags only `recsys bench` has; defined in bench_flags.cc. It also
// takes --server, --input, --k, --batch-rows, --window, --retries,
// --deadline-seconds and --connect-timeout-seconds (client/cli/flags.h).
#ifndef RECSYS_CLIENT_CLI_BENCH_FLAGS_H_
#define RECSYS_CLIENT_CLI_BENCH_FLAGS_H_

#include <cstdint>
#include <string>

#include "absl/flags/declare.h"

ABSL_DECLARE_FLAG(std::string, mode);
ABSL_DECLARE_FLAG(int32_t, concurrency);
ABSL_DECLARE_FLAG(double, duration_seconds);
ABSL_DECLARE_FLAG(int64_t, requests);
ABSL_DECLARE_FLAG(double, rate);
ABSL_DECLARE_FLAG(std::string, json);
ABSL_DECLARE_FLAG(bool, arenas);

#endif  // RECSYS_CLIENT_CLI_BENCH_FLAGS_H_
