// The prediction server end to end, one customer at a time: a real server on
// 127.0.0.1 (ephemeral port) over a trained bundle, called through the real
// client library (client/recommender_client.h).
#include <chrono>
#include <grpcpp/client_context.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/client_callback.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/date.h"
#include "featurizer/product_history.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "model_store/bundle.h"
#include "server/metrics_testing.h"
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

class ServerE2eTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    testing::HarnessOptions options;
    options.real_metrics = true;
    harness_ = ServerHarness::Start(options).release();
    ASSERT_NE(harness_, nullptr);
    auto snapshot =
        LoadSnapshot(harness_->fixture().bundle_dir + "/" + kHistoryFile);
    ASSERT_TRUE(snapshot.ok()) << snapshot.status();
    snapshot_ = new std::shared_ptr<const ProductHistorySnapshot>(*snapshot);
    customers_ = new std::vector<RawRecord>(
        testing::ReadRecords(harness_->fixture().test_csv, 200));
  }
  static void TearDownTestSuite() {
    delete harness_;
    delete snapshot_;
    delete customers_;
  }
  void SetUp() override { ASSERT_NE(harness_, nullptr); }

  RecommenderClient& client() { return harness_->client(); }
  const std::vector<RawRecord>& customers() { return *customers_; }

  absl::StatusOr<v1::RecommendResponse> Recommend(const RawRecord& customer,
                                                  int k = 0) {
    return client().Recommend(testing::RequestFor(customer, k));
  }
  // What the bundle's snapshot says the customer owned last month.
  ProductMask OwnedLastMonth(int64_t ncodpers) {
    absl::StatusOr<HistoryView> view =
        (*snapshot_)->Lookup(ncodpers, (*snapshot_)->target_month());
    EXPECT_TRUE(view.ok());
    return view.ok() ? view->Owned(1) : 0;
  }
  static void ExpectNoneOwned(const v1::RecommendResponse& response,
                              ProductMask owned) {
    for (const v1::Recommendation& r : response.recommendations()) {
      std::optional<int> product = FindProduct(r.product());
      ASSERT_TRUE(product.has_value()) << r.product();
      EXPECT_FALSE(owned & ProductBit(*product))
          << "recommended owned product " << r.product();
    }
  }

  static ServerHarness* harness_;
  static std::shared_ptr<const ProductHistorySnapshot>* snapshot_;
  static std::vector<RawRecord>* customers_;
};

ServerHarness* ServerE2eTest::harness_ = nullptr;
std::shared_ptr<const ProductHistorySnapshot>* ServerE2eTest::snapshot_ =
    nullptr;
std::vector<RawRecord>* ServerE2eTest::customers_ = nullptr;

TEST_F(ServerE2eTest, RecommendsSevenRankedProductsForAKnownCustomer) {
  absl::StatusOr<v1::RecommendResponse> top = Recommend(customers().front());
  ASSERT_TRUE(top.ok()) << top.status();
  ASSERT_EQ(top->recommendations_size(), 7);
  for (int i = 0; i < 7; ++i) {
    const v1::Recommendation& r = top->recommendations(i);
    EXPECT_EQ(r.rank(), i + 1);
    EXPECT_FALSE(r.english_name().empty());
    EXPECT_GT(r.score(), 0.0);
    EXPECT_LT(r.score(), 1.0);
    if (i > 0) {
      EXPECT_LE(r.score(), top->recommendations(i - 1).score());
    }
  }
  EXPECT_EQ(top->model_name(), "santander");
  EXPECT_EQ(top->model_version(), "1");
  EXPECT_TRUE(top->history_found());
  EXPECT_EQ(top->history_source(), v1::HISTORY_SOURCE_STORE);
  EXPECT_EQ(top->fecha_dato(), "2016-06-28");
}

TEST_F(ServerE2eTest, NeverRecommendsAProductOwnedLastMonth) {
  int owners = 0;
  for (const RawRecord& customer : customers()) {
    absl::StatusOr<v1::RecommendResponse> top =
        Recommend(customer, kNumProducts);
    ASSERT_TRUE(top.ok()) << top.status();
    const ProductMask owned = OwnedLastMonth(customer.ncodpers.value);
    owners += owned != 0;
    EXPECT_EQ(top->recommendations_size(), kNumProducts - CountProducts(owned));
    ExpectNoneOwned(*top, owned);
  }
  EXPECT_GT(owners, 50) << "the check needs customers who own products";
}

