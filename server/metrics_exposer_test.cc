// The /metrics HTTP endpoint itself: slow clients do not blind Prometheus,
// and a port in use is said plainly.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/metrics.h"
#include "server/metrics_testing.h"

namespace recsys {
namespace {

using ::testing::HasSubstr;

std::unique_ptr<ServerMetrics> MetricsOnFreePort() {
  MetricsOptions options;
  options.port = 0;
  absl::StatusOr<std::unique_ptr<ServerMetrics>> metrics =
      ServerMetrics::Create(options);
  EXPECT_TRUE(metrics.ok()) << metrics.status();
  return metrics.ok() ? *std::move(metrics) : nullptr;
}

// A TCP connection to 127.0.0.1:port that sends `text` (maybe nothing) and
// then stays silent until destroyed.
class SlowClient {
 public:
  SlowClient(int port, const std::string& text) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ =
        connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
    if (connected_ && !text.empty()) send(fd_, text.data(), text.size(), 0);
  }
  ~SlowClient() { close(fd_); }
  bool connected() const { return connected_; }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

TEST(MetricsExposerTest, AScrapeIsAnsweredWhileSlowClientsHoldConnections) {
  std::unique_ptr<ServerMetrics> metrics = MetricsOnFreePort();
  ASSERT_NE(metrics, nullptr);
  // Three clients that connect and send nothing, two that stop half-way
  // through their request: with civetweb's 2 threads and 30 s request
  // timeout (the old setup) they held every thread for 30 s.
  std::vector<std::unique_ptr<SlowClient>> slow;
  for (int i = 0; i < 3; ++i)
    slow.push_back(std::make_unique<SlowClient>(metrics->port(), ""));
  for (int i = 0; i < 2; ++i) {
    slow.push_back(std::make_unique<SlowClient>(
        metrics->port(), "GET /metrics HTTP/1.1\r\nHost: x\r\n"));
  }
  for (const auto& client : slow) ASSERT_TRUE(client->connected());

  // The failure criterion is a generous bound, not a speed: the scrape must
  // be answered while the slow clients are still connected and silent.
  absl::StatusOr<std::string> body = metrics_testing::HttpGet(
      metrics->port(), "/metrics", /*timeout_seconds=*/20);
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_THAT(*body, HasSubstr("recsys_rows_scored_total"));
}

TEST(MetricsExposerTest, APortInUseIsSaidPlainly) {
  std::unique_ptr<ServerMetrics> first = MetricsOnFreePort();
  ASSERT_NE(first, nullptr);
  MetricsOptions options;
  options.port = first->port();
  absl::StatusOr<std::unique_ptr<ServerMetrics>> second =
      ServerMetrics::Create(options);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(second.status().message(),
              HasSubstr(absl::StrCat("metrics port ", first->port(),
                                     " on 127.0.0.1 is already in use")));
  EXPECT_THAT(second.status().message(), HasSubstr("--metrics-port"));
}

TEST(MetricsExposerTest, TooFewThreadsAreRefusedNamingTheFlag) {
  MetricsOptions options;
  options.port = -1;
  options.threads = 1;
  absl::StatusOr<std::unique_ptr<ServerMetrics>> metrics =
      ServerMetrics::Create(options);
  EXPECT_EQ(metrics.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(metrics.status().message(), HasSubstr("--metrics-threads"));
}

}  // namespace
}  // namespace recsys
