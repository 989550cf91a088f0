// HistoryView: one customer's product ownership in the months before a
// target month, as the lag and history features need it.
//
// Lag L (1 <= L <= kMaxHistoryMonths) is the month `target - L`. For each lag
// the view says whether that month is in the data at all (the source observed
// it), whether the customer was present in it, and which products the customer
// owned. A view comes from a ProductHistorySnapshot / ProductHistoryBuilder
// (product_history.h), or from an explicit per-request history:
//
//   // The customer owned current_accounts last month, and e_account too two
//   // months ago.
//   absl::StatusOr<HistoryView> view = HistoryView::FromExplicit(
//       {{1, ProductBit(2)}, {2, ProductBit(2) | ProductBit(12)}});
//   if (view->Present(1)) Use(view->Owned(1));
//
// A plain value type: copy it freely; safe to read from many threads.
#ifndef RECSYS_FEATURIZER_HISTORY_VIEW_H_
#define RECSYS_FEATURIZER_HISTORY_VIEW_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "common/products.h"

namespace recsys {

// The most months of history any source keeps or any spec may use.
inline constexpr int kMaxHistoryMonths = 12;

struct HistoryView {
  // True when the source knows the customer (a snapshot entry or an explicit
  // history). False for a new customer: then nothing is present.
  bool found = false;
  // Bit L-1 set: month target-L is in the data (the source observed it, for
  // any customer). An unset bit means "unknown", not "owned nothing".
  uint16_t months_in_data = 0;
  // Bit L-1 set: the customer was in the data in month target-L. A subset of
  // months_in_data.
  uint16_t present = 0;
  // owned[L-1]: the products owned in month target-L; 0 when not present.
  std::array<ProductMask, kMaxHistoryMonths> owned{};
  // target - (the first month the customer was seen); -1 when not found.
  int first_seen_months_ago = -1;

  // REQUIRES for the three accessors: 1 <= lag <= kMaxHistoryMonths.
  bool InData(int lag) const { return (months_in_data >> (lag - 1)) & 1; }
  bool Present(int lag) const { return (present >> (lag - 1)) & 1; }
  // Products owned at `lag`; 0 when the customer was absent.
  ProductMask Owned(int lag) const { return owned[lag - 1]; }

  // A view from a history given explicitly, e.g. in a request: `months` holds
  // (months_ago, products owned) pairs, months_ago in 1..kMaxHistoryMonths.
  // Every month 1..kMaxHistoryMonths counts as in the data: a month not listed
  // is one the customer was absent. When at least one month is listed, found
  // is true and first_seen_months_ago is the largest months_ago listed; an
  // empty list gives what a snapshot gives a new customer (found false,
  // first_seen_months_ago -1).
  // Returns INVALID_ARGUMENT naming the entry for a months_ago out of range, a
  // month listed twice, or a mask with bits beyond the 24 products (the rules
  // of CheckExplicitHistory).
  static absl::StatusOr<HistoryView> FromExplicit(
      const std::vector<std::pair<int, ProductMask>>& months);
};

// What is wrong with an explicit history (see CheckExplicitHistory).
struct ExplicitHistoryError {
  int entry = 0;         // index of the first bad entry
  int other_entry = -1;  // a month listed twice: the entry that listed it first
  const char* field = "months_ago";  // "months_ago" or "products"
  // "must be between 1 and 12", "month listed twice" or "mask has bits beyond
  // the 24 products"; the caller adds where and ", got <value>".
  std::string message;
  int64_t value = 0;     // the offending months_ago or mask
};

// The rules of an explicit (per-request) history, in one place: each
// months_ago is in 1..kMaxHistoryMonths and listed once, and each mask holds
// only the 24 products. Returns the first problem, or nullopt when there is
// none. HistoryView::FromExplicit and the server's request decoder use it.
std::optional<ExplicitHistoryError> CheckExplicitHistory(
    const std::vector<std::pair<int, ProductMask>>& months);

}  // namespace recsys

#endif  // RECSYS_FEATURIZER_HISTORY_VIEW_H_
