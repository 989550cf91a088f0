// Featurizer: turns a RawRecord and the customer's HistoryView into the model's
// feature vector, as declared by a FeatureSpec with learned Vocabularies. The
// training pipeline and the server call this same function.
//
//   RECSYS_ASSIGN_OR_RETURN(std::unique_ptr<const Featurizer> featurizer,
//                           Featurizer::Create(spec, vocabularies));
//   std::vector<float> row(featurizer->num_features());
//   featurizer->Featurize(record, history_view, row.data());
//
//   // Counting missing values and unknown categories per feature (server):
//   const FeatureSchema& schema = featurizer->schema();
//   for (int f = 0; f < schema.num_features(); ++f) {
//     if (FeatureSchema::IsMissing(row[f])) ++missing[f];
//     else if (schema.IsUnknownCategory(f, row[f])) ++unknown[f];
//   }
//
// Output values: NaN = missing (XGBoost's missing value); a categorical
// feature is its vocabulary code, vocabulary size for an unknown category;
// product lags are 1/0, NaN when the customer was absent that month (or the
// month is beyond the history); see feature_spec.h for each kind.
//
// Thread safety: a Featurizer is immutable after Create(); Featurize() is
// const, allocates nothing and may run on many threads at once.
#ifndef RECSYS_FEATURIZER_FEATURIZER_H_
#define RECSYS_FEATURIZER_FEATURIZER_H_

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/raw_record.h"
#include "featurizer/feature_spec.h"
#include "featurizer/history_view.h"
#include "featurizer/vocabulary.h"

namespace recsys {

// What one output feature is.
struct FeatureInfo {
  std::string name;
  // The kind of the spec entry that produced it.
  FeatureKind kind = FeatureKind::kNumeric;
  // Categorical: known codes are 0..vocab_size-1, vocab_size is "unknown";
  // `categories` are their texts in code order. 0 / empty otherwise.
  int vocab_size = 0;
  std::vector<std::string> categories;
  // Product lags: the product index (kProducts) and the lag; -1 / 0 otherwise.
  int product = -1;
  int lag = 0;
  // The raw column (RawColumnId) the feature comes from, -1 for none
  // (FeatureEntryRawColumn): e.g. kAge for "age", kFechaAlta for
  // "months_since_alta", -1 for product lags and history features.
  int raw_column = -1;
  // True for a feature whose distribution moves with the month scored by
  // construction, whatever the customers do: fecha_dato_month (a constant in
  // any one month) and months_since_first_seen (every customer one month
  // older than in the month before). Drift monitoring skips them
  // (reference.h), because they would show a high PSI in every new month.
  bool follows_calendar = false;
};

// The description of every output feature, in output order.
struct FeatureSchema {
  std::vector<FeatureInfo> features;

  int num_features() const { return static_cast<int>(features.size()); }
  static bool IsMissing(float value) { return std::isnan(value); }
  // True when feature `f` is categorical and `value` is its unknown code.
  bool IsUnknownCategory(int f, float value) const {
    const FeatureInfo& info = features[f];
    return info.kind == FeatureKind::kCategorical &&
           value == static_cast<float>(info.vocab_size);
  }
};

class Featurizer {
 public:
  // Copies `spec` and `vocabularies`. Returns INVALID_ARGUMENT naming the
  // column when a categorical feature of the spec has no vocabulary.
  static absl::StatusOr<std::unique_ptr<const Featurizer>> Create(
      const FeatureSpec& spec, const Vocabularies& vocabularies);

  Featurizer(const Featurizer&) = delete;
  Featurizer& operator=(const Featurizer&) = delete;

  int num_features() const { return spec_.num_features(); }
  const std::vector<std::string>& feature_names() const {
    return spec_.feature_names();
  }
  const FeatureSchema& schema() const { return schema_; }
  const FeatureSpec& spec() const { return spec_; }
  const Vocabularies& vocabularies() const { return vocabularies_; }

  // Writes num_features() floats to out[0..num_features()). `history` is the
  // customer's history before the record's month (HistoryView() for none).
  // REQUIRES: `out` has room for num_features() floats.
  void Featurize(const RawRecord& record, const HistoryView& history,
                 float* out) const;

  // Turns a featurized row into what it would read one month later for a
  // customer whose data did not change: fecha_dato_month advances (12 -> 1),
  // months_since_alta and months_since_first_seen grow by one; missing
  // values stay missing and every other feature is left alone. The trainer
  // uses it to predict the mix of the month after its data (the prediction
  // reference), where the month of year matters: see docs/monitoring.md.
  // REQUIRES: `row` holds num_features() floats.
  void AdvanceOneMonth(float* row) const;

 private:
  // One spec entry compiled for the hot loop.
  struct Op {
    FeatureEntry entry;
    const Vocabulary* vocabulary =
        nullptr;  // categorical; points into vocabularies_
  };

  Featurizer(FeatureSpec spec, Vocabularies vocabularies);

  const FeatureSpec spec_;
  const Vocabularies vocabularies_;
  std::vector<Op> ops_;
  FeatureSchema schema_;
};

}  // namespace recsys

#endif  // RECSYS_FEATURIZER_FEATURIZER_H_
