// How many CPUs this process may use: the container's CPU quota (cgroup v2
// cpu.max, or cgroup v1 cpu.cfs_quota_us / cpu.cfs_period_us) and the CPU
// affinity mask (sched_getaffinity), whichever is smaller. A container limited
// to "1500m" CPU on a 64-core node gets 2, not 64.
//
//   int threads = AvailableCpus();          // the real files
//   CpuQuotaSources fake;                   // tests: fake cgroup files
//   fake.cgroup_v2_cpu_max = dir + "/cpu.max";
//   fake.affinity_cpus = 8;
//   EXPECT_EQ(AvailableCpus(fake), 2);
//
// Rules: a quota of Q microseconds per period P allows Q/P CPUs, rounded up
// (1.5 -> 2); "max" (v2) or -1 (v1) means no quota; a missing or unreadable
// file means no quota from that source; v2 is read first, v1 only when v2
// gives no answer. The result is at least 1.
//
// Thread-safe (reads files, keeps no state).
#ifndef RECSYS_COMMON_CPU_QUOTA_H_
#define RECSYS_COMMON_CPU_QUOTA_H_

#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace recsys {

// Where the quota is read from; the defaults are the paths inside a
// container (its cgroup namespace root is mounted at /sys/fs/cgroup).
struct CpuQuotaSources {
  // cgroup v2: one line "QUOTA PERIOD" or "max PERIOD".
  // Default "/sys/fs/cgroup/cpu.max".
  std::string cgroup_v2_cpu_max = "/sys/fs/cgroup/cpu.max";
  // cgroup v1: quota (-1 = none) and period, in microseconds.
  // Defaults "/sys/fs/cgroup/cpu/cpu.cfs_quota_us" and
  // "/sys/fs/cgroup/cpu/cpu.cfs_period_us".
  std::string cgroup_v1_quota = "/sys/fs/cgroup/cpu/cpu.cfs_quota_us";
  std::string cgroup_v1_period = "/sys/fs/cgroup/cpu/cpu.cfs_period_us";
  // CPUs in the affinity mask; 0 = ask sched_getaffinity (falling back to
  // std::thread::hardware_concurrency). Default 0.
  int affinity_cpus = 0;
};

// The CPU limit set by the cgroup quota, rounded up, or nullopt when there is
// none (no files, "max", -1, or text that does not parse).
std::optional<int> CgroupCpuLimit(const CpuQuotaSources& sources = {});

// Parses cgroup v2 cpu.max text ("150000 100000\n" -> 2; "max 100000" ->
// nullopt). Exposed for tests.
std::optional<int> ParseCpuMax(absl::string_view text);

// min(cgroup limit, affinity CPUs), at least 1.
int AvailableCpus(const CpuQuotaSources& sources = {});

}  // namespace recsys

#endif  // RECSYS_COMMON_CPU_QUOTA_H_
