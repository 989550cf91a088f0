#include "featurizer/history_view.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace recsys {

std::optional<ExplicitHistoryError> CheckExplicitHistory(
    const std::vector<std::pair<int, ProductMask>>& months) {
  int entry_of_month[kMaxHistoryMonths + 1];
  std::fill(std::begin(entry_of_month), std::end(entry_of_month), -1);
  for (size_t i = 0; i < months.size(); ++i) {
    const auto [months_ago, mask] = months[i];
    ExplicitHistoryError error;
    error.entry = static_cast<int>(i);
    error.value = months_ago;
    if (months_ago < 1 || months_ago > kMaxHistoryMonths) {
      error.message = absl::StrCat("must be between 1 and ", kMaxHistoryMonths);
      return error;
    }
    if (entry_of_month[months_ago] >= 0) {
      error.other_entry = entry_of_month[months_ago];
      error.message = "month listed twice";
      return error;
    }
    entry_of_month[months_ago] = error.entry;
    if (mask & ~kAllProducts) {
      error.field = "products";
      error.value = mask;
      error.message =
          absl::StrCat("mask has bits beyond the ", kNumProducts, " products");
      return error;
    }
  }
  return std::nullopt;
}

absl::StatusOr<HistoryView> HistoryView::FromExplicit(
    const std::vector<std::pair<int, ProductMask>>& months) {
  if (std::optional<ExplicitHistoryError> e = CheckExplicitHistory(months)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "history entry ", e->entry, ": ", e->field, " ", e->message,
        e->other_entry >= 0
            ? absl::StrCat(" (also in entry ", e->other_entry, ")")
            : "",
        ", got ", e->value));
  }
  HistoryView view;
  view.months_in_data = static_cast<uint16_t>((1u << kMaxHistoryMonths) - 1);
  for (const auto& [months_ago, mask] : months) {
    view.present |= static_cast<uint16_t>(1u << (months_ago - 1));
    view.owned[months_ago - 1] = mask;
    view.found = true;
    view.first_seen_months_ago =
        std::max(view.first_seen_months_ago, months_ago);
  }
  return view;
}

}  // namespace recsys