TEST_F(ServerE2eTest, ExplicitHistoryTakesPrecedenceOverTheStore) {
  const RawRecord& customer = customers().front();
  v1::RecommendRequest request = testing::RequestFor(customer, kNumProducts);
  v1::MonthProducts* last = request.add_history();
  last->set_months_ago(1);
  last->add_products("ind_recibo_ult1");
  last->add_products("credit_card");  // English names are accepted too
  absl::StatusOr<v1::RecommendResponse> top = client().Recommend(request);
  ASSERT_TRUE(top.ok()) << top.status();
  EXPECT_EQ(top->history_source(), v1::HISTORY_SOURCE_REQUEST);
  EXPECT_TRUE(top->history_found());
  EXPECT_EQ(top->recommendations_size(), kNumProducts - 2);
  ExpectNoneOwned(*top, ProductBit(*FindProduct("ind_recibo_ult1")) |
                            ProductBit(*FindProduct("credit_card")));
}

TEST_F(ServerE2eTest, UnknownCustomerIsServedAsNewAndCounted) {
  RawRecord stranger = customers().front();
  stranger.ncodpers.Set(987654321);
  absl::StatusOr<v1::RecommendResponse> top = Recommend(stranger);
  ASSERT_TRUE(top.ok()) << top.status();
  EXPECT_EQ(top->recommendations_size(), 7);
  EXPECT_FALSE(top->history_found());
  EXPECT_EQ(top->history_source(), v1::HISTORY_SOURCE_NOT_FOUND);
  absl::StatusOr<std::string> text =
      metrics_testing::HttpGet(harness_->metrics()->port(), "/metrics");
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_GE(metrics_testing::ParseExposition(*text).Sum(
                "recsys_history_lookups_total", {{"result", "miss"}}),
            1.0);
}

TEST_F(ServerE2eTest, DefaultMonthIsTheOneAfterTheSnapshot) {
  RawRecord customer = customers().front();
  customer.fecha_dato.Clear();
  absl::StatusOr<v1::RecommendResponse> top = Recommend(customer);
  ASSERT_TRUE(top.ok()) << top.status();
  EXPECT_EQ(top->fecha_dato(), "2016-06-28");
}

