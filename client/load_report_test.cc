#include "client/load_report.h"

#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace recsys {
namespace {

using ::testing::HasSubstr;

// 1..n milliseconds, in nanoseconds, shuffled by a fixed stride.
std::vector<int64_t> Millis1To(int n) {
  std::vector<int64_t> out;
  for (int i = 0; i < n; ++i) out.push_back(((i * 7919) % n + 1) * 1000000LL);
  return out;
}

TEST(NearestRankPercentileTest, IsTheSmallestValueCoveringTheFraction) {
  const std::vector<int64_t> sorted = {10, 20, 30, 40};
  EXPECT_EQ(NearestRankPercentile(sorted, 0.25), 10);
  EXPECT_EQ(NearestRankPercentile(sorted, 0.26), 20);
  EXPECT_EQ(NearestRankPercentile(sorted, 0.50), 20);
  EXPECT_EQ(NearestRankPercentile(sorted, 0.99), 40);
  EXPECT_EQ(NearestRankPercentile(sorted, 1.0), 40);
}

TEST(NearestRankPercentileTest, EmptyIsZeroAndOneValueIsThatValue) {
  EXPECT_EQ(NearestRankPercentile({}, 0.5), 0);
  EXPECT_EQ(NearestRankPercentile({7}, 0.001), 7);
  EXPECT_EQ(NearestRankPercentile({7}, 0.999), 7);
}

TEST(SummarizeLatenciesTest, ExactPercentilesOfAThousandCalls) {
  const LatencySummary s = SummarizeLatencies(Millis1To(1000));
  EXPECT_EQ(s.count, 1000);
  EXPECT_EQ(s.min, absl::Milliseconds(1));
  EXPECT_EQ(s.p50, absl::Milliseconds(500));
  EXPECT_EQ(s.p90, absl::Milliseconds(900));
  EXPECT_EQ(s.p99, absl::Milliseconds(990));
  EXPECT_EQ(s.p999, absl::Milliseconds(999));
  EXPECT_EQ(s.max, absl::Milliseconds(1000));
  EXPECT_EQ(s.mean, absl::Microseconds(500500));
}

TEST(SummarizeLatenciesTest, NothingRecordedIsAllZero) {
  const LatencySummary s = SummarizeLatencies({});
  EXPECT_EQ(s.count, 0);
  EXPECT_EQ(s.p99, absl::ZeroDuration());
}

LoadReport UnaryReport() {
  LoadReport report;
  report.mode = "unary";
  report.concurrency = 4;
  report.calls = 1002;
  report.rows_scored = 1000;
  report.errors = 2;
  report.errors_by_code = {{"UNAVAILABLE", 2}};
  report.elapsed = absl::Seconds(2);
  report.client_cpu_seconds = 0.5;
  report.latency = SummarizeLatencies(Millis1To(1000));
  return report;
}

TEST(LoadReportTest, RowsPerSecondIsScoredRowsOverWallTime) {
  EXPECT_DOUBLE_EQ(UnaryReport().rows_per_second(), 500.0);
  EXPECT_EQ(LoadReport().rows_per_second(), 0);
}

TEST(LoadReportTest, TextNamesThroughputErrorsAndPercentiles) {
  const std::string text = UnaryReport().ToText();
  EXPECT_THAT(text, HasSubstr("mode unary, 4 callers"));
  EXPECT_THAT(text, HasSubstr("500.0 rows/s"));
  EXPECT_THAT(text, HasSubstr("errors: 2  UNAVAILABLE 2"));
  EXPECT_THAT(text, HasSubstr("p50 500.000  p90 900.000  p99 990.000  "
                              "p99.9 999.000"));
}

TEST(LoadReportTest, JsonHoldsTheSameNumbers) {
  const nlohmann::json json = UnaryReport().ToJson();
  EXPECT_EQ(json["mode"], "unary");
  EXPECT_EQ(json["concurrency"], 4);
  EXPECT_EQ(json["rows_scored"], 1000);
  EXPECT_DOUBLE_EQ(json["rows_per_second"].get<double>(), 500.0);
  EXPECT_EQ(json["errors_by_code"]["UNAVAILABLE"], 2);
  EXPECT_DOUBLE_EQ(json["latency_ms"]["p50"].get<double>(), 500.0);
  EXPECT_DOUBLE_EQ(json["latency_ms"]["p99_9"].get<double>(), 999.0);
}

TEST(LoadReportTest, StreamReportHasNoLatency) {
  LoadReport report;
  report.mode = "stream";
  report.concurrency = 1;
  report.rows_scored = 10;
  report.elapsed = absl::Seconds(1);
  EXPECT_FALSE(report.ToJson().contains("latency_ms"));
  EXPECT_THAT(report.ToText(), HasSubstr("mode stream, 1 stream:"));
}

}  // namespace
}  // namespace recsys
