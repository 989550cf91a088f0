#include "client/batch_scorer.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "client/fake_recommender.h"
#include "client/recommender_client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace recsys {
namespace {

using ::testing::Each;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Pair;

constexpr char kTestHeader[] =
    "fecha_dato,ncodpers,ind_empleado,pais_residencia,sexo,age,fecha_alta,"
    "ind_nuevo,antiguedad,indrel,ult_fec_cli_1t,indrel_1mes,tiprel_1mes,"
    "indresi,indext,conyuemp,canal_entrada,indfall,tipodom,cod_prov,nomprov,"
    "ind_actividad_cliente,renta,segmento";

int64_t CustomerCode(int row) { return 100000 + 7 * row; }

// A test-layout data line for customer `row` (age given as `age`).
std::string TestLine(int row, const std::string& age = "35") {
  return absl::StrCat("2016-06-28,", CustomerCode(row), ",N,ES,H,", age,
                      ",2015-01-12,0,6,1,,1,A,S,N,,KHE,N,1,29,MALAGA,1,"
                      "87218.1,02 - PARTICULARES");
}

std::string TestFile(int rows) {
  std::string text = absl::StrCat(kTestHeader, "\n");
  for (int i = 0; i < rows; ++i) absl::StrAppend(&text, TestLine(i), "\n");
  return text;
}

// The submission the fake would produce for rows [0, rows) minus `skipped`.
std::vector<std::string> ExpectedSubmission(int rows,
                                            const std::set<int>& skipped = {}) {
  std::vector<std::string> lines = {"ncodpers,added_products"};
  for (int i = 0; i < rows; ++i) {
    if (skipped.count(i) > 0) continue;
    lines.push_back(
        absl::StrCat(CustomerCode(i), ",", FakeProductsFor(CustomerCode(i))));
  }
  return lines;
}

std::vector<std::string> Lines(const std::string& text) {
  return absl::StrSplit(text, '\n', absl::SkipEmpty());
}

class BatchScorerTest : public ::testing::Test {
 protected:
  // Starts the fake with `fake` and scores `csv` through it.
  BatchScoreSummary Score(const std::string& csv,
                          FakeRecommenderOptions fake = {}) {
    auto server = FakeRecommenderServer::Start(std::move(fake));
    EXPECT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    ClientOptions client_options;
    client_options.server = server_->address();
    client_ = std::move(*RecommenderClient::Create(client_options));
    auto scorer = BatchScorer::Create(client_->recommender_stub(), options_);
    EXPECT_TRUE(scorer.ok()) << scorer.status();
    std::istringstream in(csv);
    auto reader = RawReader::FromStream(&in, "test.csv");
    EXPECT_TRUE(reader.ok()) << reader.status();
    absl::StatusOr<BatchScoreSummary> summary =
        (*scorer)->Run(reader->get(), &submission_, &errors_);
    EXPECT_TRUE(summary.ok()) << summary.status();
    return *summary;
  }

  std::vector<std::string> SubmissionLines() const {
    return Lines(submission_.str());
  }
  // Error lines without the header.
  std::vector<std::string> ErrorRows() const {
    std::vector<std::string> lines = Lines(errors_.str());
    EXPECT_EQ(lines.at(0), "line,ncodpers,reason");
    return std::vector<std::string>(lines.begin() + 1, lines.end());
  }
  FakeRecommenderService& Fake() { return server_->service(); }

