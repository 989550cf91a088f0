#include "common/cpu_quota.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "gtest/gtest.h"

namespace recsys {
namespace {

namespace fs = std::filesystem;

// A directory of fake cgroup files, removed at the end of the test.
class FakeCgroup {
 public:
  FakeCgroup() {
    const char* tmp = std::getenv("TMPDIR");
    dir_ = fs::path(tmp != nullptr ? tmp : "/tmp") /
           ("cpu-quota-test-" + std::to_string(::getpid()) + "-" +
            std::to_string(counter_++));
    fs::create_directories(dir_);
    sources_.cgroup_v2_cpu_max = (dir_ / "cpu.max").string();
    sources_.cgroup_v1_quota = (dir_ / "cpu.cfs_quota_us").string();
    sources_.cgroup_v1_period = (dir_ / "cpu.cfs_period_us").string();
    sources_.affinity_cpus = 8;
  }
  ~FakeCgroup() { fs::remove_all(dir_); }

  void Write(const std::string& path, const std::string& text) {
    std::ofstream(path) << text;
  }
  void V2(const std::string& text) { Write(sources_.cgroup_v2_cpu_max, text); }
  void V1(const std::string& quota, const std::string& period) {
    Write(sources_.cgroup_v1_quota, quota);
    Write(sources_.cgroup_v1_period, period);
  }
  CpuQuotaSources& sources() { return sources_; }

 private:
  static inline int counter_ = 0;
  fs::path dir_;
  CpuQuotaSources sources_;
};

TEST(CpuQuotaTest, ParseCpuMaxRoundsUp) {
  EXPECT_EQ(ParseCpuMax("200000 100000\n"), 2);
  EXPECT_EQ(ParseCpuMax("150000 100000"), 2);
  EXPECT_EQ(ParseCpuMax("50000 100000"), 1);
  EXPECT_EQ(ParseCpuMax("100001 100000"), 2);
  EXPECT_EQ(ParseCpuMax("400000"), 4);  // period omitted: 100 ms
}

TEST(CpuQuotaTest, ParseCpuMaxWithoutQuotaIsNone) {
  EXPECT_EQ(ParseCpuMax("max 100000\n"), std::nullopt);
  EXPECT_EQ(ParseCpuMax(""), std::nullopt);
  EXPECT_EQ(ParseCpuMax("lots 100000"), std::nullopt);
  EXPECT_EQ(ParseCpuMax("100000 0"), std::nullopt);
  EXPECT_EQ(ParseCpuMax("-5 100000"), std::nullopt);
}

TEST(CpuQuotaTest, CgroupV2QuotaLimitsTheAffinityCount) {
  FakeCgroup cgroup;
  cgroup.V2("150000 100000\n");
  EXPECT_EQ(CgroupCpuLimit(cgroup.sources()), 2);
  EXPECT_EQ(AvailableCpus(cgroup.sources()), 2);
}

TEST(CpuQuotaTest, CgroupV2MaxLeavesTheAffinityCount) {
  FakeCgroup cgroup;
  cgroup.V2("max 100000\n");
  cgroup.V1("100000", "100000");  // ignored: v2 answered
  EXPECT_EQ(CgroupCpuLimit(cgroup.sources()), std::nullopt);
  EXPECT_EQ(AvailableCpus(cgroup.sources()), 8);
}

TEST(CpuQuotaTest, CgroupV1QuotaWhenThereIsNoV2File) {
  FakeCgroup cgroup;
  cgroup.V1("250000\n", "100000\n");
  EXPECT_EQ(CgroupCpuLimit(cgroup.sources()), 3);
  EXPECT_EQ(AvailableCpus(cgroup.sources()), 3);
}

TEST(CpuQuotaTest, CgroupV1MinusOneIsNoQuota) {
  FakeCgroup cgroup;
  cgroup.V1("-1\n", "100000\n");
  EXPECT_EQ(CgroupCpuLimit(cgroup.sources()), std::nullopt);
  EXPECT_EQ(AvailableCpus(cgroup.sources()), 8);
}

TEST(CpuQuotaTest, NoFilesMeansTheAffinityCount) {
  FakeCgroup cgroup;
  EXPECT_EQ(CgroupCpuLimit(cgroup.sources()), std::nullopt);
  EXPECT_EQ(AvailableCpus(cgroup.sources()), 8);
}

TEST(CpuQuotaTest, AQuotaAboveTheAffinityCountDoesNotRaiseIt) {
  FakeCgroup cgroup;
  cgroup.V2("1600000 100000");
  cgroup.sources().affinity_cpus = 3;
  EXPECT_EQ(AvailableCpus(cgroup.sources()), 3);
}

TEST(CpuQuotaTest, ATinyQuotaStillGivesOneCpu) {
  FakeCgroup cgroup;
  cgroup.V2("1000 100000");
  EXPECT_EQ(AvailableCpus(cgroup.sources()), 1);
}

TEST(CpuQuotaTest, RealSystemGivesAtLeastOne) { EXPECT_GE(AvailableCpus(), 1); }

}  // namespace
}  // namespace recsys
