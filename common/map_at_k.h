// Kaggle's MAP@k for the Santander Product Recommendation competition.
//
// AP@k of one customer is ml_metrics' apk(actual, predicted, k): walking the
// first k predictions, each prediction that is an added product and did not
// already appear earlier in the list adds precision@i (hits so far / i, i
// 1-based); the sum is divided by min(|actual|, k). A customer who added
// nothing scores 0 whatever is predicted, yet still counts: MAP@k averages
// over ALL customers of the month.
//
//   MapAtK map;  // k = 7
//   for (const Customer& c : month) map.Add(TopK(scores, c.owned, 7), c.added);
//   std::cout << map.Value();
#ifndef RECSYS_COMMON_MAP_AT_K_H_
#define RECSYS_COMMON_MAP_AT_K_H_

#include <cstdint>

#include "absl/types/span.h"
#include "common/products.h"
#include "common/ranking.h"

namespace recsys {

// The competition's k: up to 7 products per customer.
inline constexpr int kKaggleMapK = 7;

// AP@k of the ranked product indices `predicted` (best first; duplicates
// count once, indices outside 0..23 are never relevant) against the products
// `actual` the customer added. 0 when `actual` is empty or k <= 0.
double AveragePrecisionAtK(absl::Span<const int> predicted, ProductMask actual,
                           int k);
double AveragePrecisionAtK(const TopKResult& ranked, ProductMask actual, int k);

// Accumulates AP@k over customers; Value() is MAP@k. Thread-compatible:
// give each thread its own and Merge() them.
class MapAtK {
 public:
  explicit MapAtK(int k = kKaggleMapK) : k_(k) {}

  int k() const { return k_; }

  // Adds one customer's ranking and added products.
  void Add(absl::Span<const int> predicted, ProductMask actual) {
    AddScore(AveragePrecisionAtK(predicted, actual, k_), actual);
  }
  void Add(const TopKResult& ranked, ProductMask actual) {
    AddScore(AveragePrecisionAtK(ranked, actual, k_), actual);
  }
  // Adds a customer with no prediction (scores 0 but counts).
  void AddUnpredicted(ProductMask actual) { AddScore(0, actual); }

  // Adds the customers of `other`. REQUIRES: other.k() == k().
  void Merge(const MapAtK& other) {
    sum_ += other.sum_;
    customers_ += other.customers_;
    customers_with_additions_ += other.customers_with_additions_;
  }

  // Mean AP@k over every customer added; 0 when there are none.
  double Value() const { return customers_ == 0 ? 0 : sum_ / customers_; }
  // The best possible Value() for these customers: a perfect ranking scores
  // 1 for each customer who added something.
  double Ceiling() const {
    return customers_ == 0
               ? 0
               : static_cast<double>(customers_with_additions_) / customers_;
  }
  double sum() const { return sum_; }
  int64_t customers() const { return customers_; }
  int64_t customers_with_additions() const { return customers_with_additions_; }

 private:
  void AddScore(double ap, ProductMask actual) {
    sum_ += ap;
    ++customers_;
    if (actual != 0) ++customers_with_additions_;
  }

  int k_;
  double sum_ = 0;
  int64_t customers_ = 0;
  int64_t customers_with_additions_ = 0;
};

}  // namespace recsys

#endif  // RECSYS_COMMON_MAP_AT_K_H_
