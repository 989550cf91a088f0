#include "server/memory_bound.h"

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"

namespace recsys {
namespace {

MemoryBoundInputs Defaults() {
  MemoryBoundInputs in;
  in.grpc_memory_bytes = 128 << 20;
  in.max_streams = 16;
  in.max_inflight = 2;
  in.max_pending = 2;
  in.max_rows = 4096;
  in.max_message_bytes = 4 << 20;
  in.request_memory_bytes = 256 << 20;
  in.max_unary = 64;
  in.max_unary_message_bytes = 64 << 10;
  return in;
}

TEST(MemoryBoundTest, IsTheSumOfItsTerms) {
  const MemoryBoundInputs in = Defaults();
  const int64_t expected =
      (int64_t{128} << 20) + 16 * 2 * (int64_t{4} << 20) +
      (int64_t{256} << 20) +
      16 * 3 * 4096 * kSerializedAnswerBytesPerRow +
      64 * ((int64_t{4} << 20) + kMaxParseExpansion * (64 << 10));
  EXPECT_EQ(TrafficMemoryBound(in), expected);
}

TEST(MemoryBoundTest, GrowsWithEveryCap) {
  const int64_t base = TrafficMemoryBound(Defaults());
  MemoryBoundInputs more = Defaults();
  more.max_streams = 32;
  EXPECT_GT(TrafficMemoryBound(more), base);
  more = Defaults();
  more.max_unary = 128;
  EXPECT_GT(TrafficMemoryBound(more), base);
  more = Defaults();
  more.request_memory_bytes *= 2;
  EXPECT_GT(TrafficMemoryBound(more), base);
}

TEST(MemoryBoundTest, HttpGatewayAddsItsThreadsTimesTheBodyLimit) {
  const int64_t base = TrafficMemoryBound(Defaults());
  MemoryBoundInputs with_http = Defaults();
  with_http.http_threads = 8;
  EXPECT_EQ(TrafficMemoryBound(with_http),
            base + 8 * kHttpBodyCopies * (64 << 10));
  EXPECT_NE(DescribeMemoryBound(with_http).find("HTTP bodies 1"),
            std::string::npos)
      << DescribeMemoryBound(with_http);
}

TEST(MemoryBoundTest, DescriptionNamesTheTotalInMiB) {
  const std::string text = DescribeMemoryBound(Defaults());
  EXPECT_NE(text.find(absl::StrCat(TrafficMemoryBound(Defaults()) >> 20)),
            std::string::npos)
      << text;
}

TEST(ParsedStreamMessageBoundTest, CoversTheMeasuredExpansion) {
  // 39x was measured for rows of empty history entries.
  EXPECT_GE(ParsedStreamMessageBound(1 << 20, 0), 39 * (1 << 20));
}

}  // namespace
}  // namespace recsys
