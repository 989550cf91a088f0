// Ranking: the top k products of one customer's 24 scores, excluding the
// products the customer already owns.
//
//   TopKResult top = TopK(scores, /*exclude=*/owned_last_month, 7);
//   for (int i = 0; i < top.size; ++i) Print(top.items[i].product, top.items[i].score);
//
// Pure functions; thread-safe; no allocation.
#ifndef RECSYS_COMMON_RANKING_H_
#define RECSYS_COMMON_RANKING_H_

#include <array>

#include "common/products.h"

namespace recsys {

struct ScoredProduct {
  int product = 0;  // index into kProducts
  float score = 0;
};

struct TopKResult {
  std::array<ScoredProduct, kNumProducts> items;
  int size = 0;  // items[0..size) are valid, best first
};

// The up to `k` highest-scoring products not in `exclude`, by score
// descending, ties broken by product index ascending. NaN scores rank last.
// `k` is clamped to 0..24. REQUIRES: `scores` points to kNumProducts floats.
TopKResult TopK(const float* scores, ProductMask exclude, int k);

}  // namespace recsys

#endif  // RECSYS_COMMON_RANKING_H_
