#include "common/submission.h"

#include <cstdio>
#include <string>
#include <vector>

#include "common/file_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace recsys {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// Product indices of the names used below.
constexpr int kCco = 2;      // ind_cco_fin_ult1
constexpr int kReca = 17;    // ind_reca_fin_ult1
constexpr int kTjcr = 18;    // ind_tjcr_fin_ult1
constexpr int kNomina = 21;  // ind_nomina_ult1
constexpr int kRecibo = 23;  // ind_recibo_ult1

std::string TempPath(const std::string& name) {
  return ::testing::TempDir() + "/" + name;
}

absl::Status ErrorOf(absl::string_view submission_text) {
  return ParseSubmission(submission_text).status();
}

TEST(SubmissionLineTest, WritesColumnNamesSeparatedBySpaces) {
  std::string out;
  AppendSubmissionLine(15889, std::vector<int>{kRecibo, kCco}, &out);
  AppendSubmissionLine(15890, std::vector<int>{}, &out);
  EXPECT_EQ(out, "15889,ind_recibo_ult1 ind_cco_fin_ult1\n15890,\n");
}

TEST(SubmissionLineTest, WritesATopKResultBestFirst) {
  float scores[kNumProducts] = {};
  scores[kReca] = 0.9f;
  scores[kTjcr] = 0.5f;
  std::string out;
  AppendSubmissionLine(7, TopK(scores, /*exclude=*/0, 2), &out);
  EXPECT_EQ(out, "7,ind_reca_fin_ult1 ind_tjcr_fin_ult1\n");
}

TEST(SubmissionWriterTest, WritesAFileThatReadsBackInOrder) {
  const std::string path = TempPath("submission_writer.csv");
  auto writer = SubmissionWriter::Create(path);
  ASSERT_TRUE(writer.ok()) << writer.status();
  ASSERT_TRUE((*writer)->Add(20, std::vector<int>{kNomina, kCco}).ok());
  ASSERT_TRUE((*writer)->Add(10, std::vector<int>{}).ok());
  ASSERT_TRUE((*writer)->Add(30, std::vector<int>{kReca}).ok());
  EXPECT_EQ((*writer)->rows(), 3);
  ASSERT_TRUE((*writer)->Close().ok());

  EXPECT_EQ(*ReadFileToString(path),
            "ncodpers,added_products\n"
            "20,ind_nomina_ult1 ind_cco_fin_ult1\n"
            "10,\n"
            "30,ind_reca_fin_ult1\n");
  auto rows = ReadSubmission(path);
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), 3u);
  EXPECT_EQ((*rows)[0].ncodpers, 20);
  EXPECT_THAT((*rows)[0].products, ElementsAre(kNomina, kCco));
  EXPECT_EQ((*rows)[0].line, 2);
  EXPECT_THAT((*rows)[1].products, IsEmpty());
  EXPECT_EQ((*rows)[2].ncodpers, 30);
  std::remove(path.c_str());
}

TEST(SubmissionWriterTest, CannotCreateInAMissingDirectory) {
  EXPECT_FALSE(SubmissionWriter::Create("/no/such/dir/s.csv").ok());
}

TEST(ParseSubmissionTest, AcceptsCrlfBomBlankLinesAndExtraSpaces) {
  auto rows = ParseSubmission(
      "\xEF\xBB\xBFncodpers,added_products\r\n"
      "1,ind_cco_fin_ult1  ind_recibo_ult1 \r\n"
      "\r\n"
      "2,\"ind_reca_fin_ult1\"\r\n");
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_THAT((*rows)[0].products, ElementsAre(kCco, kRecibo));
  EXPECT_THAT((*rows)[1].products, ElementsAre(kReca));
  EXPECT_EQ((*rows)[1].line, 4);
}

TEST(ParseSubmissionTest, KeepsDuplicatesAndMoreThanSevenProducts) {
  auto rows = ParseSubmission(
      "ncodpers,added_products\n"
      "1,ind_cco_fin_ult1 ind_cco_fin_ult1 ind_ahor_fin_ult1 "
      "ind_aval_fin_ult1 ind_cder_fin_ult1 ind_cno_fin_ult1 "
      "ind_ctju_fin_ult1 ind_ctma_fin_ult1 ind_ctop_fin_ult1\n");
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_EQ((*rows)[0].products.size(), 9u);
}

