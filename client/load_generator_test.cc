#include "client/load_generator.h"

#include <unistd.h>

#include <fstream>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "client/fake_recommender.h"
#include "client/recommender_client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace recsys {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;

constexpr char kTestHeader[] =
    "fecha_dato,ncodpers,ind_empleado,pais_residencia,sexo,age,fecha_alta,"
    "ind_nuevo,antiguedad,indrel,ult_fec_cli_1t,indrel_1mes,tiprel_1mes,"
    "indresi,indext,conyuemp,canal_entrada,indfall,tipodom,cod_prov,nomprov,"
    "ind_actividad_cliente,renta,segmento";

int64_t CustomerCode(int row) { return 200000 + row; }

// A test file of `rows` customers; row `bad_row` (if >= 0) has an unreadable
// age.
std::string WriteTestFile(int rows, int bad_row = -1) {
  const std::string path = absl::StrCat(
      ::testing::TempDir(), "load_generator_test_", getpid(), "_",
      ::testing::UnitTest::GetInstance()->current_test_info()->name(), ".csv");
  std::ofstream out(path);
  out << kTestHeader << "\n";
  for (int i = 0; i < rows; ++i) {
    out << "2016-06-28," << CustomerCode(i) << ",N,ES,H,"
        << (i == bad_row ? "3x" : "35")
        << ",2015-01-12,0,6,1,,1,A,S,N,,KHE,N,1,29,MALAGA,1,87218.1,"
           "02 - PARTICULARES\n";
  }
  return path;
}

class LoadGeneratorTest : public ::testing::Test {
 protected:
  void Start(FakeRecommenderOptions options = {}) {
    auto server = FakeRecommenderServer::Start(std::move(options));
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    ClientOptions client;
    client.server = server_->address();
    auto created = RecommenderClient::Create(client);
    ASSERT_TRUE(created.ok()) << created.status();
    client_ = *std::move(created);
  }

  std::unique_ptr<FakeRecommenderServer> server_;
  std::unique_ptr<RecommenderClient> client_;
};

TEST(ReadUnaryRequestsTest, EncodesEveryReadableRowWithK) {
  int64_t skipped = -1;
  auto requests = ReadUnaryRequests(WriteTestFile(5, 2), 0, 3, &skipped);
  ASSERT_TRUE(requests.ok()) << requests.status();
  ASSERT_EQ(requests->size(), 4u);
  EXPECT_EQ(skipped, 1);
  EXPECT_EQ((*requests)[0].customer().ncodpers(), CustomerCode(0));
  EXPECT_EQ((*requests)[2].customer().ncodpers(), CustomerCode(3));
  EXPECT_EQ((*requests)[0].k(), 3);
}

TEST(ReadUnaryRequestsTest, StopsAtMaxRows) {
  auto requests = ReadUnaryRequests(WriteTestFile(10), 4, 7, nullptr);
  ASSERT_TRUE(requests.ok()) << requests.status();
  EXPECT_EQ(requests->size(), 4u);
}

TEST(ReadUnaryRequestsTest, MissingFileIsAnError) {
  EXPECT_FALSE(ReadUnaryRequests("/nonexistent/test.csv", 0, 7, nullptr).ok());
}

TEST_F(LoadGeneratorTest, UnaryMakesExactlyTheRequestedCallsAndTimesEach) {
  Start();
  auto requests = ReadUnaryRequests(WriteTestFile(7), 0, 7, nullptr);
  ASSERT_TRUE(requests.ok());
  UnaryLoadOptions options;
  options.concurrency = 3;
  options.duration = absl::ZeroDuration();
  options.max_calls = 50;
  auto report = RunUnaryLoad(client_->recommender_stub(), *requests, options);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->mode, "unary");
  EXPECT_EQ(report->calls, 50);
  EXPECT_EQ(report->rows_scored, 50);
  EXPECT_EQ(report->errors, 0);
  EXPECT_EQ(report->latency.count, 50);
  EXPECT_LE(report->latency.p50, report->latency.p99);
  EXPECT_LE(report->latency.p99, report->latency.max);
  EXPECT_EQ(report->send_latency.count, 0);  // unpaced: due = sent
}

