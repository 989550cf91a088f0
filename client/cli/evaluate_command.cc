// `recsys evaluate`: MAP@7 of a submission against a truth file, scored by
// common/submission.h exactly as the training pipeline scores its months.
#include <string>

#include "client/cli/commands.h"
#include "common/submission.h"

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

}  // namespace recsys
