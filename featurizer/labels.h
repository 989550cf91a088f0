// Training labels: the products a customer added this month.
//
// The Kaggle task predicts additions: products owned this month and not owned
// the month before. A customer absent from the data last month owned nothing
// then (a new customer's products are all additions). When the previous month
// is not in the data at all (the first month of a file), nothing can be said:
// there are no labels, instead of counting every product as added (the bug of
// the original Python demo).
//
//   RECSYS_ASSIGN_OR_RETURN(HistoryView history,  // before this month
//                           builder->Lookup(ncodpers, month));
//   std::optional<ProductMask> added =
//       AddedProducts(CleanOwnedProducts(record), history);
//   if (added && *added != 0) EmitTrainingRows(*added);
//
// Pure function; thread-safe.
#ifndef RECSYS_FEATURIZER_LABELS_H_
#define RECSYS_FEATURIZER_LABELS_H_

#include <optional>

#include "common/products.h"
#include "featurizer/history_view.h"

namespace recsys {

// Products in `owned_now` not owned at lag 1 of `history`; nullopt when
// month target-1 is not in the data (no labels for that row).
inline std::optional<ProductMask> AddedProducts(ProductMask owned_now,
                                                const HistoryView& history) {
  if (!history.InData(1)) return std::nullopt;
  return owned_now & ~history.Owned(1) & kAllProducts;
}

}  // namespace recsys

#endif  // RECSYS_FEATURIZER_LABELS_H_