TEST_F(LoadGeneratorTest, UnaryCountsRefusedCallsByCode) {
  FakeRecommenderOptions fake;
  fake.bad_ncodpers = {CustomerCode(1)};
  Start(fake);
  auto requests = ReadUnaryRequests(WriteTestFile(4), 0, 7, nullptr);
  ASSERT_TRUE(requests.ok());
  UnaryLoadOptions options;
  options.duration = absl::ZeroDuration();
  options.max_calls = 8;  // rows 0..3 twice: row 1 refused twice
  auto report = RunUnaryLoad(client_->recommender_stub(), *requests, options);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->rows_scored, 6);
  EXPECT_EQ(report->errors, 2);
  EXPECT_THAT(report->errors_by_code, ElementsAre(Pair("INVALID_ARGUMENT", 2)));
}

TEST_F(LoadGeneratorTest, UnaryPacedByRateStillMakesEveryCall) {
  Start();
  auto requests = ReadUnaryRequests(WriteTestFile(3), 0, 7, nullptr);
  ASSERT_TRUE(requests.ok());
  UnaryLoadOptions options;
  options.concurrency = 2;
  options.duration = absl::ZeroDuration();
  options.max_calls = 20;
  options.rate = 1000;
  auto report = RunUnaryLoad(client_->recommender_stub(), *requests, options);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->rows_scored, 20);
  EXPECT_EQ(report->target_rate, 1000);
  EXPECT_EQ(report->send_latency.count, 20);
  EXPECT_LE(report->send_latency.p50, report->latency.max);
}

TEST_F(LoadGeneratorTest, UnaryRejectsOptionsWithoutAnEnd) {
  Start();
  auto requests = ReadUnaryRequests(WriteTestFile(3), 0, 7, nullptr);
  ASSERT_TRUE(requests.ok());
  UnaryLoadOptions options;
  options.duration = absl::ZeroDuration();
  options.max_calls = 0;
  EXPECT_FALSE(
      RunUnaryLoad(client_->recommender_stub(), *requests, options).ok());
}

TEST_F(LoadGeneratorTest, StreamScoresTheWholeFileOncePerStream) {
  Start();
  StreamLoadOptions options;
  options.concurrency = 2;
  options.batch.batch_rows = 16;
  auto report =
      RunStreamLoad(client_->recommender_stub(), WriteTestFile(100), options);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->mode, "stream");
  EXPECT_EQ(report->rows_scored, 200);
  EXPECT_EQ(report->errors, 0);
  EXPECT_EQ(report->calls, 2);  // streams opened
  EXPECT_EQ(report->latency.count, 0);
}

TEST_F(LoadGeneratorTest, StreamStopsAtMaxRowsAndCountsRowErrors) {
  FakeRecommenderOptions fake;
  fake.bad_ncodpers = {CustomerCode(3)};
  Start(fake);
  StreamLoadOptions options;
  options.max_rows_per_stream = 10;
  options.batch.batch_rows = 4;
  auto report = RunStreamLoad(client_->recommender_stub(),
                              WriteTestFile(100, /*bad_row=*/5), options);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->rows_scored, 8);
  EXPECT_EQ(report->errors, 2);
  EXPECT_THAT(report->errors_by_code, ElementsAre(Pair("CLIENT_ERROR", 1),
                                                  Pair("SERVER_ROW_ERROR", 1)));
}

// Both ways of keeping messages (arenas, and heap messages as before the
// performance pass) score every row once, also across a broken stream whose
// unanswered rows are resent.
TEST_F(LoadGeneratorTest, StreamResendsAfterABrokenStreamWithOrWithoutArenas) {
  FakeRecommenderOptions fake;
  fake.failing_streams = 2;
  fake.answers_before_failure = 30;
  Start(fake);
  for (bool arenas : {true, false}) {
    StreamLoadOptions options;
    options.batch.batch_rows = 8;
    options.batch.use_arenas = arenas;
    options.batch.initial_backoff = absl::Milliseconds(1);
    auto report =
        RunStreamLoad(client_->recommender_stub(), WriteTestFile(100), options);
    ASSERT_TRUE(report.ok()) << report.status();
    EXPECT_EQ(report->rows_scored, 100) << "arenas " << arenas;
    EXPECT_EQ(report->errors, 0) << "arenas " << arenas;
  }
  EXPECT_EQ(server_->service().streams(), 4);  // 2 broken, then 1 per run
}

}  // namespace
}  // namespace recsys
