#include "client/batch_summary.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace recsys {

double BatchScoreSummary::rows_per_second() const {
  const double seconds = absl::ToDoubleSeconds(elapsed);
  return seconds > 0 ? static_cast<double>(rows_read) / seconds : 0.0;
}

std::string BatchScoreSummary::ToString() const {
  std::string text = absl::StrCat(rows_read, " rows: ", rows_scored,
                                  " scored, ", rows_failed(), " failed");
  if (rows_failed() > 0) {
    absl::StrAppend(&text, " (", client_errors, " unreadable, ", server_errors,
                    " refused by the server, ", given_up, " given up, ", duplicates,
                    duplicates == 1 ? " duplicate)" : " duplicates)");
  }
  absl::StrAppend(
      &text, " in ", absl::StrFormat("%.1f", absl::ToDoubleSeconds(elapsed)),
      " s, ", absl::StrFormat("%.0f", rows_per_second()), " rows/s");
  if (rows_by_version.size() > 1) {
    // A champion and a challenger: how the rows split.
    absl::StrAppend(
        &text, "; model versions ",
        absl::StrJoin(rows_by_version, ", ",
                      [](std::string* out, const auto& entry) {
                        absl::StrAppend(out, entry.first, " (", entry.second,
                                        " rows)");
                      }));
  } else if (!model_versions.empty()) {
    absl::StrAppend(&text, "; model version ",
                    absl::StrJoin(model_versions, ", "));
  }
  absl::StrAppend(&text, "; ", retries, retries == 1 ? " retry" : " retries");
  if (!give_up_reason.ok())
    absl::StrAppend(&text, "; gave up: ", give_up_reason.ToString());
  if (!input_status.ok())
    absl::StrAppend(&text, "; input error: ", input_status.ToString());
  return text;
}

}  // namespace recsys