TEST_F(ServerE2eTest, MonthBeforeTheSnapshotIsOutOfRangeNamingFechaDato) {
  RawRecord customer = customers().front();
  customer.fecha_dato.Set(Date{2015, 3, 28});
  absl::StatusOr<v1::RecommendResponse> top = Recommend(customer);
  EXPECT_EQ(top.status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_THAT(top.status().message(), HasSubstr("customer.fecha_dato"));
}

TEST_F(ServerE2eTest, InvalidFieldIsInvalidArgumentNamingFieldAndValue) {
  v1::RecommendRequest request = testing::RequestFor(customers().front());
  request.mutable_customer()->set_age(-3);
  absl::StatusOr<v1::RecommendResponse> top = client().Recommend(request);
  EXPECT_EQ(top.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(top.status().message(), HasSubstr("customer.age"));
  EXPECT_THAT(top.status().message(), HasSubstr("-3"));

  request = testing::RequestFor(customers().front());
  request.mutable_customer()->set_cod_prov(77);
  top = client().Recommend(request);
  EXPECT_EQ(top.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(top.status().message(), HasSubstr("customer.cod_prov"));
  EXPECT_THAT(top.status().message(), HasSubstr("77"));

  request = testing::RequestFor(customers().front());
  v1::MonthProducts* month = request.add_history();
  month->set_months_ago(1);
  month->add_products("ind_bitcoin_ult1");
  top = client().Recommend(request);
  EXPECT_EQ(top.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(top.status().message(), HasSubstr("history[0].products[0]"));
  EXPECT_THAT(top.status().message(), HasSubstr("ind_bitcoin_ult1"));
}

TEST_F(ServerE2eTest, MissingCustomerIsInvalidArgument) {
  absl::StatusOr<v1::RecommendResponse> top =
      client().Recommend(v1::RecommendRequest());
  EXPECT_EQ(top.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(top.status().message(), HasSubstr("customer"));
}

TEST_F(ServerE2eTest, KMustBeBetweenOneAnd24) {
  for (int k : {25, -1, 1000}) {
    absl::StatusOr<v1::RecommendResponse> top =
        Recommend(customers().front(), k);
    EXPECT_EQ(top.status().code(), absl::StatusCode::kInvalidArgument) << k;
    EXPECT_THAT(top.status().message(), HasSubstr("k:")) << k;
  }
  absl::StatusOr<v1::RecommendResponse> one = Recommend(customers().front(), 1);
  ASSERT_TRUE(one.ok()) << one.status();
  EXPECT_EQ(one->recommendations_size(), 1);
  absl::StatusOr<v1::RecommendResponse> all =
      Recommend(customers().front(), 24);
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(
      all->recommendations_size(),
      24 - CountProducts(OwnedLastMonth(customers().front().ncodpers.value)));
}

TEST_F(ServerE2eTest, TinyDeadlineIsDeadlineExceededAndTheServerKeepsServing) {
  // Keep the workers busy with a long stream so that a request with a 1 ms
  // deadline waits in the queue past it (the server checks before
  // featurizing and before predicting; the client's own timer may fire too).
  v1::RecommendStreamRequest big;
  for (int i = 0; i < 4096; ++i) {
    *big.add_rows() = testing::RowFor(customers()[i % customers().size()], i);
  }
  grpc::ClientContext stream_context;
  auto stream = harness_->stub()->RecommendStream(&stream_context);
  std::thread writer([&] {
    for (int m = 0; m < 12; ++m) {
      if (!stream->Write(big)) break;
    }
    stream->WritesDone();
  });
  v1::RecommendStreamResponse answer;
  EXPECT_TRUE(stream->Read(&answer));  // the workers are at it now
  for (int attempt = 0; attempt < 5; ++attempt) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::milliseconds(1));
    v1::RecommendResponse response;
    grpc::Status status = harness_->stub()->Recommend(
        &context, testing::RequestFor(customers()[attempt]), &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  }
  int answers = 1;
  while (stream->Read(&answer)) ++answers;
  writer.join();
  EXPECT_TRUE(stream->Finish().ok());
  EXPECT_EQ(answers, 12);
  absl::StatusOr<v1::RecommendResponse> top = Recommend(customers().front());
  EXPECT_TRUE(top.ok()) << top.status();
  absl::StatusOr<testing::HealthStatus> health = harness_->Health();
  ASSERT_TRUE(health.ok()) << health.status();
  EXPECT_EQ(*health, grpc::health::v1::HealthCheckResponse::SERVING);
}

// Calls that queue up behind busy workers are scored together in one batch
// (ScoringEngine); each must still get exactly the answer it gets alone,
// whatever k it asked for and whether or not a neighbour in its batch fails.
TEST_F(ServerE2eTest, ConcurrentCallsAreBatchedAndAnswerAsIfAlone) {
  constexpr int kCalls = 96;
  std::vector<v1::RecommendRequest> requests;
  for (int i = 0; i < kCalls; ++i) {
    RawRecord customer = customers()[i % customers().size()];
    if (i % 10 == 3) customer.fecha_dato.Set(Date{2015, 3, 28});  // OUT_OF_RANGE
    requests.push_back(testing::RequestFor(customer, 1 + i % 24));
  }
  std::vector<absl::StatusOr<v1::RecommendResponse>> alone;
  for (const v1::RecommendRequest& request : requests) {
    alone.push_back(client().Recommend(request));
  }
  auto scrape = [&] {
    absl::StatusOr<std::string> text =
        metrics_testing::HttpGet(harness_->metrics()->port(), "/metrics");
    EXPECT_TRUE(text.ok()) << text.status();
    return metrics_testing::ParseExposition(text.ok() ? *text : "");
  };
  const metrics_testing::Exposition before = scrape();

  constexpr int kThreads = 16, kRounds = 4;
  std::vector<std::vector<absl::StatusOr<v1::RecommendResponse>>> together(
      kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < kRounds; ++round) {
        for (int i = t; i < kCalls; i += kThreads) {
          together[t].push_back(client().Recommend(requests[i]));
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();

  for (int t = 0; t < kThreads; ++t) {
    size_t n = 0;
    for (int round = 0; round < kRounds; ++round) {
      for (int i = t; i < kCalls; i += kThreads, ++n) {
        SCOPED_TRACE(absl::StrCat("call ", i, " round ", round));
        ASSERT_LT(n, together[t].size());
        const absl::StatusOr<v1::RecommendResponse>& got = together[t][n];
        ASSERT_EQ(got.status().code(), alone[i].status().code())
            << got.status();
        if (!got.ok()) {
          EXPECT_EQ(got.status().message(), alone[i].status().message());
          continue;
        }
        EXPECT_LE(got->recommendations_size(), 1 + i % 24);
        EXPECT_EQ(got->SerializeAsString(), alone[i]->SerializeAsString());
      }
    }
  }
  // Every call was counted in a batch, and some shared one: 16 callers on 2
  // workers keep calls queued behind each prediction.
  const metrics_testing::Exposition after = scrape();
  const double calls = after.Sum("recsys_unary_batch_calls_sum") -
                       before.Sum("recsys_unary_batch_calls_sum");
  const double batches = after.Sum("recsys_unary_batch_calls_count") -
                         before.Sum("recsys_unary_batch_calls_count");
  EXPECT_EQ(calls, kThreads * kRounds * (kCalls / kThreads));
  EXPECT_LT(batches, calls);
  std::printf("%g calls in %g batches\n", calls, batches);
}

TEST_F(ServerE2eTest, ModelInfoDescribesTheServingVersion) {
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

  EXPECT_EQ(client().GetModelInfo("1")->version(), "1");
  EXPECT_EQ(client().GetModelInfo("2").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(client().GetModelInfo("two").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(ServerE2eTest, ListVersionsShowsTheServingVersionUnderTheLatestPolicy) {
  absl::StatusOr<v1::ListVersionsResponse> versions = client().ListVersions();
  ASSERT_TRUE(versions.ok()) << versions.status();
  EXPECT_EQ(versions->model_name(), "santander");
  EXPECT_EQ(versions->serving_version(), "1");
  EXPECT_EQ(versions->policy(), v1::VERSION_POLICY_LATEST);
  ASSERT_EQ(versions->versions_size(), 1);
  EXPECT_EQ(versions->versions(0).state(), v1::VERSION_STATE_SERVING);
  EXPECT_GT(versions->versions(0).loaded_time().seconds(), 0);
}

TEST_F(ServerE2eTest, AdminCallsWithNothingToDoAnswerWithProperCodes) {
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

TEST_F(ServerE2eTest, ReflectionListsBothServices) {
  ListServicesCall call(harness_->channel());
  absl::StatusOr<std::string> services = call.Await();
  ASSERT_TRUE(services.ok()) << services.status();
  EXPECT_THAT(*services, HasSubstr("santander.recsys.v1.Recommender"));
  EXPECT_THAT(*services, HasSubstr("santander.recsys.v1.ModelAdmin"));
}

TEST_F(ServerE2eTest, RequestMetricsAreExported) {
  ASSERT_TRUE(Recommend(customers().front()).ok());
  // The server counts a call when it finishes, which may be just after the
  // client has its answer: scrape until it shows, for at most 10 s.
  metrics_testing::Exposition metrics;
  for (int attempt = 0; attempt < 200; ++attempt) {
    absl::StatusOr<std::string> text =
        metrics_testing::HttpGet(harness_->metrics()->port(), "/metrics");
    ASSERT_TRUE(text.ok()) << text.status();
    metrics = metrics_testing::ParseExposition(*text);
    if (metrics.Sum("grpc_server_handled_total", {{"grpc_method", "Recommend"}}) >= 1.0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_GE(
      metrics.Sum("grpc_server_handled_total", {{"grpc_method", "Recommend"}}),
      1.0);
  EXPECT_GE(metrics.Sum("recsys_rows_scored_total"), 1.0);
}

}  // namespace
}  // namespace recsys
