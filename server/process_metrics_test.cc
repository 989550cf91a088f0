#include "server/process_metrics.h"

#include <fcntl.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "server/metrics.h"
#include "server/metrics_testing.h"

namespace recsys {
namespace {

using metrics_testing::Exposition;
using metrics_testing::ParseExposition;
using ::testing::HasSubstr;

// A /proc/<pid>/stat line (proc(5)) of a process whose name has a space and
// parentheses: utime 250 and stime 50 ticks, started 1234 ticks after boot,
// vsize 1000000, rss 300 pages.
constexpr char kStat[] =
    "4242 (recsys (x) y) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 "
    "9 0 1234 1000000 300 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 "
    "1 0 0 0 0 0";
constexpr char kProcStat[] =
    "cpu  1 2 3 4\nintr 5\nbtime 1700000000\nprocesses 9\n";

TEST(ParseProcStatTest, ReadsTheFieldsAfterTheCommandName) {
  absl::StatusOr<ProcessStats> stats =
      ParseProcStat(kStat, kProcStat, /*ticks_per_second=*/100,
                    /*page_size=*/4096);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_DOUBLE_EQ(stats->cpu_seconds, 3.0);             // (250 + 50) / 100
  EXPECT_DOUBLE_EQ(stats->start_time_seconds, 1700000012.34);  // + 1234/100
  EXPECT_EQ(stats->virtual_bytes, 1000000);
  EXPECT_EQ(stats->resident_bytes, 300 * 4096);
}

TEST(ParseProcStatTest, NamesAMissingFieldOrLine) {
  EXPECT_THAT(ParseProcStat("4242 (x) S 1 2 3", kProcStat, 100, 4096)
                  .status()
                  .message(),
              HasSubstr("field 14 (utime)"));
  EXPECT_THAT(ParseProcStat(kStat, "cpu 1 2 3\n", 100, 4096).status().message(),
              HasSubstr("btime"));
}

TEST(ReadProcessStatsTest, CountsAnOpenedDescriptor) {
  absl::StatusOr<ProcessStats> before = ReadProcessStats();
  ASSERT_TRUE(before.ok()) << before.status();
  const int fd = open("/proc/self/stat", O_RDONLY);
  ASSERT_GE(fd, 0);
  absl::StatusOr<ProcessStats> after = ReadProcessStats();
  close(fd);
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(after->open_fds, before->open_fds + 1);
  EXPECT_GT(after->resident_bytes, 0);
  EXPECT_GT(after->max_fds, after->open_fds);
  EXPECT_GT(after->start_time_seconds, 1.5e9);
}

TEST(ServerMetricsProcessTest, AScrapeHasProcessSeriesAndBuildInfo) {
  MetricsOptions options;
  options.port = -1;
  absl::StatusOr<std::unique_ptr<ServerMetrics>> metrics =
      ServerMetrics::Create(options);
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  const std::string text = (*metrics)->Scrape();
  const Exposition e = ParseExposition(text);
  for (const char* name :
       {"process_cpu_seconds_total", "process_resident_memory_bytes",
        "process_virtual_memory_bytes", "process_start_time_seconds",
        "process_open_fds", "process_max_fds"}) {
    EXPECT_TRUE(e.Value(name).has_value()) << name << " missing in\n" << text;
  }
  EXPECT_THAT(text, HasSubstr("# TYPE process_cpu_seconds_total counter"));
  const auto build = e.Find("recsys_build_info",
                            {{"xgboost", "1.7.4"}, {"grpc", grpc::Version()}});
  ASSERT_EQ(build.size(), 1u) << text;
  EXPECT_EQ(build[0].value, 1.0);
  EXPECT_EQ(build[0].labels.count("version"), 1u);
  EXPECT_EQ(build[0].labels.count("revision"), 1u);
}

}  // namespace
}  // namespace recsys
