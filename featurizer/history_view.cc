#include "featurizer/history_view.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace recsys {

absl::StatusOr<HistoryView> HistoryView::FromExplicit(
    const std::vector<std::pair<int, ProductMask>>& months) {
  HistoryView view;
  view.months_in_data = static_cast<uint16_t>((1u << kMaxHistoryMonths) - 1);
  for (size_t i = 0; i < months.size(); ++i) {
    const auto [months_ago, mask] = months[i];
    if (months_ago < 1 || months_ago > kMaxHistoryMonths) {
      return absl::InvalidArgumentError(
          absl::StrCat("history entry ", i, ": months_ago ", months_ago,
                       " is outside 1..", kMaxHistoryMonths));
    }
    if (mask & ~kAllProducts) {
      return absl::InvalidArgumentError(
          absl::StrCat("history entry ", i, ": product mask ", mask,
                       " has bits beyond the ", kNumProducts, " products"));
    }
    const uint16_t bit = static_cast<uint16_t>(1u << (months_ago - 1));
    if (view.present & bit) {
      return absl::InvalidArgumentError(
          absl::StrCat("history entry ", i, ": months_ago ", months_ago,
                       " is listed twice"));
    }
    view.present |= bit;
    view.owned[months_ago - 1] = mask;
    view.found = true;
    view.first_seen_months_ago =
        std::max(view.first_seen_months_ago, months_ago);
  }
  return view;
}

}  // namespace recsys
