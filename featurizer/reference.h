// Reference distributions for drift monitoring: the training-time bins and
// shares of every feature (ReferenceDistributions) and of the model's top-1
// recommendation (PredictionReference). Stored in the model bundle manifest;
// the server counts live rows per bin and compares with Psi (binning.h).
//
//   // Training: from the feature vectors of a sample of rows (row-major).
//   RECSYS_ASSIGN_OR_RETURN(ReferenceDistributions ref,
//       ReferenceDistributions::Build(featurizer->schema(), rows, {}));
//   manifest["reference"]["features"] = ref.ToJson();
//
//   // Serving: per featurized row, then a PSI per feature now and then.
//   for (int f = 0; f < ref.num_features(); ++f) ++counts[f][ref.Bin(f,
//   row[f])]; double psi = Psi(counts[f], ref.shares(f));
//
//   // Predictions: the top-1 product of each sampled row (and its score).
//   RECSYS_ASSIGN_OR_RETURN(PredictionReference pred,
//       PredictionReference::Build(top1_products, top1_scores));
//   double mix_psi = pred.Psi(live_top1_counts);   // 24 counts
//
// Both are immutable values once built: thread-safe to share for reading.
#ifndef RECSYS_FEATURIZER_REFERENCE_H_
#define RECSYS_FEATURIZER_REFERENCE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "featurizer/binning.h"
#include "featurizer/featurizer.h"
#include "nlohmann/json.hpp"

namespace recsys {

struct ReferenceOptions {
  // Value bins per numeric (and lag / history / date) feature before edges
  // are deduplicated. Default 10.
  int numeric_bins = 10;
  // Categorical codes with a bin of their own (the most frequent in
  // training); the rest share "other". Default 20.
  int max_categories = 20;
};

class ReferenceDistributions {
 public:
  // Bins every feature of `schema` from `rows` (row-major, num_features()
  // floats per row, NaN = missing): categorical features by code, all others
  // by quantiles. Returns INVALID_ARGUMENT when rows.size() is not a multiple
  // of the feature count, or options are out of range (numeric_bins < 1,
  // max_categories < 0).
  static absl::StatusOr<ReferenceDistributions> Build(
      const FeatureSchema& schema, absl::Span<const float> rows,
      const ReferenceOptions& options);

  int num_features() const { return static_cast<int>(names_.size()); }
  int64_t sample_rows() const { return sample_rows_; }
  const std::string& name(int f) const { return names_[f]; }
  const Binning& binning(int f) const { return bins_[f]; }
  // Shorthands for binning(f).
  int Bin(int f, float value) const { return bins_[f].Bin(value); }
  int num_bins(int f) const { return bins_[f].num_bins(); }
  const std::vector<std::string>& labels(int f) const {
    return bins_[f].labels();
  }
  const std::vector<double>& shares(int f) const { return bins_[f].shares(); }
  // False for a feature drift monitoring skips (FeatureInfo::follows_calendar
  // at Build; "monitored": false in the JSON): the server exports no bins,
  // reference ratios or PSI for it. Its bins are still stored.
  bool monitored(int f) const { return monitored_[f]; }
  int num_monitored() const;

  // OK when the features are, in order, those of `feature_names`;
  // FAILED_PRECONDITION naming the first difference otherwise.
  absl::Status CheckMatches(
      const std::vector<std::string>& feature_names) const;

  // {"sample_rows": N, "features": [{"name": "age", "monitored": true,
  //  <Binning::ToJson>}, ...]}. FromJson reads a missing "monitored" as true.
  nlohmann::json ToJson() const;
  // INVALID_ARGUMENT naming the feature for a malformed entry.
  static absl::StatusOr<ReferenceDistributions> FromJson(
      const nlohmann::json& json);

 private:
  ReferenceDistributions() = default;

  int64_t sample_rows_ = 0;
  std::vector<std::string> names_;
  std::vector<Binning> bins_;
  std::vector<bool> monitored_;
};

// The training distribution of the top-1 recommended product (24 bins,
// labelled with the Kaggle product columns), and quantile bins of the top-1
// score.
class PredictionReference {
 public:
  // `top1_products[i]` is the index (0..23) of row i's top-1 product;
  // `top1_scores` its score (same length, or empty for no score bins).
  // INVALID_ARGUMENT for an index out of range or mismatched lengths.
  static absl::StatusOr<PredictionReference> Build(
      absl::Span<const int> top1_products, absl::Span<const float> top1_scores,
      int score_bins = 10);

  int64_t sample_rows() const { return sample_rows_; }
  // Product columns ("ind_cco_fin_ult1", ...), in kProducts order.
  const std::vector<std::string>& labels() const { return labels_; }
  // Reference share of each product as top-1 (24 values).
  const std::vector<double>& shares() const { return shares_; }
  const Binning& score_binning() const { return score_binning_; }

  // PSI of live top-1 counts (24, kProducts order) against shares().
  double Psi(const std::vector<double>& actual_top1_counts) const;

  // {"sample_rows": N, "labels": [...], "shares": [...], "score": <Binning>}.
  nlohmann::json ToJson() const;
  static absl::StatusOr<PredictionReference> FromJson(
      const nlohmann::json& json);

 private:
  PredictionReference();

  int64_t sample_rows_ = 0;
  std::vector<std::string> labels_;
  std::vector<double> shares_;
  Binning score_binning_;
};

}  // namespace recsys

#endif  // RECSYS_FEATURIZER_REFERENCE_H_