  BatchScoreOptions options_ = [] {
    BatchScoreOptions o;
    o.batch_rows = 16;
    o.window = 4;
    o.initial_backoff = absl::Milliseconds(1);
    o.max_backoff = absl::Milliseconds(4);
    return o;
  }();
  std::unique_ptr<FakeRecommenderServer> server_;
  std::unique_ptr<RecommenderClient> client_;
  std::ostringstream submission_;
  std::ostringstream errors_;
};

TEST_F(BatchScorerTest, SubmissionIsInInputOrderWhenAnswersComeOutOfOrder) {
  BatchScoreSummary summary = Score(TestFile(1000));
  EXPECT_THAT(SubmissionLines(), ElementsAreArray(ExpectedSubmission(1000)));
  EXPECT_THAT(ErrorRows(), IsEmpty());
  EXPECT_TRUE(summary.all_scored()) << summary.ToString();
  EXPECT_EQ(summary.rows_read, 1000);
  EXPECT_EQ(summary.rows_scored, 1000);
  EXPECT_EQ(summary.retries, 0);
  EXPECT_THAT(summary.model_versions, ElementsAreArray({"fake-v1"}));
}

TEST_F(BatchScorerTest, EmptyInputGivesHeaderOnly) {
  BatchScoreSummary summary = Score(TestFile(0));
  EXPECT_THAT(SubmissionLines(), ElementsAreArray({"ncodpers,added_products"}));
  EXPECT_TRUE(summary.all_scored());
  EXPECT_EQ(summary.rows_read, 0);
}

TEST_F(BatchScorerTest, RowRefusedByServerGoesToErrorsFileAndOthersAreScored) {
  FakeRecommenderOptions fake;
  fake.bad_ncodpers = {CustomerCode(5)};
  BatchScoreSummary summary = Score(TestFile(40), fake);
  EXPECT_THAT(SubmissionLines(), ElementsAreArray(ExpectedSubmission(40, {5})));
  // Row 5 is on line 7 (the header is line 1).
  ASSERT_THAT(ErrorRows(), ::testing::SizeIs(1));
  EXPECT_THAT(ErrorRows()[0], ::testing::StartsWith(absl::StrCat(
                                  "7,", CustomerCode(5), ",\"server: ")));
  EXPECT_THAT(ErrorRows()[0], HasSubstr("INVALID_ARGUMENT"));
  EXPECT_THAT(ErrorRows()[0], HasSubstr("customer.ncodpers"));
  EXPECT_EQ(summary.server_errors, 1);
  EXPECT_EQ(summary.rows_scored, 39);
  EXPECT_FALSE(summary.all_scored());
}

TEST_F(BatchScorerTest, UnreadableRowsAreReportedLocallyAndNeverSent) {
  std::string csv = absl::StrCat(kTestHeader, "\n", TestLine(0), "\n",
                                 TestLine(1, "3x"), "\n", TestLine(2), "\n",
                                 "2016-06-28,42,N\n", TestLine(4), "\n");
  BatchScoreSummary summary = Score(csv);
  EXPECT_THAT(SubmissionLines(),
              ElementsAreArray(ExpectedSubmission(5, {1, 3})));
  std::vector<std::string> errors = ErrorRows();
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_THAT(errors[0], ::testing::StartsWith(
                             absl::StrCat("3,", CustomerCode(1), ",\"")));
  EXPECT_THAT(errors[0], HasSubstr("age"));
  EXPECT_THAT(errors[0], HasSubstr("3x"));
  EXPECT_THAT(errors[1], ::testing::StartsWith("5,"));
  EXPECT_EQ(summary.client_errors, 2);
  std::vector<uint64_t> sent = Fake().received().at(0);
  std::sort(sent.begin(), sent.end());
  EXPECT_THAT(sent, ElementsAreArray({0u, 2u, 4u}));
}

TEST_F(BatchScorerTest, UnavailableMidStreamIsRetriedAndEveryRowScoredOnce) {
  FakeRecommenderOptions fake;
  fake.failing_streams = 1;
  fake.answers_before_failure = 50;
  BatchScoreSummary summary = Score(TestFile(500), fake);
  EXPECT_THAT(SubmissionLines(), ElementsAreArray(ExpectedSubmission(500)));
  EXPECT_TRUE(summary.all_scored()) << summary.ToString();
  EXPECT_EQ(summary.retries, 1);
  EXPECT_EQ(Fake().streams(), 2);
  // Resending an answered row would make the fake answer it twice.
  std::map<uint64_t, int> answered = Fake().answered();
  EXPECT_EQ(answered.size(), 500u);
  EXPECT_THAT(answered, Each(Pair(::testing::_, 1)));
  EXPECT_THAT(Fake().received().at(1), ::testing::Not(IsEmpty()));
}

TEST_F(BatchScorerTest, StreamClosedWithRowsUnansweredIsRetried) {
  FakeRecommenderOptions fake;
  fake.failing_streams = 1;
  fake.answers_before_failure = 20;
  fake.failure = grpc::Status::OK;
  BatchScoreSummary summary = Score(TestFile(300), fake);
  EXPECT_THAT(SubmissionLines(), ElementsAreArray(ExpectedSubmission(300)));
  EXPECT_TRUE(summary.all_scored()) << summary.ToString();
  EXPECT_EQ(summary.retries, 1);
  EXPECT_THAT(Fake().answered(), Each(Pair(::testing::_, 1)));
}

TEST_F(BatchScorerTest, StalledStreamIsCancelledAndRetried) {
  FakeRecommenderOptions fake;
  fake.stalling_streams = 1;
  options_.stall_timeout = absl::Milliseconds(300);
  options_.progress_interval = absl::Milliseconds(20);
  BatchScoreSummary summary = Score(TestFile(200), fake);
  EXPECT_THAT(SubmissionLines(), ElementsAreArray(ExpectedSubmission(200)));
  // At least the stalled stream was retried (a slow machine may stall more).
  EXPECT_GE(summary.retries, 1);
  EXPECT_FALSE(Fake().received().at(0).empty());
  EXPECT_THAT(Fake().answered(), Each(Pair(::testing::_, 1)));
}

TEST_F(BatchScorerTest, ProgressIsReportedWhileRunning) {
  FakeRecommenderOptions fake;
  fake.stalling_streams = 1;  // keeps the run going for a few reports
  options_.stall_timeout = absl::Milliseconds(200);
  options_.progress_interval = absl::Milliseconds(10);
  std::vector<BatchProgress> reports;
  absl::Mutex mu;
  options_.on_progress = [&](const BatchProgress& p) {
    absl::MutexLock lock(&mu);
    reports.push_back(p);
  };
  Score(TestFile(100), fake);
  absl::MutexLock lock(&mu);
  ASSERT_FALSE(reports.empty());
  // While the first stream stalls, rows are in flight and none is scored.
  EXPECT_TRUE(
      std::any_of(reports.begin(), reports.end(), [](const BatchProgress& p) {
        return p.rows_in_flight > 0 && p.rows_scored == 0 && p.bytes_read > 0;
      }));
  for (const BatchProgress& p : reports) EXPECT_LE(p.rows_scored, 100);
}

TEST_F(BatchScorerTest, FailuresBeforeAnyAnswerAreRetriedWithinTheLimit) {
  FakeRecommenderOptions fake;
  fake.failing_streams = 3;
  options_.max_retries = 3;
  BatchScoreSummary summary = Score(TestFile(100), fake);
  EXPECT_THAT(SubmissionLines(), ElementsAreArray(ExpectedSubmission(100)));
  EXPECT_EQ(summary.retries, 3);
  EXPECT_TRUE(summary.all_scored()) << summary.ToString();
}

TEST_F(BatchScorerTest, GivesUpAfterMaxRetriesAndReportsEveryRow) {
  FakeRecommenderOptions fake;
  fake.failing_streams = 1000;
  options_.max_retries = 2;
  BatchScoreSummary summary = Score(TestFile(100), fake);
  EXPECT_EQ(Fake().streams(), 3);
  EXPECT_THAT(SubmissionLines(), ElementsAreArray(ExpectedSubmission(0)));
  std::vector<std::string> errors = ErrorRows();
  ASSERT_EQ(errors.size(), 100u);
  for (int i = 0; i < 100; ++i) {
    EXPECT_THAT(errors[i], ::testing::StartsWith(
                               absl::StrCat(i + 2, ",", CustomerCode(i), ",")));
    EXPECT_THAT(errors[i], HasSubstr("gave up after 3 attempts"));
    EXPECT_THAT(errors[i], HasSubstr("UNAVAILABLE"));
  }
  EXPECT_EQ(summary.given_up, 100);
  EXPECT_EQ(summary.give_up_reason.code(), absl::StatusCode::kUnavailable);
}

TEST_F(BatchScorerTest, NonTransientStreamFailureIsNotRetried) {
  FakeRecommenderOptions fake;
  fake.failing_streams = 1000;
  fake.answers_before_failure = 10;
  fake.failure = grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "k: bad");
  BatchScoreSummary summary = Score(TestFile(100), fake);
  EXPECT_EQ(Fake().streams(), 1);
  EXPECT_EQ(summary.rows_scored, 10);
  EXPECT_EQ(summary.given_up, 90);
  EXPECT_EQ(SubmissionLines().size() - 1 + ErrorRows().size(), 100u);
}

TEST(BatchScorerCreateTest, RejectsOutOfRangeOptions) {
  auto stub = v1::Recommender::NewStub(
      grpc::CreateChannel("127.0.0.1:1", grpc::InsecureChannelCredentials()));
  BatchScoreOptions options;
  options.k = 25;
  EXPECT_EQ(BatchScorer::Create(stub.get(), options).status().code(),
            absl::StatusCode::kInvalidArgument);
  options = BatchScoreOptions();
  options.window = 0;
  EXPECT_EQ(BatchScorer::Create(stub.get(), options).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace recsys
