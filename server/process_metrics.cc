#include "server/process_metrics.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "grpcpp/grpcpp.h"
#include "model_store/booster.h"
#include "prometheus/gauge.h"

#ifndef RECSYS_VERSION
#define RECSYS_VERSION "unknown"
#endif
#ifndef RECSYS_REVISION
#define RECSYS_REVISION "unknown"
#endif

namespace recsys {
namespace {

absl::StatusOr<std::string> ReadText(const char* path) {
  std::ifstream in(path);
  if (!in) {
    return absl::UnavailableError(
        absl::StrCat("cannot read ", path, ": ", std::strerror(errno)));
  }
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

prometheus::MetricFamily Family(const char* name, const char* help,
                                prometheus::MetricType type, double value) {
  prometheus::ClientMetric metric;
  if (type == prometheus::MetricType::Counter) {
    metric.counter.value = value;
  } else {
    metric.gauge.value = value;
  }
  return prometheus::MetricFamily{name, help, type, {metric}};
}

}  // namespace

absl::StatusOr<ProcessStats> ParseProcStat(absl::string_view stat,
                                           absl::string_view proc_stat,
                                           int64_t ticks_per_second,
                                           int64_t page_size) {
  // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so
  // the fields are counted from the last ')'. After it, index 0 is field 3
  // (state) of proc(5).
  const size_t close = stat.rfind(')');
  if (close == absl::string_view::npos) {
    return absl::InvalidArgumentError("/proc/self/stat: no \"(comm)\" field");
  }
  const std::vector<absl::string_view> fields =
      absl::StrSplit(stat.substr(close + 1), ' ', absl::SkipWhitespace());
  auto field = [&](int number, const char* name) -> absl::StatusOr<int64_t> {
    const size_t index = static_cast<size_t>(number - 3);
    int64_t value = 0;
    if (index >= fields.size() ||
        !absl::SimpleAtoi(fields[index], &value)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "/proc/self/stat: field ", number, " (", name, ") is missing or not "
          "a number"));
    }
    return value;
  };
  auto utime = field(14, "utime");
  auto stime = field(15, "stime");
  auto starttime = field(22, "starttime");
  auto vsize = field(23, "vsize");
  auto rss = field(24, "rss");
  for (const auto* v : {&utime, &stime, &starttime, &vsize, &rss}) {
    if (!v->ok()) return v->status();
  }
  int64_t btime = -1;
  for (absl::string_view line : absl::StrSplit(proc_stat, '\n')) {
    if (absl::ConsumePrefix(&line, "btime ")) {
      if (!absl::SimpleAtoi(line, &btime)) btime = -1;
    }
  }
  if (btime < 0) {
    return absl::InvalidArgumentError("/proc/stat: no \"btime\" line");
  }
  if (ticks_per_second <= 0) ticks_per_second = 100;
  ProcessStats stats;
  stats.cpu_seconds =
      static_cast<double>(*utime + *stime) / static_cast<double>(ticks_per_second);
  stats.start_time_seconds =
      static_cast<double>(btime) +
      static_cast<double>(*starttime) / static_cast<double>(ticks_per_second);
  stats.virtual_bytes = *vsize;
  stats.resident_bytes = *rss * page_size;
  return stats;
}

absl::StatusOr<ProcessStats> ReadProcessStats() {
  absl::StatusOr<std::string> stat = ReadText("/proc/self/stat");
  if (!stat.ok()) return stat.status();
  absl::StatusOr<std::string> proc_stat = ReadText("/proc/stat");
  if (!proc_stat.ok()) return proc_stat.status();
  absl::StatusOr<ProcessStats> stats = ParseProcStat(
      *stat, *proc_stat, sysconf(_SC_CLK_TCK), sysconf(_SC_PAGESIZE));
  if (!stats.ok()) return stats.status();
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) {
    return absl::UnavailableError(absl::StrCat(
        "cannot read /proc/self/fd: ", std::strerror(errno)));
  }
  int64_t entries = 0;
  while (const dirent* entry = readdir(dir)) {
    if (entry->d_name[0] != '.') ++entries;
  }
  closedir(dir);
  stats->open_fds = entries - 1;  // the descriptor opendir itself holds
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0) {
    stats->max_fds = limit.rlim_cur == RLIM_INFINITY
                         ? -1
                         : static_cast<int64_t>(limit.rlim_cur);
  }
  return stats;
}

std::vector<prometheus::MetricFamily> ProcessFamilies(
    const ProcessStats& stats) {
  using prometheus::MetricType;
  std::vector<prometheus::MetricFamily> families = {
      Family("process_cpu_seconds_total",
             "Total user and system CPU time spent in seconds.",
             MetricType::Counter, stats.cpu_seconds),
      Family("process_resident_memory_bytes", "Resident memory size in bytes.",
             MetricType::Gauge, static_cast<double>(stats.resident_bytes)),
      Family("process_virtual_memory_bytes", "Virtual memory size in bytes.",
             MetricType::Gauge, static_cast<double>(stats.virtual_bytes)),
      Family("process_start_time_seconds",
             "Start time of the process since unix epoch in seconds.",
             MetricType::Gauge, stats.start_time_seconds),
      Family("process_open_fds", "Number of open file descriptors.",
             MetricType::Gauge, static_cast<double>(stats.open_fds)),
  };
  if (stats.max_fds >= 0) {
    families.push_back(Family("process_max_fds",
                              "Maximum number of open file descriptors.",
                              MetricType::Gauge,
                              static_cast<double>(stats.max_fds)));
  }
  return families;
}

std::vector<prometheus::MetricFamily> ProcessCollectable::Collect() const {
  absl::StatusOr<ProcessStats> stats = ReadProcessStats();
  if (!stats.ok()) return {};
  return ProcessFamilies(*stats);
}

BuildInfo CurrentBuildInfo() {
  BuildInfo info;
  info.version = RECSYS_VERSION;
  info.revision = RECSYS_REVISION;
  info.xgboost = XgboostVersion();
  info.grpc = grpc::Version();
  return info;
}

void RegisterBuildInfo(const BuildInfo& info, prometheus::Registry& registry) {
  prometheus::BuildGauge()
      .Name("recsys_build_info")
      .Help("Always 1; the labels say which build of recsys-server runs: "
            "version, revision (git), xgboost and grpc library versions.")
      .Register(registry)
      .Add({{"version", info.version},
            {"revision", info.revision},
            {"xgboost", info.xgboost},
            {"grpc", info.grpc}})
      .Set(1);
}

}  // namespace recsys
