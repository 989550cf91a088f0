// The server's API around scoring, end to end: model info, version listing,
// admin calls with nothing to do, gRPC reflection, and the metrics a call
// leaves behind. A real server on 127.0.0.1 (ephemeral port) over a trained
// bundle, called through the real client library.
#include <grpcpp/client_context.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/client_callback.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "model_store/bundle.h"
#include "server/metrics_testing.h"
#include "server/status_convert.h"
#include "tests/server_e2e_util.h"

namespace recsys {
namespace {

using ::testing::HasSubstr;
using testing::ServerHarness;

// One grpc.reflection.v1alpha ServerReflectionInfo exchange with hand-encoded
// messages (Debian ships no reflection.proto): asks for the service list and
// returns the raw response bytes.
class ListServicesCall final
    : public grpc::ClientBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  explicit ListServicesCall(std::shared_ptr<grpc::Channel> channel) {
    // ServerReflectionRequest{list_services (field 7) = "*"}.
    const std::string request("\x3a\x01*", 3);
    grpc::Slice slice(request);
    request_ = grpc::ByteBuffer(&slice, 1);
    context_.set_deadline(std::chrono::system_clock::now() +
                          std::chrono::seconds(10));
    grpc::GenericStub stub(channel);
    stub.PrepareBidiStreamingCall(
        &context_,
        "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", {},
        this);
    StartWrite(&request_);
    StartRead(&response_);
    StartCall();
  }
  void OnWriteDone(bool ok) override {
    if (ok) StartWritesDone();
  }
  void OnReadDone(bool ok) override {
    if (!ok) return;
    std::vector<grpc::Slice> slices;
    if (response_.Dump(&slices).ok()) {
      for (const grpc::Slice& s : slices) {
        bytes_.append(reinterpret_cast<const char*>(s.begin()), s.size());
      }
    }
  }
  void OnDone(const grpc::Status& status) override {
    absl::MutexLock lock(&mu_);
    status_ = status;
    done_ = true;
  }
  // Waits for the end of the call; the response bytes.
  absl::StatusOr<std::string> Await() {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(&done_));
    if (!status_.ok()) return FromGrpcStatus(status_);
    return bytes_;
  }

 private:
  grpc::ClientContext context_;
  grpc::ByteBuffer request_;
  grpc::ByteBuffer response_;
  std::string bytes_;
  absl::Mutex mu_;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status status_ ABSL_GUARDED_BY(mu_);
};

class ServerApiE2eTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    testing::HarnessOptions options;
    options.real_metrics = true;
    harness_ = ServerHarness::Start(options).release();
    ASSERT_NE(harness_, nullptr);
    const std::vector<RawRecord> customers =
        testing::ReadRecords(harness_->fixture().test_csv, 1);
    ASSERT_EQ(customers.size(), 1u);
    customer_ = customers.front();
  }
  static void TearDownTestSuite() { delete harness_; }
  void SetUp() override { ASSERT_NE(harness_, nullptr); }

  RecommenderClient& client() { return harness_->client(); }

  static ServerHarness* harness_;
  static RawRecord customer_;
};

ServerHarness* ServerApiE2eTest::harness_ = nullptr;
RawRecord ServerApiE2eTest::customer_;

