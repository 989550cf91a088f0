// Kaggle submission files, the generator's truth file, and scoring one
// against the other the way Kaggle does (MAP@7).
//
// Submission (what Kaggle accepts; rows in the test file's order):
//   ncodpers,added_products
//   15889,ind_recibo_ult1 ind_nom_pens_ult1 ind_nomina_ult1
// Truth (written by `recsys-data generate` as test_truth.csv; Kaggle never
// published it):
//   ncodpers,added_products,owned_products
//   15889,ind_recibo_ult1,ind_cco_fin_ult1 ind_recibo_ult1
// Product lists are Kaggle column names separated by spaces and may be
// empty. Files may use LF or CRLF and start with a UTF-8 BOM.
//
//   RECSYS_ASSIGN_OR_RETURN(auto writer, SubmissionWriter::Create(path));
//   RECSYS_RETURN_IF_ERROR(writer->Add(15889, TopK(scores, owned, 7)));
//   RECSYS_RETURN_IF_ERROR(writer->Close());
//
//   RECSYS_ASSIGN_OR_RETURN(EvaluationReport r,
//                           EvaluateFiles("submission.csv", "test_truth.csv"));
//   std::cout << FormatReport(r);
#ifndef RECSYS_COMMON_SUBMISSION_H_
#define RECSYS_COMMON_SUBMISSION_H_

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "common/map_at_k.h"
#include "common/products.h"
#include "common/ranking.h"

namespace recsys {

inline constexpr absl::string_view kSubmissionHeader =
    "ncodpers,added_products";
inline constexpr absl::string_view kTruthHeader =
    "ncodpers,added_products,owned_products";

// One row of a submission: a customer and the recommended products, best
// first (as written; duplicates and more than 7 products are kept).
struct SubmissionRow {
  int64_t ncodpers = 0;
  std::vector<int> products;  // Indices into kProducts.
  int64_t line = 0;           // 1-based line it was read from; 0 if built.
};

// One row of the truth file.
struct TruthRecord {
  int64_t ncodpers = 0;
  ProductMask added = 0;  // Owned in the test month, not the month before.
  ProductMask owned = 0;  // Owned in the test month.
  int64_t line = 0;       // 1-based line it was read from; 0 if built.
};

// Appends "<ncodpers>,<names separated by spaces>\n" to `out`.
// REQUIRES: every product index is in 0..23.
void AppendSubmissionLine(int64_t ncodpers, absl::Span<const int> products,
                          std::string* out);
void AppendSubmissionLine(int64_t ncodpers, const TopKResult& top,
                          std::string* out);

// Writes a submission file row by row with buffered I/O. Not thread-safe.
class SubmissionWriter {
 public:
  // Creates (truncates) `path` and writes the header. INTERNAL if it cannot.
  static absl::StatusOr<std::unique_ptr<SubmissionWriter>> Create(
      const std::string& path);
  ~SubmissionWriter();  // Closes the file if Close() was not called.
  SubmissionWriter(const SubmissionWriter&) = delete;
  SubmissionWriter& operator=(const SubmissionWriter&) = delete;

  // Appends one row. INTERNAL on a write error.
  absl::Status Add(int64_t ncodpers, absl::Span<const int> products);
  absl::Status Add(int64_t ncodpers, const TopKResult& top);
  // Flushes and closes; INTERNAL if any write failed. Call once.
  absl::Status Close();

  int64_t rows() const { return rows_; }

 private:
  SubmissionWriter(std::FILE* file, std::string path)
      : file_(file), path_(std::move(path)) {}
  absl::Status MaybeFlush(bool force);

  std::FILE* file_;
  const std::string path_;
  std::string buffer_;
  int64_t rows_ = 0;
};

// Parses the text of a submission / truth file. INVALID_ARGUMENT naming the
// 1-based line and quoting it for a wrong header, a wrong number of fields,
// a bad ncodpers or an unknown product name. Blank lines are skipped.
absl::StatusOr<std::vector<SubmissionRow>> ParseSubmission(
    absl::string_view text);
absl::StatusOr<std::vector<TruthRecord>> ParseTruth(absl::string_view text);

// The same, reading the file first (NOT_FOUND if it cannot be opened); the
// error message starts with the path.
absl::StatusOr<std::vector<SubmissionRow>> ReadSubmission(
    const std::string& path);
absl::StatusOr<std::vector<TruthRecord>> ReadTruth(const std::string& path);

// MAP@k of a submission against the truth, as Kaggle scores it.
struct EvaluationReport {
  int k = kKaggleMapK;
  // MAP@k over every truth customer (the Kaggle score).
  double map = 0;
  // Best possible score: the share of truth customers who added something.
  double ceiling = 0;
  int64_t truth_customers = 0;           // The denominator.
  int64_t customers_with_additions = 0;  // Truth customers who added some.
  int64_t scored = 0;                    // In both files.
  // Truth customers absent from the submission: they score 0 but count.
  int64_t missing_from_submission = 0;
  // Submission customers absent from the truth: ignored.
  int64_t not_in_truth = 0;
  // Up to 10 ncodpers of each kind, in file order, for the message.
  std::vector<int64_t> missing_examples;
  std::vector<int64_t> not_in_truth_examples;
};

// Scores `submission` against `truth`. INVALID_ARGUMENT (naming the lines)
// when a customer appears twice in either.
absl::StatusOr<EvaluationReport> Evaluate(
    absl::Span<const SubmissionRow> submission,
    absl::Span<const TruthRecord> truth, int k = kKaggleMapK);
// Reads both files and scores them.
absl::StatusOr<EvaluationReport> EvaluateFiles(
    const std::string& submission_path, const std::string& truth_path,
    int k = kKaggleMapK);

// A few human-readable lines: the score, the ceiling, the counts and the
// example ncodpers of missing / unknown customers.
std::string FormatReport(const EvaluationReport& report);

}  // namespace recsys

#endif  // RECSYS_COMMON_SUBMISSION_H_
