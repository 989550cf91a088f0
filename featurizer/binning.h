// Binning: the bins of one variable for drift monitoring, with each bin's
// share in the training sample, and the PSI that compares shares.
//
// Numeric variables get quantile bins: up to `max_bins` value bins whose
// upper edges are training quantiles (deduplicated, so a 0/1 variable gets
// "<=0", "(0,1]", ">1"), then a "missing" bin for NaN. Categorical variables
// (vocabulary codes) get one bin per code 0..top-1, then "other" (a known
// code beyond the top), "unknown" (the vocabulary's unknown code) and
// "missing". Labels are short strings fit for Prometheus label values.
//
//   Binning age = Binning::Numeric(age_values, /*max_bins=*/10);
//   std::vector<double> counts(age.num_bins());
//   for (float v : live_values) ++counts[age.Bin(v)];
//   double psi = Psi(counts, age.shares());   // > 0.25: a large shift
//
// Immutable after construction; thread-safe to share for reading.
#ifndef RECSYS_FEATURIZER_BINNING_H_
#define RECSYS_FEATURIZER_BINNING_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "nlohmann/json.hpp"

namespace recsys {

// The floor applied to both shares in Psi (keeps empty bins finite).
inline constexpr double kPsiFloor = 1e-4;

// Population stability index of `actual_counts` (per bin, normalised here)
// against `expected_shares` (summing to 1): sum over bins of
// (a - e) * ln(a / e), with a and e floored at kPsiFloor. Returns NaN when the
// sizes differ or the actual counts sum to zero (no data, no PSI).
double Psi(const std::vector<double>& actual_counts,
           const std::vector<double>& expected_shares);

class Binning {
 public:
  enum class Type { kNumeric, kCategorical };

  // Quantile bins of `values` (NaN = missing; sorted in place). Edge q
  // (q = 1..max_bins-1) is the smallest sample value v with at least
  // q/max_bins of the non-missing values <= v. REQUIRES: max_bins >= 1.
  static Binning Numeric(std::vector<float> values, int max_bins);

  // Bins of vocabulary `codes` (NaN = missing) for a vocabulary of
  // `vocab_size` categories whose texts are `categories` (may be empty:
  // labels are then "code_<c>"). top = min(vocab_size, max_categories).
  static Binning Categorical(absl::Span<const float> codes, int vocab_size,
                             const std::vector<std::string>& categories,
                             int max_categories);

  Type type() const { return type_; }
  int num_bins() const { return static_cast<int>(labels_.size()); }
  // The bin of `value`, 0..num_bins()-1 (the last bin is "missing").
  int Bin(float value) const;
  const std::vector<std::string>& labels() const { return labels_; }
  // Training share of each bin (sums to 1; all 0 for an empty sample).
  const std::vector<double>& shares() const { return shares_; }
  // Numeric: the deduplicated upper edges.
  const std::vector<float>& edges() const { return edges_; }

  // {"type": "numeric", "edges": [...], "labels": [...], "shares": [...]} or
  // {"type": "categorical", "vocab_size": V, "top": K, "labels", "shares"}.
  nlohmann::json ToJson() const;
  // INVALID_ARGUMENT when malformed or inconsistent (bin count, edge order).
  static absl::StatusOr<Binning> FromJson(const nlohmann::json& json);

 private:
  Binning() = default;
  void SetLabels(const std::vector<std::string>& categories);
  void ComputeShares(absl::Span<const float> values);

  Type type_ = Type::kNumeric;
  std::vector<float> edges_;  // numeric
  int vocab_size_ = 0;        // categorical
  int top_ = 0;               // categorical
  std::vector<std::string> labels_;
  std::vector<double> shares_;
};

}  // namespace recsys

#endif  // RECSYS_FEATURIZER_BINNING_H_
