#include "common/ranking.h"

#include <algorithm>
#include <cmath>

namespace recsys {

TopKResult TopK(const float* scores, ProductMask exclude, int k) {
  TopKResult out;
  k = std::clamp(k, 0, kNumProducts);
  int n = 0;
  std::array<ScoredProduct, kNumProducts> candidates;
  for (int p = 0; p < kNumProducts; ++p) {
    if (exclude & ProductBit(p)) continue;
    candidates[n++] = {p, scores[p]};
  }
  // A strict weak order: numbers descending, then NaN; ties by index.
  auto better = [](const ScoredProduct& a, const ScoredProduct& b) {
    const bool a_nan = std::isnan(a.score), b_nan = std::isnan(b.score);
    if (a_nan != b_nan) return b_nan;
    if (!a_nan && a.score != b.score) return a.score > b.score;
    return a.product < b.product;
  };
  const int take = std::min(k, n);
  std::partial_sort(candidates.begin(), candidates.begin() + take,
                    candidates.begin() + n, better);
  std::copy(candidates.begin(), candidates.begin() + take, out.items.begin());
  out.size = take;
  return out;
}

}  // namespace recsys
