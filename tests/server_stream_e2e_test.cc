// RecommendStream end to end: batches of customers over one stream, through
// the real batch scorer (client/batch_scorer.h) and the gRPC stub: every row
// is answered once by row id, bad rows get their own error while the good
// rows of the same message are scored, and stream-level problems (k, limits)
// end the stream with a status naming them.
#include <grpcpp/client_context.h>

#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "client/batch_scorer.h"
#include "common/raw_reader.h"
#include "featurizer/product_history.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "model_store/bundle.h"
#include "tests/server_e2e_util.h"

namespace recsys {
namespace {

using ::testing::HasSubstr;
using testing::ServerHarness;

v1::RecommendStreamRequest Message(const std::vector<v1::ScoreRow>& rows,
                                   int k = 0) {
  v1::RecommendStreamRequest message;
  for (const v1::ScoreRow& row : rows) *message.add_rows() = row;
  message.set_k(k);
  return message;
}

class StreamE2eTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    testing::HarnessOptions options;
    options.max_rows_per_request = 50;
    options.max_message_bytes = 256 << 10;
    harness_ = ServerHarness::Start(options).release();
    ASSERT_NE(harness_, nullptr);
    customers_ = new std::vector<RawRecord>(
        testing::ReadRecords(harness_->fixture().test_csv, 200));
  }
  static void TearDownTestSuite() {
    delete harness_;
    delete customers_;
  }
  void SetUp() override { ASSERT_NE(harness_, nullptr); }

  const std::vector<RawRecord>& customers() { return *customers_; }
  testing::StreamOutcome Run(
      const std::vector<v1::RecommendStreamRequest>& messages) {
    return testing::RunStream(harness_->stub(), messages);
  }

  static ServerHarness* harness_;
  static std::vector<RawRecord>* customers_;
};

ServerHarness* StreamE2eTest::harness_ = nullptr;
std::vector<RawRecord>* StreamE2eTest::customers_ = nullptr;

TEST_F(StreamE2eTest, EveryRowIsAnsweredOnceWithItsIdAndCustomer) {
  std::vector<v1::RecommendStreamRequest> messages;
  std::map<uint64_t, int64_t> sent;  // row id -> ncodpers
  uint64_t row_id = 1000;
  for (int m = 0; m < 4; ++m) {
    std::vector<v1::ScoreRow> rows;
    for (int i = 0; i < 50; ++i, ++row_id) {
      const RawRecord& customer =
          customers()[(m * 50 + i) % customers().size()];
      rows.push_back(testing::RowFor(customer, row_id));
      sent[row_id] = customer.ncodpers.value;
    }
    messages.push_back(Message(rows));
  }
  const testing::StreamOutcome outcome = Run(messages);
  ASSERT_TRUE(outcome.status.ok()) << outcome.status.error_message();
  std::map<uint64_t, int> answers;
  for (const v1::RowResult& result : outcome.Results()) {
    ++answers[result.row_id()];
    ASSERT_TRUE(sent.count(result.row_id())) << result.row_id();
    EXPECT_EQ(result.ncodpers(), sent[result.row_id()]);
    ASSERT_TRUE(result.has_recommendations()) << result.error().message();
    EXPECT_EQ(result.recommendations().recommendations_size(), 7);
    EXPECT_EQ(result.recommendations().history_source(),
              v1::HISTORY_SOURCE_STORE);
  }
  EXPECT_EQ(answers.size(), sent.size());
  for (const auto& [id, count] : answers) EXPECT_EQ(count, 1) << "row " << id;
  for (const v1::RecommendStreamResponse& response : outcome.responses) {
    EXPECT_EQ(response.model_name(), "santander");
    EXPECT_EQ(response.model_version(), "1");
  }
}

