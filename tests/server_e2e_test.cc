// The prediction server end to end, one customer at a time (Recommend):
// rankings, errors, deadlines and the batching of concurrent calls. A real
// server on 127.0.0.1 (ephemeral port) over a trained bundle, called through
// the real client library (client/recommender_client.h). The calls around
// scoring (model info, admin, reflection, metrics) are in
// server_api_e2e_test.cc.
#include <grpcpp/client_context.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
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

// A server whose request parsing takes 5 ms (the metrics hook on the parse
// stage sleeps), so that a call with a 1 ms deadline has always expired by
// the time a worker picks it up: the server answers DEADLINE_EXCEEDED (or the
// client's own timer fires first, with the same code), and keeps serving.
class SlowParseMetrics : public NullMetrics {
 public:
  void StageDuration(Stage stage, double) override {
    if (stage == Stage::kParse) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
};

TEST(ServerDeadlineE2eTest,
     TinyDeadlineIsDeadlineExceededAndTheServerKeepsServing) {
  SlowParseMetrics metrics;
  testing::HarnessOptions options;
  options.metrics = &metrics;
  std::unique_ptr<ServerHarness> harness = ServerHarness::Start(options);
  ASSERT_NE(harness, nullptr);
  const std::vector<RawRecord> customers =
      testing::ReadRecords(harness->fixture().test_csv, 5);
  ASSERT_EQ(customers.size(), 5u);
  for (const RawRecord& customer : customers) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::milliseconds(1));
    v1::RecommendResponse response;
    grpc::Status status = harness->stub()->Recommend(
        &context, testing::RequestFor(customer), &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  }
  absl::StatusOr<v1::RecommendResponse> top =
      harness->client().Recommend(testing::RequestFor(customers.front()));
  EXPECT_TRUE(top.ok()) << top.status();
  absl::StatusOr<testing::HealthStatus> health = harness->Health();
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
    if (i % 10 == 3)
      customer.fecha_dato.Set(Date{2015, 3, 28});  // OUT_OF_RANGE
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
  // Every call was counted in a batch. How many shared one depends on the
  // machine's load (on a loaded machine the two workers may keep up with
  // the callers and score each call alone), so it is printed, not asserted
  // here; ScoringEngineTest.CallsQueuedBehindABusyWorkerAreScoredInOneBatch
  // checks the batching itself with a worker held busy.
  const metrics_testing::Exposition after = scrape();
  const double calls = after.Sum("recsys_unary_batch_calls_sum") -
                       before.Sum("recsys_unary_batch_calls_sum");
  const double batches = after.Sum("recsys_unary_batch_calls_count") -
                         before.Sum("recsys_unary_batch_calls_count");
  EXPECT_EQ(calls, kThreads * kRounds * (kCalls / kThreads));
  EXPECT_GE(batches, 1);
  EXPECT_LE(batches, calls);
  std::printf("%g calls in %g batches\n", calls, batches);
}

}  // namespace
}  // namespace recsys