TEST(ParseSubmissionTest, WrongHeaderNamesLineOne) {
  const absl::Status s = ErrorOf("id,products\n1,\n");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("line 1"));
  EXPECT_THAT(s.message(), HasSubstr("'id,products'"));
  EXPECT_EQ(ErrorOf("").code(), absl::StatusCode::kInvalidArgument);
}

TEST(ParseSubmissionTest, UnknownProductNamesTheLineAndTheName) {
  const absl::Status s = ErrorOf(
      "ncodpers,added_products\n1,ind_cco_fin_ult1\n2,ind_cco_fin_ult1 "
      "current_accounts\n");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("line 3"));
  EXPECT_THAT(s.message(), HasSubstr("unknown product 'current_accounts'"));
  EXPECT_THAT(s.message(), HasSubstr("'2,ind_cco_fin_ult1 current_accounts'"));
}

TEST(ParseSubmissionTest, BadFieldsNameTheLineAndTheText) {
  const absl::Status too_many =
      ErrorOf("ncodpers,added_products\n1,ind_cco_fin_ult1,x\n");
  EXPECT_THAT(too_many.message(),
              HasSubstr("line 2: expected 2 fields, got 3"));
  EXPECT_THAT(too_many.message(), HasSubstr("'1,ind_cco_fin_ult1,x'"));
  const absl::Status bad_id = ErrorOf("ncodpers,added_products\n12a,\n");
  EXPECT_THAT(bad_id.message(), HasSubstr("line 2: bad ncodpers '12a'"));
  EXPECT_FALSE(ParseSubmission("ncodpers,added_products\n-5,\n").ok());
  EXPECT_FALSE(ParseSubmission("ncodpers,added_products\nonly\n").ok());
}

TEST(ParseTruthTest, ReadsTheGeneratorFormat) {
  auto rows = ParseTruth(
      "ncodpers,added_products,owned_products\n"
      "15889,ind_recibo_ult1,ind_cco_fin_ult1 ind_recibo_ult1\n"
      "15890,,\n"
      "15891,,ind_cco_fin_ult1\n");
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), 3u);
  EXPECT_EQ((*rows)[0].ncodpers, 15889);
  EXPECT_EQ((*rows)[0].added, ProductBit(kRecibo));
  EXPECT_EQ((*rows)[0].owned, ProductBit(kCco) | ProductBit(kRecibo));
  EXPECT_EQ((*rows)[1].added, 0u);
  EXPECT_EQ((*rows)[1].owned, 0u);
  EXPECT_EQ((*rows)[2].owned, ProductBit(kCco));
}

TEST(ParseTruthTest, ErrorsNameTheLine) {
  const absl::Status two_fields =
      ParseTruth("ncodpers,added_products,owned_products\n1,\n").status();
  EXPECT_THAT(two_fields.message(), HasSubstr("line 2: expected 3 fields"));
  const absl::Status unknown =
      ParseTruth("ncodpers,added_products,owned_products\n1,,ind_x\n").status();
  EXPECT_THAT(unknown.message(), HasSubstr("unknown product 'ind_x'"));
  // A submission is not a truth file.
  EXPECT_FALSE(ParseTruth("ncodpers,added_products\n1,\n").ok());
}

TEST(ReadTest, MissingFileIsNotFoundAndErrorsStartWithThePath) {
  EXPECT_EQ(ReadTruth("/no/such/truth.csv").status().code(),
            absl::StatusCode::kNotFound);
  const std::string path = TempPath("bad_submission.csv");
  ASSERT_TRUE(WriteFileDurably(path, "ncodpers,added_products\n1,x\n").ok());
  const absl::Status s = ReadSubmission(path).status();
  EXPECT_THAT(s.message(), HasSubstr(path + ": line 2"));
  std::remove(path.c_str());
}

// Three truth customers: 1 added cco and recibo, 2 added nothing, 3 added
// reca.
std::vector<TruthRecord> Truth() {
  return {{1, ProductBit(kCco) | ProductBit(kRecibo), 0, 2},
          {2, 0, ProductBit(kCco), 3},
          {3, ProductBit(kReca), ProductBit(kReca), 4}};
}