TEST_F(StreamE2eTest,
       BadRowsGetTheirOwnErrorsAndGoodRowsInTheSameMessageAreScored) {
  std::vector<v1::ScoreRow> rows;
  rows.push_back(testing::RowFor(customers()[0], 0));  // good
  rows.push_back(testing::RowFor(customers()[1], 1));
  rows.back().mutable_customer()->set_age(-5);
  rows.push_back(testing::RowFor(customers()[2], 2));  // good
  rows.push_back(testing::RowFor(customers()[3], 3));
  rows.back().mutable_customer()->set_cod_prov(77);
  rows.push_back(testing::RowFor(customers()[4], 4));
  v1::MonthProducts* month = rows.back().add_history();
  month->set_months_ago(1);
  month->add_products("not_a_product");
  rows.push_back(
      testing::RowFor(customers()[5], 5));  // unknown customer: served
  rows.back().mutable_customer()->set_ncodpers(987654321);
  rows.push_back(
      testing::RowFor(customers()[6], 6));  // before the snapshot month
  rows.back().mutable_customer()->set_fecha_dato("2015-03-28");
  rows.push_back(testing::RowFor(customers()[7], 7));
  rows.back().mutable_customer()->clear_ncodpers();

  const testing::StreamOutcome outcome = Run({Message(rows)});
  ASSERT_TRUE(outcome.status.ok()) << outcome.status.error_message();
  const std::vector<v1::RowResult> results = outcome.Results();
  ASSERT_EQ(results.size(), rows.size());
  for (size_t i = 0; i < results.size(); ++i) EXPECT_EQ(results[i].row_id(), i);

  EXPECT_TRUE(results[0].has_recommendations());
  EXPECT_TRUE(results[2].has_recommendations());
  EXPECT_TRUE(results[5].has_recommendations());
  EXPECT_EQ(results[5].recommendations().history_source(),
            v1::HISTORY_SOURCE_NOT_FOUND);
  EXPECT_EQ(results[5].ncodpers(), 987654321);

  auto expect_error = [&](int i, int code, const std::string& path,
                          const std::string& value) {
    SCOPED_TRACE(i);
    ASSERT_TRUE(results[i].has_error());
    EXPECT_EQ(results[i].error().code(), code);
    EXPECT_EQ(results[i].error().field_path(), path);
    EXPECT_THAT(results[i].error().message(), HasSubstr(path));
    EXPECT_THAT(results[i].error().message(), HasSubstr(value));
  };
  expect_error(1, 3, "customer.age", "-5");
  expect_error(3, 3, "customer.cod_prov", "77");
  expect_error(4, 3, "history[0].products[0]", "not_a_product");
  expect_error(6, 11, "customer.fecha_dato", "2015-03");
  expect_error(7, 3, "customer.ncodpers", "");
  EXPECT_EQ(results[1].ncodpers(), customers()[1].ncodpers.value);
}

