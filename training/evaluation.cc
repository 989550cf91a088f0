#include "training/evaluation.h"

#include <algorithm>
#include <array>
#include <numeric>
#include <vector>

#include "common/map_at_k.h"
#include "common/ranking.h"
#include "common/status_macros.h"

namespace recsys {

absl::StatusOr<double> ModelMap7(const Booster& booster,
                                 const MonthData& month) {
  if (month.customers == 0) return 0.0;
  const int64_t n = month.adders();
  const int64_t nf =
      n == 0 ? 0 : static_cast<int64_t>(month.features.size()) / n;
  std::vector<float> scores(static_cast<size_t>(n) * kNumProducts);
  RECSYS_RETURN_IF_ERROR(
      booster.Predict(month.features.data(), n, nf, scores.data()));
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) {
    sum += AveragePrecisionAtK(
        TopK(&scores[i * kNumProducts], month.owned_last[i], kMapK),
        month.added[i], kMapK);
  }
  return sum / static_cast<double>(month.customers);
}

double PopularityMap7(const MonthData& previous, const MonthData& month) {
  if (month.customers == 0) return 0;
  // Scores that rank products by their additions last month.
  std::array<float, kNumProducts> scores;
  for (int p = 0; p < kNumProducts; ++p)
    scores[p] = static_cast<float>(previous.additions[p]);
  double sum = 0;
  for (int64_t i = 0; i < month.adders(); ++i) {
    sum += AveragePrecisionAtK(TopK(scores.data(), month.owned_last[i], kMapK),
                               month.added[i], kMapK);
  }
  return sum / static_cast<double>(month.customers);
}

double CeilingMap7(const MonthData& month) {
  if (month.customers == 0) return 0;
  return static_cast<double>(month.adders()) /
         static_cast<double>(month.customers);
}

}  // namespace recsys
