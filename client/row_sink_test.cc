#include "client/row_sink.h"

#include <sstream>

#include "gtest/gtest.h"

namespace recsys {
namespace {

TEST(OrderedRowSinkTest, WritesRowsInIdOrderWhateverTheCompletionOrder) {
  std::ostringstream submission, errors;
  OrderedRowSink sink(&submission, &errors);
  sink.Complete(2, RowOutcome::Scored(4, 30, "ind_cco_fin_ult1"));
  sink.Complete(1, RowOutcome::Failed(RowOutcome::kServerError, 3, 20, "bad"));
  EXPECT_EQ(submission.str(), "ncodpers,added_products\n");
  EXPECT_EQ(sink.counts().buffered, 2);
  sink.Complete(0,
                RowOutcome::Scored(2, 10, "ind_recibo_ult1 ind_tjcr_fin_ult1"));
  EXPECT_EQ(submission.str(),
            "ncodpers,added_products\n"
            "10,ind_recibo_ult1 ind_tjcr_fin_ult1\n"
            "30,ind_cco_fin_ult1\n");
  EXPECT_EQ(errors.str(), "line,ncodpers,reason\n3,20,\"bad\"\n");
  RowCounts counts = sink.counts();
  EXPECT_EQ(counts.scored, 2);
  EXPECT_EQ(counts.server_errors, 1);
  EXPECT_EQ(counts.written, 3);
  EXPECT_EQ(counts.buffered, 0);
}

TEST(OrderedRowSinkTest, ReasonIsQuotedOnOneLineAndMissingCustomerIsEmpty) {
  std::ostringstream submission, errors;
  OrderedRowSink sink(&submission, &errors);
  sink.Complete(0, RowOutcome::Failed(RowOutcome::kClientError, 9, std::nullopt,
                                      "column age: \"3x\"\nsecond line"));
  EXPECT_EQ(errors.str(),
            "line,ncodpers,reason\n"
            "9,,\"column age: \"\"3x\"\" second line\"\n");
  EXPECT_EQ(sink.counts().client_errors, 1);
  EXPECT_EQ(sink.counts().failed(), 1);
}

TEST(OrderedRowSinkTest, FailedRowsAreCountedWithoutAnErrorsStream) {
  std::ostringstream submission;
  OrderedRowSink sink(&submission, nullptr);
  sink.Complete(0, RowOutcome::Failed(RowOutcome::kGivenUp, 2, 1, "gave up"));
  EXPECT_EQ(sink.counts().given_up, 1);
  EXPECT_EQ(submission.str(), "ncodpers,added_products\n");
}

}  // namespace
}  // namespace recsys