TEST_F(StreamE2eTest, InvalidKEndsTheStreamWithInvalidArgument) {
  const testing::StreamOutcome outcome =
      Run({Message({testing::RowFor(customers()[0], 0)}, 30)});
  EXPECT_EQ(outcome.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(outcome.status.error_message(), HasSubstr("k:"));
}

TEST_F(StreamE2eTest, MessagesAnsweredBeforeAStreamErrorAreStillDelivered) {
  const testing::StreamOutcome outcome =
      Run({Message({testing::RowFor(customers()[0], 0),
                    testing::RowFor(customers()[1], 1)}),
           Message({testing::RowFor(customers()[2], 2)}, /*k=*/-4)});
  EXPECT_EQ(outcome.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  const std::vector<v1::RowResult> results = outcome.Results();
  ASSERT_EQ(results.size(), 2u);
  EXPECT_TRUE(results[0].has_recommendations());
  EXPECT_TRUE(results[1].has_recommendations());
}

TEST_F(StreamE2eTest, TooManyRowsInOneMessageEndsTheStreamNamingTheLimit) {
  std::vector<v1::ScoreRow> rows;
  for (int i = 0; i < 51; ++i)
    rows.push_back(testing::RowFor(customers()[i], i));
  const testing::StreamOutcome outcome = Run({Message(rows)});
  EXPECT_EQ(outcome.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(outcome.status.error_message(), HasSubstr("50"));
  EXPECT_THAT(outcome.status.error_message(),
              HasSubstr("max-rows-per-request"));
}

TEST_F(StreamE2eTest, MessageOverTheByteLimitIsRefused) {
  v1::ScoreRow row = testing::RowFor(customers()[0], 0);
  row.mutable_customer()->set_nomprov(std::string(300 << 10, 'X'));
  const testing::StreamOutcome outcome = Run({Message({row})});
  EXPECT_EQ(outcome.status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);

  v1::RecommendRequest request = testing::RequestFor(customers()[0]);
  request.mutable_customer()->set_nomprov(std::string(300 << 10, 'X'));
  EXPECT_EQ(harness_->client().Recommend(request).status().code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(
      harness_->client().Recommend(testing::RequestFor(customers()[0])).ok())
      << "the server keeps serving";
}

TEST_F(StreamE2eTest, EmptyStreamEndsWithOk) {
  const testing::StreamOutcome outcome = Run({});
  EXPECT_TRUE(outcome.status.ok()) << outcome.status.error_message();
  EXPECT_TRUE(outcome.responses.empty());
}

TEST_F(StreamE2eTest, TinyDeadlineEndsTheStreamWithDeadlineExceeded) {
  std::vector<v1::ScoreRow> rows;
  for (int i = 0; i < 50; ++i)
    rows.push_back(testing::RowFor(customers()[i], i));
  const testing::StreamOutcome outcome = testing::RunStream(
      harness_->stub(), {Message(rows), Message(rows), Message(rows)},
      absl::Microseconds(300));
  EXPECT_EQ(outcome.status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_TRUE(Run({Message(rows)}).status.ok()) << "the server keeps serving";
}

TEST_F(StreamE2eTest, BatchScorerWritesTheWholeTestMonthInInputOrder) {
  absl::StatusOr<std::unique_ptr<RawReader>> reader =
      RawReader::Open(harness_->fixture().test_csv);
  ASSERT_TRUE(reader.ok()) << reader.status();
  BatchScoreOptions options;
  options.batch_rows = 50;  // the server's limit in this suite
  options.window = 4;
  absl::StatusOr<std::unique_ptr<BatchScorer>> scorer =
      BatchScorer::Create(harness_->stub(), options);
  ASSERT_TRUE(scorer.ok()) << scorer.status();
  std::ostringstream submission, errors;
  absl::StatusOr<BatchScoreSummary> summary =
      (*scorer)->Run(reader->get(), &submission, &errors);
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_TRUE(summary->all_scored()) << summary->ToString() << "\n"
                                     << errors.str();
  EXPECT_GT(summary->rows_scored, 1000);

  // The submission lists the customers in input order, none of them with a
  // product owned last month.
  auto snapshot =
      LoadSnapshot(harness_->fixture().bundle_dir + "/" + kHistoryFile);
  ASSERT_TRUE(snapshot.ok()) << snapshot.status();
  const std::vector<RawRecord> input =
      testing::ReadRecords(harness_->fixture().test_csv, 1u << 30);
  std::vector<std::string> lines =
      absl::StrSplit(submission.str(), '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), input.size() + 1);
  EXPECT_EQ(lines[0], "ncodpers,added_products");
  for (size_t i = 0; i < input.size(); ++i) {
    std::vector<std::string> fields = absl::StrSplit(lines[i + 1], ',');
    ASSERT_EQ(fields.size(), 2u) << lines[i + 1];
    EXPECT_EQ(fields[0], std::to_string(input[i].ncodpers.value))
        << "row " << i;
    absl::StatusOr<HistoryView> view = (*snapshot)->Lookup(
        input[i].ncodpers.value, (*snapshot)->target_month());
    ASSERT_TRUE(view.ok());
    for (absl::string_view product :
         absl::StrSplit(fields[1], ' ', absl::SkipEmpty())) {
      EXPECT_FALSE(view->Owned(1) & ProductBit(*FindProduct(product)))
          << input[i].ncodpers.value << " owns " << product;
    }
  }
}

}  // namespace
}  // namespace recsys
