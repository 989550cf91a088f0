#include "featurizer/reference.h"

#include "absl/strings/str_cat.h"
#include "common/products.h"
#include "common/status_macros.h"

namespace recsys {

using nlohmann::json;

absl::StatusOr<ReferenceDistributions> ReferenceDistributions::Build(
    const FeatureSchema& schema, absl::Span<const float> rows,
    const ReferenceOptions& options) {
  const size_t n_features = static_cast<size_t>(schema.num_features());
  if (n_features == 0 || rows.size() % n_features != 0) {
    return absl::InvalidArgumentError(absl::StrCat("reference: ", rows.size(),
                                                   " values are not rows of ",
                                                   n_features, " features"));
  }
  if (options.numeric_bins < 1 || options.max_categories < 0) {
    return absl::InvalidArgumentError(
        "reference: numeric_bins must be >= 1 and "
        "max_categories >= 0");
  }
  ReferenceDistributions ref;
  const size_t n_rows = rows.size() / n_features;
  ref.sample_rows_ = static_cast<int64_t>(n_rows);
  std::vector<float> column(n_rows);
  for (size_t f = 0; f < n_features; ++f) {
    for (size_t r = 0; r < n_rows; ++r) column[r] = rows[r * n_features + f];
    const FeatureInfo& info = schema.features[f];
    ref.names_.push_back(info.name);
    ref.monitored_.push_back(!info.follows_calendar);
    if (info.kind == FeatureKind::kCategorical) {
      ref.bins_.push_back(Binning::Categorical(
          column, info.vocab_size, info.categories, options.max_categories));
    } else {
      ref.bins_.push_back(Binning::Numeric(column, options.numeric_bins));
    }
  }
  return ref;
}

int ReferenceDistributions::num_monitored() const {
  int n = 0;
  for (bool m : monitored_) n += m ? 1 : 0;
  return n;
}

absl::Status ReferenceDistributions::CheckMatches(
    const std::vector<std::string>& feature_names) const {
  if (feature_names.size() != names_.size()) {
    return absl::FailedPreconditionError(
        absl::StrCat("reference has ", names_.size(),
                     " features, the featurizer ", feature_names.size()));
  }
  for (size_t f = 0; f < names_.size(); ++f) {
    if (names_[f] != feature_names[f]) {
      return absl::FailedPreconditionError(
          absl::StrCat("reference feature ", f, " is \"", names_[f],
                       "\", the featurizer's \"", feature_names[f], "\""));
    }
  }
  return absl::OkStatus();
}

json ReferenceDistributions::ToJson() const {
  json features = json::array();
  for (size_t f = 0; f < names_.size(); ++f) {
    json j = bins_[f].ToJson();
    j["name"] = names_[f];
    j["monitored"] = static_cast<bool>(monitored_[f]);
    features.push_back(std::move(j));
  }
  return json{{"sample_rows", sample_rows_}, {"features", std::move(features)}};
}

absl::StatusOr<ReferenceDistributions> ReferenceDistributions::FromJson(
    const json& j) {
  auto rows = j.is_object() ? j.find("sample_rows") : j.end();
  auto features = j.is_object() ? j.find("features") : j.end();
  if (!j.is_object() || rows == j.end() || !rows->is_number_integer() ||
      features == j.end() || !features->is_array()) {
    return absl::InvalidArgumentError(
        "reference: needs \"sample_rows\" and a \"features\" array");
  }
  ReferenceDistributions ref;
  ref.sample_rows_ = rows->get<int64_t>();
  for (size_t f = 0; f < features->size(); ++f) {
    const json& entry = (*features)[f];
    auto name = entry.is_object() ? entry.find("name") : entry.end();
    if (name == entry.end() || !name->is_string()) {
      return absl::InvalidArgumentError(
          absl::StrCat("reference feature ", f, ": no name"));
    }
    auto monitored = entry.find("monitored");
    if (monitored != entry.end() && !monitored->is_boolean()) {
      return absl::InvalidArgumentError(
          absl::StrCat("reference feature \"", name->get<std::string>(),
                       "\": \"monitored\" must be true or false"));
    }
    absl::StatusOr<Binning> bins = Binning::FromJson(entry);
    if (!bins.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("reference feature \"", name->get<std::string>(),
                       "\": ", bins.status().message()));
    }
    ref.names_.push_back(name->get<std::string>());
    ref.bins_.push_back(*std::move(bins));
    ref.monitored_.push_back(monitored == entry.end() ||
                             monitored->get<bool>());
  }
  return ref;
}

PredictionReference::PredictionReference()
    : labels_(kNumProducts),
      shares_(kNumProducts, 0.0),
      score_binning_(Binning::Numeric({}, 1)) {
  for (int p = 0; p < kNumProducts; ++p)
    labels_[p] = std::string(kProducts[p].column);
}

absl::StatusOr<PredictionReference> PredictionReference::Build(
    absl::Span<const int> top1_products, absl::Span<const float> top1_scores,
    int score_bins) {
  if (!top1_scores.empty() && top1_scores.size() != top1_products.size()) {
    return absl::InvalidArgumentError(
        "prediction reference: scores and products differ in length");
  }
  if (score_bins < 1) {
    return absl::InvalidArgumentError(
        "prediction reference: score_bins must be >= 1");
  }
  PredictionReference ref;
  for (int p : top1_products) {
    if (p < 0 || p >= kNumProducts) {
      return absl::InvalidArgumentError(absl::StrCat(
          "prediction reference: product index ", p, " out of range"));
    }
    ref.shares_[p] += 1;
  }
  ref.sample_rows_ = static_cast<int64_t>(top1_products.size());
  if (ref.sample_rows_ > 0) {
    for (double& s : ref.shares_) s /= static_cast<double>(ref.sample_rows_);
  }
  ref.score_binning_ = Binning::Numeric(
      std::vector<float>(top1_scores.begin(), top1_scores.end()), score_bins);
  return ref;
}

double PredictionReference::Psi(
    const std::vector<double>& actual_top1_counts) const {
  return recsys::Psi(actual_top1_counts, shares_);
}

json PredictionReference::ToJson() const {
  return json{{"sample_rows", sample_rows_},
              {"labels", labels_},
              {"shares", shares_},
              {"score", score_binning_.ToJson()}};
}

absl::StatusOr<PredictionReference> PredictionReference::FromJson(
    const json& j) {
  if (!j.is_object())
    return absl::InvalidArgumentError("prediction reference must be an object");
  auto rows = j.find("sample_rows");
  auto shares = j.find("shares");
  auto score = j.find("score");
  if (rows == j.end() || !rows->is_number_integer() || shares == j.end() ||
      !shares->is_array() || shares->size() != kNumProducts ||
      score == j.end()) {
    return absl::InvalidArgumentError(
        absl::StrCat("prediction reference: needs \"sample_rows\", ",
                     kNumProducts, " \"shares\" and \"score\""));
  }
  PredictionReference ref;
  ref.sample_rows_ = rows->get<int64_t>();
  for (int p = 0; p < kNumProducts; ++p) {
    if (!(*shares)[p].is_number()) {
      return absl::InvalidArgumentError(
          "prediction reference: shares must be numbers");
    }
    ref.shares_[p] = (*shares)[p].get<double>();
  }
  absl::StatusOr<Binning> bins = Binning::FromJson(*score);
  if (!bins.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("prediction reference score: ", bins.status().message()));
  }
  ref.score_binning_ = *std::move(bins);
  return ref;
}

}  // namespace recsys
