#include "common/map_at_k.h"

#include <algorithm>

namespace recsys {
namespace {

// ml_metrics.apk over any sequence of product indices.
template <typename GetProduct>
double ApK(int n, GetProduct product_at, ProductMask actual, int k) {
  if (actual == 0 || k <= 0) return 0;
  double score = 0, hits = 0;
  ProductMask seen = 0;
  for (int i = 0; i < std::min(n, k); ++i) {
    const int p = product_at(i);
    if (p < 0 || p >= kNumProducts) continue;
    const ProductMask bit = ProductBit(p);
    if ((actual & bit) && !(seen & bit)) {
      hits += 1.0;
      score += hits / (i + 1.0);
    }
    seen |= bit;
  }
  return score / std::min(CountProducts(actual), k);
}

}  // namespace

double AveragePrecisionAtK(absl::Span<const int> predicted, ProductMask actual,
                           int k) {
  // Only the first k predictions matter.
  const int n = static_cast<int>(
      std::min<size_t>(predicted.size(), static_cast<size_t>(std::max(k, 0))));
  return ApK(
      n, [&](int i) { return predicted[i]; }, actual, k);
}

double AveragePrecisionAtK(const TopKResult& ranked, ProductMask actual,
                           int k) {
  return ApK(
      ranked.size, [&](int i) { return ranked.items[i].product; }, actual, k);
}

}  // namespace recsys
