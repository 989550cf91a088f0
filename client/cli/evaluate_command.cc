// `recsys evaluate`: MAP@7 of a submission against a truth file (or the truth
// the records database derives for a month), scored by common/submission.h
// exactly as the training pipeline scores its months.
#include <string>

#include "client/cli/commands.h"
#include "common/submission.h"
#include "records/records_db.h"

namespace recsys {

int RunEvaluate(const std::string& submission, const std::string& truth,
                std::ostream& out, std::ostream& err) {
  if (submission.empty() || truth.empty()) {
    err << "recsys evaluate: --submission and --truth are required (see recsys "
           "evaluate "
           "--help)\n";
    return kExitUsage;
  }
  absl::StatusOr<EvaluationReport> report = EvaluateFiles(submission, truth);
  if (!report.ok()) {
    err << "recsys evaluate: " << report.status().message() << "\n";
    return kExitUsage;
  }
  out << FormatReport(*report);
  return kExitOk;
}

int RunEvaluateMonth(const std::string& submission, const std::string& truth,
                     const std::string& db, const std::string& month,
                     std::ostream& out, std::ostream& err) {
  if (submission.empty() || db.empty() || month.empty() || !truth.empty()) {
    err << "recsys evaluate: give --submission with either --truth FILE or "
           "--db records.db --month YYYY-MM (see recsys evaluate --help)\n";
    return kExitUsage;
  }
  absl::StatusOr<std::vector<SubmissionRow>> rows = ReadSubmission(submission);
  absl::StatusOr<std::unique_ptr<RecordsDb>> records =
      RecordsDb::Open(db, {.read_only = true});
  absl::StatusOr<std::vector<TruthRecord>> derived =
      records.ok() ? (*records)->Truth(month)
                   : absl::StatusOr<std::vector<TruthRecord>>(records.status());
  absl::StatusOr<EvaluationReport> report =
      !rows.ok()      ? absl::StatusOr<EvaluationReport>(rows.status())
      : !derived.ok() ? absl::StatusOr<EvaluationReport>(derived.status())
                      : Evaluate(*rows, *derived);
  if (!report.ok()) {
    err << "recsys evaluate: " << report.status().message() << "\n";
    return kExitUsage;
  }
  out << "truth: " << month << " from " << db << "\n" << FormatReport(*report);
  return kExitOk;
}

}  // namespace recsys
