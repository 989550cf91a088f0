#include "common/cpu_quota.h"

#include <sched.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"

namespace recsys {
namespace {

std::optional<std::string> ReadSmallFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  if (in.bad()) return std::nullopt;
  return text.str();
}

// ceil(quota / period) for a positive quota and period; nullopt otherwise.
std::optional<int> LimitFromQuota(int64_t quota, int64_t period) {
  if (quota <= 0 || period <= 0) return std::nullopt;
  const int64_t cpus = (quota + period - 1) / period;
  return static_cast<int>(std::min<int64_t>(cpus, 1 << 20));
}

std::optional<int64_t> ParseInt(absl::string_view text) {
  int64_t value = 0;
  if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(text), &value))
    return std::nullopt;
  return value;
}

int AffinityCpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    const int count = CPU_COUNT(&set);
    if (count > 0) return count;
  }
  return static_cast<int>(std::thread::hardware_concurrency());
}

}  // namespace

std::optional<int> ParseCpuMax(absl::string_view text) {
  std::vector<absl::string_view> fields = absl::StrSplit(
      absl::StripAsciiWhitespace(text), ' ', absl::SkipWhitespace());
  if (fields.empty() || fields[0] == "max") return std::nullopt;
  const std::optional<int64_t> quota = ParseInt(fields[0]);
  // The period may be omitted; the kernel's default is 100 ms.
  const std::optional<int64_t> period =
      fields.size() > 1 ? ParseInt(fields[1]) : std::optional<int64_t>(100000);
  if (!quota || !period) return std::nullopt;
  return LimitFromQuota(*quota, *period);
}

std::optional<int> CgroupCpuLimit(const CpuQuotaSources& sources) {
  if (std::optional<std::string> v2 = ReadSmallFile(sources.cgroup_v2_cpu_max))
    return ParseCpuMax(*v2);
  const std::optional<std::string> quota_text =
      ReadSmallFile(sources.cgroup_v1_quota);
  const std::optional<std::string> period_text =
      ReadSmallFile(sources.cgroup_v1_period);
  if (!quota_text || !period_text) return std::nullopt;
  const std::optional<int64_t> quota = ParseInt(*quota_text);
  const std::optional<int64_t> period = ParseInt(*period_text);
  if (!quota || !period) return std::nullopt;
  return LimitFromQuota(*quota, *period);
}

int AvailableCpus(const CpuQuotaSources& sources) {
  int cpus = sources.affinity_cpus > 0 ? sources.affinity_cpus : AffinityCpus();
  if (std::optional<int> limit = CgroupCpuLimit(sources))
    cpus = std::min(cpus, *limit);
  return std::max(1, cpus);
}

}  // namespace recsys
