#include "model_store/explainer.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "common/status_macros.h"

namespace recsys {

absl::Status ExplainRow(const ModelVersion& model, const float* row,
                        const TopKResult& top, int max_features,
                        ExplainScratch* scratch,
                        std::vector<ProductExplanation>* out) {
  const Booster& booster = model.booster();
  const int64_t nf = booster.num_features();
  out->resize(top.size);
  if (top.size == 0) return absl::OkStatus();
  scratch->contributions.resize(booster.contributions_per_row());
  RECSYS_RETURN_IF_ERROR(
      booster.PredictContributions(row, 1, nf, scratch->contributions.data()));
  for (int i = 0; i < top.size; ++i) {
    const int product = top.items[i].product;
    const float* c = &scratch->contributions[product * (nf + 1)];
    ProductExplanation& e = (*out)[i];
    e.product = product;
    e.bias = c[nf];
    // Features with a contribution, largest |contribution| first.
    scratch->order.clear();
    double sum = 0;
    for (int f = 0; f < nf; ++f) {
      sum += c[f];
      if (c[f] != 0) scratch->order.push_back(f);
    }
    e.margin = e.bias + sum;
    const size_t listed =
        std::min(scratch->order.size(), static_cast<size_t>(max_features));
    std::partial_sort(scratch->order.begin(), scratch->order.begin() + listed,
                      scratch->order.end(), [c](int a, int b) {
                        const float ma = std::fabs(c[a]), mb = std::fabs(c[b]);
                        return ma != mb ? ma > mb : a < b;
                      });
    e.features.clear();
    double listed_sum = 0;
    for (size_t j = 0; j < listed; ++j) {
      const int f = scratch->order[j];
      e.features.push_back({f, row[f], c[f]});
      listed_sum += c[f];
    }
    e.others_contribution = sum - listed_sum;
  }
  return absl::OkStatus();
}

}  // namespace recsys
