// Ranking: the top k products of one customer's 24 scores, excluding the
// products the customer already owns.
//
//   TopKResult top = TopK(scores, /*exclude=*/owned_last_month, 7);
//   for (const ScoredProduct& p : top) Print(kProducts[p.product], p.score);
//
// Pure functions; thread-safe; no allocation (the result is a fixed-size
// array on the stack), so it is meant for the serving hot path.
#ifndef RECSYS_COMMON_RANKING_H_
#define RECSYS_COMMON_RANKING_H_

#include <array>

#include "common/products.h"

namespace recsys {

struct ScoredProduct {
  int product = 0;  // Index into kProducts.
  float score = 0;
};

struct TopKResult {
  std::array<ScoredProduct, kNumProducts> items;
  int size = 0;  // items[0..size) are valid, best first.

  const ScoredProduct* begin() const { return items.data(); }
  const ScoredProduct* end() const { return items.data() + size; }
  // The ranked products as a set.
  ProductMask Mask() const {
    ProductMask mask = 0;
    for (const ScoredProduct& p : *this) mask |= ProductBit(p.product);
    return mask;
  }
};

// The up to `k` highest-scoring products not in `exclude`, by score
// descending, ties broken by product index ascending; NaN scores rank after
// every number (and among themselves by index). Fewer than `k` when fewer
// products are left. `k` is clamped to 0..24.
// REQUIRES: `scores` points to kNumProducts floats.
TopKResult TopK(const float* scores, ProductMask exclude, int k);

}  // namespace recsys

#endif  // RECSYS_COMMON_RANKING_H_