TEST_F(ServerApiE2eTest, ModelInfoDescribesTheServingVersion) {
  absl::StatusOr<v1::ModelInfo> info = client().GetModelInfo();
  ASSERT_TRUE(info.ok()) << info.status();
  absl::StatusOr<BundleManifest> manifest =
      ReadManifest(harness_->fixture().bundle_dir);
  ASSERT_TRUE(manifest.ok()) << manifest.status();
  EXPECT_EQ(info->name(), "santander");
  EXPECT_EQ(info->version(), "1");
  EXPECT_EQ(info->feature_spec_hash(), manifest->feature_spec_hash);
  ASSERT_EQ(info->training_months_size(),
            static_cast<int>(manifest->train_months.size()));
  EXPECT_EQ(info->training_months(0), manifest->train_months[0] + "-28");
  EXPECT_EQ(info->history_month(), "2016-06-28");
  EXPECT_EQ(info->validation_month(), "2016-05-28");
  EXPECT_DOUBLE_EQ(info->validation_metrics().model_map_at_7(),
                   manifest->metrics.model_map7);
  EXPECT_GT(info->num_features(), 24);
  EXPECT_GT(info->load_time().seconds(), 0);
  EXPECT_GT(info->created_time().seconds(), 0);

  // Our forest evaluator matched XGBoost at load, so it predicts (issue 13),
  // and the metrics say so too.
  EXPECT_EQ(info->predictor(), "forest");
  EXPECT_THAT(info->predictor_note(),
              HasSubstr("matched XGBoost byte for byte"));
  absl::StatusOr<std::string> text =
      metrics_testing::HttpGet(harness_->metrics()->port(), "/metrics");
  ASSERT_TRUE(text.ok()) << text.status();
  const std::vector<metrics_testing::Sample> model_info =
      metrics_testing::ParseExposition(*text).Find("recsys_model_info");
  ASSERT_EQ(model_info.size(), 1u);
  EXPECT_EQ(model_info[0].labels.at("predictor"), "forest");

  EXPECT_EQ(client().GetModelInfo("1")->version(), "1");
  EXPECT_EQ(client().GetModelInfo("2").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(client().GetModelInfo("two").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(ServerApiE2eTest,
       ListVersionsShowsTheServingVersionUnderTheLatestPolicy) {
  absl::StatusOr<v1::ListVersionsResponse> versions = client().ListVersions();
  ASSERT_TRUE(versions.ok()) << versions.status();
  EXPECT_EQ(versions->model_name(), "santander");
  EXPECT_EQ(versions->serving_version(), "1");
  EXPECT_EQ(versions->policy(), v1::VERSION_POLICY_LATEST);
  ASSERT_EQ(versions->versions_size(), 1);
  EXPECT_EQ(versions->versions(0).state(), v1::VERSION_STATE_SERVING);
  EXPECT_GT(versions->versions(0).loaded_time().seconds(), 0);
}

TEST_F(ServerApiE2eTest, AdminCallsWithNothingToDoAnswerWithProperCodes) {
  EXPECT_EQ(client().Rollback().status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(client().Pin("9").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(client().Pin("nine").status().code(),
            absl::StatusCode::kInvalidArgument);
  absl::StatusOr<v1::ReloadResponse> reload = client().Reload();
  ASSERT_TRUE(reload.ok()) << reload.status();
  EXPECT_EQ(reload->serving_version(), "1");
  EXPECT_EQ(reload->previous_serving_version(), "1");
  EXPECT_EQ(reload->changed_size(), 0);
}

TEST_F(ServerApiE2eTest, ReflectionListsBothServices) {
  ListServicesCall call(harness_->channel());
  absl::StatusOr<std::string> services = call.Await();
  ASSERT_TRUE(services.ok()) << services.status();
  EXPECT_THAT(*services, HasSubstr("santander.recsys.v1.Recommender"));
  EXPECT_THAT(*services, HasSubstr("santander.recsys.v1.ModelAdmin"));
}

TEST_F(ServerApiE2eTest, RequestMetricsAreExported) {
  ASSERT_TRUE(client().Recommend(testing::RequestFor(customer_)).ok());
  // The server counts a call when it finishes, which may be just after the
  // client has its answer: scrape until it shows, for at most 10 s.
  metrics_testing::Exposition metrics;
  for (int attempt = 0; attempt < 200; ++attempt) {
    absl::StatusOr<std::string> text =
        metrics_testing::HttpGet(harness_->metrics()->port(), "/metrics");
    ASSERT_TRUE(text.ok()) << text.status();
    metrics = metrics_testing::ParseExposition(*text);
    if (metrics.Sum("grpc_server_handled_total",
                    {{"grpc_method", "Recommend"}}) >= 1.0)
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_GE(
      metrics.Sum("grpc_server_handled_total", {{"grpc_method", "Recommend"}}),
      1.0);
  EXPECT_GE(metrics.Sum("recsys_rows_scored_total"), 1.0);
}

}  // namespace
}  // namespace recsys
