#include "server/http_gateway.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <memory>

#include "model_store/model_store.h"
#include "nlohmann/json.hpp"
#include "server/call_tracker.h"
#include "server/scoring_engine.h"
#include "server/worker_pool.h"

namespace recsys {
namespace {

using ::testing::HasSubstr;

TEST(HttpStatusOfTest, FollowsTheGrpcHttpMapping) {
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kOk), 200);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kCancelled), 499);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kUnknown), 500);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kInvalidArgument), 400);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kDeadlineExceeded), 504);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kNotFound), 404);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kAlreadyExists), 409);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kPermissionDenied), 403);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kResourceExhausted), 429);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kFailedPrecondition), 400);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kAborted), 409);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kOutOfRange), 400);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kUnimplemented), 501);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kInternal), 500);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kUnavailable), 503);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kDataLoss), 500);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kUnauthenticated), 401);
}

TEST(JsonErrorBodyTest, IsAGoogleRpcStatus) {
  const nlohmann::json body = nlohmann::json::parse(JsonErrorBody(
      absl::InvalidArgumentError("customer.age: must be between 0 and 150")));
  EXPECT_EQ(body["code"], 3);
  EXPECT_EQ(body["message"], "customer.age: must be between 0 and 150");
  EXPECT_TRUE(body["details"].is_array());
}

TEST(JsonErrorBodyTest, BytesThatAreNotUtf8StillGiveJson) {
  const std::string text =
      JsonErrorBody(absl::InvalidArgumentError("nomprov: \"M\xE1laga\""));
  EXPECT_FALSE(nlohmann::json::parse(text, nullptr, false).is_discarded())
      << text;
}

TEST(ParseGrpcTimeoutTest, ReadsEveryUnit) {
  const auto now = std::chrono::system_clock::now();
  auto after = [&](absl::string_view value) {
    absl::StatusOr<std::chrono::system_clock::time_point> deadline =
        ParseGrpcTimeout(value, now);
    EXPECT_TRUE(deadline.ok()) << value << ": " << deadline.status();
    return deadline.ok() ? *deadline - now
                         : std::chrono::system_clock::duration::zero();
  };
  EXPECT_EQ(after("2H"), std::chrono::hours(2));
  EXPECT_EQ(after("3M"), std::chrono::minutes(3));
  EXPECT_EQ(after("30S"), std::chrono::seconds(30));
  EXPECT_EQ(after("250m"), std::chrono::milliseconds(250));
  EXPECT_EQ(after("7u"), std::chrono::microseconds(7));
  EXPECT_EQ(after("0n"), std::chrono::nanoseconds(0));
  EXPECT_EQ(after("99999999S"), std::chrono::seconds(99999999));
}

TEST(ParseGrpcTimeoutTest, RefusesWhatIsNotAGrpcTimeout) {
  const auto now = std::chrono::system_clock::now();
  for (const char* bad : {"", "m", "10", "10s", "-1S", "+1S", "1.5S",
                          "123456789S", " 1S"}) {
    absl::StatusOr<std::chrono::system_clock::time_point> deadline =
        ParseGrpcTimeout(bad, now);
    EXPECT_EQ(deadline.status().code(), absl::StatusCode::kInvalidArgument)
        << bad;
    EXPECT_THAT(std::string(deadline.status().message()),
                HasSubstr("grpc-timeout"));
  }
}

// A gateway over an empty store (no model), with one unary call slot.
class GatewayWithoutModelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ModelStoreOptions store_options;
    store_options.store_dir = ::testing::TempDir();
    auto store = ModelStore::Create(
        store_options,
        [](const std::string&, int64_t)
            -> absl::StatusOr<std::shared_ptr<const ModelVersion>> {
          return absl::NotFoundError("no versions in this test");
        },
        nullptr);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    auto workers = WorkerPool::Create({.threads = 1});
    ASSERT_TRUE(workers.ok()) << workers.status();
    workers_ = *std::move(workers);
    engine_ = std::make_unique<ScoringEngine>(store_.get(), workers_.get(),
                                              &metrics_);
    HttpBackend backend;
    backend.store = store_.get();
    backend.engine = engine_.get();
    backend.metrics = &metrics_;
    backend.tracker = &tracker_;
    backend.ready = [] { return false; };
    backend.alive = [] { return true; };
    auto gateway = HttpGateway::Create({}, backend);
    ASSERT_TRUE(gateway.ok()) << gateway.status();
    gateway_ = *std::move(gateway);
    ASSERT_TRUE(gateway_->Start().ok());
  }
  void TearDown() override {
    if (gateway_ != nullptr) gateway_->Stop();
    if (workers_ != nullptr) workers_->Stop();
  }

  // POST .../santander:recommend of one customer: status and JSON body.
  std::pair<int, nlohmann::json> Recommend() {
    httplib::Client client("127.0.0.1", gateway_->port());
    httplib::Result result =
        client.Post("/v1/models/santander:recommend",
                    R"({"customer": {"ncodpers": 15889}})", "application/json");
    if (!result) return {0, nullptr};
    return {result->status,
            nlohmann::json::parse(result->body, nullptr, false)};
  }

  NullMetrics metrics_;
  CallTracker tracker_{CallLimits{.max_streams = 1, .max_unary = 1}};
  std::unique_ptr<ModelStore> store_;
  std::unique_ptr<WorkerPool> workers_;
  std::unique_ptr<ScoringEngine> engine_;
  std::unique_ptr<HttpGateway> gateway_;
};

TEST_F(GatewayWithoutModelTest, NoModelIs503AsOverGrpc) {
  const auto [status, body] = Recommend();
  EXPECT_EQ(status, 503);
  EXPECT_EQ(body["code"], 14);
  EXPECT_EQ(body["message"],
            "no model is loaded yet; the server is not serving");
}

TEST_F(GatewayWithoutModelTest, OverTheSharedUnaryCapIs429) {
  // A gRPC call holds the only unary slot.
  ASSERT_EQ(tracker_.Begin(CallKind::kUnary), Admission::kAdmitted);
  const auto [status, body] = Recommend();
  EXPECT_EQ(status, 429);
  EXPECT_EQ(body["code"], 8);
  EXPECT_THAT(body["message"].get<std::string>(),
              HasSubstr("1 unary calls, its limit (--max-concurrent-calls)"));
  tracker_.End(CallKind::kUnary);
  EXPECT_EQ(Recommend().first, 503);  // admitted again: no model
}

TEST_F(GatewayWithoutModelTest, WhileDrainingCallsAre503) {
  tracker_.StartDraining();
  const auto [status, body] = Recommend();
  EXPECT_EQ(status, 503);
  EXPECT_THAT(body["message"].get<std::string>(),
              HasSubstr("the server is shutting down"));
}

TEST_F(GatewayWithoutModelTest, ProbesAnswerFromTheBackend) {
  httplib::Client client("127.0.0.1", gateway_->port());
  httplib::Result live = client.Get("/healthz");
  ASSERT_TRUE(live);
  EXPECT_EQ(live->status, 200);
  httplib::Result ready = client.Get("/readyz");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 503);
}

}  // namespace
}  // namespace recsys
