#include "server/realized_quality.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/date.h"
#include "common/map_at_k.h"
#include "server/event_log.h"

namespace recsys {


absl::StatusOr<RealizedMonth> ScoreServedMonth(
    const ServedMonth& served, const ProductHistorySnapshot& snapshot) {
  const int target = snapshot.target_month();
  const int lag = target - served.month;  // month M; M-1 is lag + 1
  const bool held = lag >= 1 && lag + 1 <= snapshot.depth() &&
                    ((snapshot.months_in_data() >> (lag - 1)) & 1) != 0 &&
                    ((snapshot.months_in_data() >> lag) & 1) != 0;
  if (!held) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the history serving ", MonthName(target), " does not hold ",
        MonthName(served.month), " and ", MonthName(served.month - 1),
        " (both are needed for the products added in ",
        MonthName(served.month), ")"));
  }
  RealizedMonth result;
  result.month = served.month;
  std::vector<MapAtK> per_version(served.versions.size());
  std::vector<int64_t> served_in_truth(served.versions.size(), 0);
  for (const uint32_t customer : snapshot.customer_ids()) {
    absl::StatusOr<HistoryView> view = snapshot.Lookup(customer, target);
    if (!view.ok() || !view->Present(lag)) continue;
    ++result.truth_customers;
    const ProductMask added = view->Owned(lag) & ~view->Owned(lag + 1);
    auto it = served.answers.find(customer);
    if (it == served.answers.end()) {
      ++result.unserved;
      continue;
    }
    const ServedAnswer answer = UnpackAnswer(it->second);
    if (answer.version < 0 ||
        static_cast<size_t>(answer.version) >= per_version.size()) {
      ++result.unserved;  // cannot happen: every slot is in `versions`
      continue;
    }
    per_version[answer.version].Add(answer.ranked(), added);
    ++served_in_truth[answer.version];
  }
  int64_t in_truth = 0;
  for (size_t v = 0; v < per_version.size(); ++v) {
    if (per_version[v].customers() == 0) continue;
    in_truth += served_in_truth[v];
    result.versions.push_back({served.versions[v], per_version[v].sum(),
                               per_version[v].customers()});
  }
  result.not_in_truth = static_cast<int64_t>(served.answers.size()) - in_truth;
  return result;
}

std::vector<std::string> DescribeRealized(const RealizedMonth& r) {
  const std::string month = MonthName(r.month);
  const std::string tail = absl::StrCat(
      "; month: ", r.truth_customers, " customers, ", r.unserved,
      " not served, ", r.not_in_truth, " served not in the month");
  std::vector<std::string> lines;
  for (const RealizedVersion& v : r.versions) {
    lines.push_back(absl::StrFormat(
        "realized %s: %s version %d: %d customers, MAP@7 %.6f (validation "
        "%.6f)%s",
        month, v.version.model, v.version.version, v.customers, v.map7(),
        v.version.validation_map7, tail));
  }
  if (lines.empty()) {
    lines.push_back(absl::StrCat("realized ", month,
                                 ": no served customer is in the month", tail));
  }
  return lines;
}

std::vector<RealizedMonth> RealizedQuality::OnHistory(
    const HistoryVersion& history) {
  std::vector<RealizedMonth> out;
  if (history.snapshot == nullptr) return out;
  log_->Flush();  // every answer given so far counts
  absl::MutexLock lock(&mu_);
  for (const int month : log_->Months()) {
    if (done_.count(month) != 0) continue;
    const ServedMonth served = log_->Month(month);
    absl::StatusOr<RealizedMonth> result =
        ScoreServedMonth(served, *history.snapshot);
    if (!result.ok()) continue;  // not in this history (yet)
    done_.insert(month);
    const std::string name = MonthName(month);
    for (const RealizedVersion& v : result->versions) {
      metrics_->RealizedMonth(v.version.model, v.version.version, name,
                              v.ap_sum, v.customers,
                              v.version.validation_map7);
    }
    for (const std::string& line : DescribeRealized(*result)) LogEvent(line);
    evaluated_.push_back(*result);
    out.push_back(*std::move(result));
  }
  return out;
}

std::vector<RealizedMonth> RealizedQuality::Evaluated() const {
  absl::MutexLock lock(&mu_);
  return evaluated_;
}

}  // namespace recsys
