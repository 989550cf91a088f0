// Liveness and readiness are different questions (Kubernetes restarts a pod
// whose liveness fails, and only takes it out of the Service when readiness
// fails): the health service "liveness" is SERVING while the process works,
// with or without a model, and NOT_SERVING only when the scoring workers are
// wedged; "" (readiness) says whether a model serves.
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"
#include "server/metrics.h"
#include "server/server.h"
#include "tests/server_e2e_util.h"

namespace recsys {
namespace {

using testing::HealthStatus;
using testing::ServerHarness;
using Health = grpc::health::v1::HealthCheckResponse;

bool HealthIs(ServerHarness& h, HealthStatus want, const std::string& service) {
  absl::StatusOr<HealthStatus> got = h.Health(service);
  return got.ok() && *got == want;
}

TEST(LivenessE2eTest, LiveWithoutAModelWhileNotReady) {
  testing::HarnessOptions options;
  options.install_bundle = false;
  std::unique_ptr<ServerHarness> h = ServerHarness::Start(options);
  ASSERT_NE(h, nullptr);
  absl::StatusOr<HealthStatus> liveness = h->Health(kLivenessService);
  ASSERT_TRUE(liveness.ok()) << liveness.status();
  EXPECT_EQ(*liveness, Health::SERVING);
  absl::StatusOr<HealthStatus> readiness = h->Health("");
  ASSERT_TRUE(readiness.ok()) << readiness.status();
  EXPECT_EQ(*readiness, Health::NOT_SERVING);
}

TEST(LivenessE2eTest, LiveAndReadyWithAModel) {
  std::unique_ptr<ServerHarness> h = ServerHarness::Start({});
  ASSERT_NE(h, nullptr);
  EXPECT_TRUE(
      testing::WaitFor([&] { return HealthIs(*h, Health::SERVING, ""); }));
  EXPECT_TRUE(HealthIs(*h, Health::SERVING, kLivenessService));
}

// Predictions block on the worker once armed: the worker is stuck.
class BlockingPredictMetrics : public NullMetrics {
 public:
  void StageDuration(Stage stage, double) override {
    if (stage == Stage::kPredict && armed_.load()) {
      blocked_.fetch_add(1);
      release_.WaitForNotification();
    }
  }
  void Arm() { armed_.store(true); }
  void Release() { release_.Notify(); }
  int blocked() const { return blocked_.load(); }

 private:
  std::atomic<bool> armed_{false};
  std::atomic<int> blocked_{0};
  absl::Notification release_;
};

TEST(LivenessE2eTest, NotLiveWhileEveryWorkerIsStuckAndLiveAgainAfter) {
  BlockingPredictMetrics metrics;
  testing::HarnessOptions options;
  options.workers = 1;
  options.metrics = &metrics;
  options.stuck_after = absl::Milliseconds(300);
  std::unique_ptr<ServerHarness> h = ServerHarness::Start(options);
  ASSERT_NE(h, nullptr);
  ASSERT_TRUE(
      testing::WaitFor([&] { return HealthIs(*h, Health::SERVING, ""); }));
  const std::vector<RawRecord> customers =
      testing::ReadRecords(h->fixture().test_csv, 3);
  ASSERT_EQ(customers.size(), 3u);

  // The first call blocks where it is scored: on the only worker, or, when
  // the forest predicts, on the gRPC thread that received it (a lone call to
  // an idle server is scored inline). The second then holds the worker, and
  // the third waits in its queue: queued work with none finishing.
  metrics.Arm();
  std::vector<absl::StatusCode> codes(3, absl::StatusCode::kUnknown);
  std::vector<std::thread> calls;
  for (int i = 0; i < 3; ++i) {
    calls.emplace_back([&, i] {
      codes[i] = h->client()
                     .Recommend(testing::RequestFor(customers[i]))
                     .status()
                     .code();
    });
    if (i == 0) {
      ASSERT_TRUE(testing::WaitFor([&] { return metrics.blocked() >= 1; }));
    }
  }
  EXPECT_TRUE(testing::WaitFor(
      [&] { return HealthIs(*h, Health::NOT_SERVING, kLivenessService); },
      absl::Seconds(30)));

  // Work moves again: live again, and both calls are answered.
  metrics.Release();
  for (std::thread& call : calls) call.join();
  EXPECT_EQ(codes[0], absl::StatusCode::kOk);
  EXPECT_EQ(codes[1], absl::StatusCode::kOk);
  EXPECT_EQ(codes[2], absl::StatusCode::kOk);
  EXPECT_TRUE(testing::WaitFor(
      [&] { return HealthIs(*h, Health::SERVING, kLivenessService); },
      absl::Seconds(30)));
}

}  // namespace
}  // namespace recsys
