// The series every Prometheus-instrumented server exports about itself, which
// prometheus-cpp 1.0.1 does not provide (it has no process collector):
//
//   process_cpu_seconds_total        user + system CPU time (counter)
//   process_resident_memory_bytes    resident set size
//   process_virtual_memory_bytes     virtual memory size
//   process_open_fds                 open file descriptors
//   process_max_fds                  the RLIMIT_NOFILE soft limit
//   process_start_time_seconds       start time, seconds since the Unix epoch
//   recsys_build_info{version,revision,xgboost,grpc} = 1
//
// with the names, types and units of the Go and Python clients (base units),
// so that standard dashboards and alerts work unchanged. Read from /proc on
// each scrape (Linux only).
//
//   auto registry = std::make_shared<prometheus::Registry>();
//   RegisterBuildInfo(CurrentBuildInfo(), *registry);
//   exposer.RegisterCollectable(registry);
//   exposer.RegisterCollectable(std::make_shared<ProcessCollectable>());
#ifndef RECSYS_SERVER_PROCESS_METRICS_H_
#define RECSYS_SERVER_PROCESS_METRICS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"
#include "prometheus/registry.h"

namespace recsys {

// What /proc/self says about this process.
struct ProcessStats {
  double cpu_seconds = 0;      // utime + stime
  int64_t resident_bytes = 0;  // rss pages x page size
  int64_t virtual_bytes = 0;   // vsize
  double start_time_seconds = 0;  // boot time + starttime ticks
  int64_t open_fds = 0;        // entries of /proc/self/fd
  int64_t max_fds = 0;         // RLIMIT_NOFILE soft limit
};

// Parses the text of /proc/<pid>/stat (`stat`) and the "btime" line of
// /proc/stat (`proc_stat`), with `ticks_per_second` (sysconf(_SC_CLK_TCK))
// and `page_size`; fills every field but the fds. INVALID_ARGUMENT naming
// the field when the text does not have it. Pure; exposed for tests.
absl::StatusOr<ProcessStats> ParseProcStat(absl::string_view stat,
                                           absl::string_view proc_stat,
                                           int64_t ticks_per_second,
                                           int64_t page_size);

// The stats of this process. Errors from reading /proc carry the path and
// the OS reason.
absl::StatusOr<ProcessStats> ReadProcessStats();

// The process_* families of `stats`.
std::vector<prometheus::MetricFamily> ProcessFamilies(const ProcessStats& stats);

// Collects the process_* series at each scrape (none when /proc cannot be
// read). Thread-safe (stateless).
class ProcessCollectable final : public prometheus::Collectable {
 public:
  std::vector<prometheus::MetricFamily> Collect() const override;
};

struct BuildInfo {
  std::string version;   // `git describe` at configure time, or -DRECSYS_VERSION
  std::string revision;  // the commit, or -DRECSYS_REVISION; "unknown" without git
  std::string xgboost;   // the XGBoost library's version, e.g. "1.7.4"
  std::string grpc;      // grpc::Version(), e.g. "1.51.1"
};

// This binary's build info.
BuildInfo CurrentBuildInfo();

// Adds the gauge recsys_build_info{version,revision,xgboost,grpc} = 1 to
// `registry`.
void RegisterBuildInfo(const BuildInfo& info, prometheus::Registry& registry);

}  // namespace recsys

#endif  // RECSYS_SERVER_PROCESS_METRICS_H_