TEST(EvaluateTest, ScoresLikeKaggle) {
  const std::vector<SubmissionRow> submission = {
      {3, {kTjcr, kReca}, 2},          // AP 1/2
      {1, {kCco, kTjcr, kRecibo}, 3},  // AP (1 + 2/3) / 2
      {2, {kCco}, 4}};                 // no additions: 0
  auto report = Evaluate(submission, Truth());
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_DOUBLE_EQ(report->map, (0.5 + (1 + 2.0 / 3) / 2 + 0) / 3);
  EXPECT_DOUBLE_EQ(report->ceiling, 2.0 / 3);
  EXPECT_EQ(report->truth_customers, 3);
  EXPECT_EQ(report->customers_with_additions, 2);
  EXPECT_EQ(report->scored, 3);
  EXPECT_EQ(report->missing_from_submission, 0);
  EXPECT_EQ(report->not_in_truth, 0);
}

TEST(EvaluateTest, MissingCustomersScoreZeroAndUnknownOnesAreIgnored) {
  const std::vector<SubmissionRow> submission = {
      {3, {kReca}, 2},   // AP 1
      {99, {kCco}, 3}};  // not in the truth
  auto report = Evaluate(submission, Truth());
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_DOUBLE_EQ(report->map, 1.0 / 3);  // Customers 1 and 2 score 0.
  EXPECT_EQ(report->scored, 1);
  EXPECT_EQ(report->missing_from_submission, 2);
  EXPECT_THAT(report->missing_examples, ElementsAre(1, 2));
  EXPECT_EQ(report->not_in_truth, 1);
  EXPECT_THAT(report->not_in_truth_examples, ElementsAre(99));
  const std::string text = FormatReport(*report);
  EXPECT_THAT(text, HasSubstr("MAP@7 0.333333"));
  EXPECT_THAT(text, HasSubstr("missing from the submission 2"));
  EXPECT_THAT(text, HasSubstr("99"));
}

TEST(EvaluateTest, OnlyTheFirstKPredictionsCount) {
  const std::vector<SubmissionRow> submission = {
      {1, {0, 1, 3, 4, 5, 6, 7, kCco}, 2}, {2, {}, 3}, {3, {}, 4}};
  auto report = Evaluate(submission, Truth());
  ASSERT_TRUE(report.ok());
  EXPECT_DOUBLE_EQ(report->map, 0.0);
  EXPECT_DOUBLE_EQ(Evaluate(submission, Truth(), 8)->map, (1.0 / 8 / 2) / 3);
}

TEST(EvaluateTest, DuplicateCustomersAreErrorsNamingTheLines) {
  const std::vector<SubmissionRow> submission = {
      {1, {kCco}, 2}, {2, {}, 3}, {1, {kReca}, 4}};
  const absl::Status s = Evaluate(submission, Truth()).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(
      s.message(),
      HasSubstr("submission: ncodpers 1 appears twice (lines 2 and 4)"));
  std::vector<TruthRecord> truth = Truth();
  truth.push_back({2, 0, 0, 5});
  EXPECT_THAT(Evaluate({}, truth).status().message(),
              HasSubstr("truth: ncodpers 2 appears twice"));
}

TEST(EvaluateTest, EvaluatesFiles) {
  const std::string submission = TempPath("eval_submission.csv");
  const std::string truth = TempPath("eval_truth.csv");
  ASSERT_TRUE(WriteFileDurably(submission,
                               "ncodpers,added_products\n"
                               "1,ind_recibo_ult1 ind_cco_fin_ult1\n"
                               "2,ind_cco_fin_ult1\n")
                  .ok());
  ASSERT_TRUE(WriteFileDurably(truth,
                               "ncodpers,added_products,owned_products\n"
                               "1,ind_cco_fin_ult1,ind_cco_fin_ult1\n"
                               "2,,\n")
                  .ok());
  auto report = EvaluateFiles(submission, truth);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_DOUBLE_EQ(report->map, (1.0 / 2) / 2);  // Customer 1 hit at 2.
  std::remove(submission.c_str());
  std::remove(truth.c_str());
}

}  // namespace
}  // namespace recsys
