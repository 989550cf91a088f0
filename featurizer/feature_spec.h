// FeatureSpec: the declared list of model features and their parameters,
// loaded at run time from JSON (config/feature_spec.json by default; the same
// JSON is embedded in every model bundle's manifest).
//
//   {
//     "format_version": 1,
//     "description": "free text, not part of the hash",
//     "features": [
//       {"kind": "numeric", "column": "age"},
//       {"kind": "categorical", "column": "segmento", "min_count": 20},
//       {"kind": "date", "feature": "months_since_alta"},
//       {"kind": "product_lags", "lags": 3},
//       {"kind": "history", "feature": "additions", "window": 3}
//     ]
//   }
//
// Kinds and what each entry produces (feature names in output order):
//   numeric      column (cleaning.h IsNumericColumn)      -> "<column>"
//   categorical  column (IsCategoricalColumn), min_count
//                (default 20): the vocabulary keeps categories seen at
//                least min_count times                     -> "<column>"
//   date         feature (cleaning.h DateFeatureName)      -> "<feature>"
//   product_lags lags N in 1..12 (default 3): ownership of each of the 24
//                products at lags 1..N, 1/0, NaN when the customer was
//                absent that month -> "<product column>_lag<L>", L-major
//   history      feature: "products_last_month" (count at lag 1),
//                "additions" / "drops" (products added / dropped between
//                consecutive present months over the last `window` months,
//                window in 1..11, default 3; NaN when no such pair),
//                "months_since_first_seen" (NaN for a customer not in the
//                history)  -> "products_last_month", "additions_<W>m",
//                "drops_<W>m", "months_since_first_seen"
//
//   RECSYS_ASSIGN_OR_RETURN(FeatureSpec spec,
//                           LoadFeatureSpec("config/feature_spec.json"));
//   manifest["feature_spec"] = spec.ToJson();
//   manifest["feature_spec_hash"] = spec.SpecHash();
//   for (const std::string& name : spec.feature_names()) ...
//
// An immutable value after construction; thread-safe to share.
#ifndef RECSYS_FEATURIZER_FEATURE_SPEC_H_
#define RECSYS_FEATURIZER_FEATURE_SPEC_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "featurizer/cleaning.h"
#include "nlohmann/json.hpp"

namespace recsys {

inline constexpr int kFeatureSpecFormatVersion = 1;
inline constexpr int64_t kDefaultMinCount = 20;
inline constexpr int kDefaultLags = 3;
inline constexpr int kDefaultWindow = 3;

enum class FeatureKind : uint8_t {
  kNumeric,
  kCategorical,
  kDate,
  kProductLags,
  kHistory,
};

enum class HistoryFeature : uint8_t {
  kProductsLastMonth,
  kAdditions,
  kDrops,
  kMonthsSinceFirstSeen,
};

// "numeric", "categorical", "date", "product_lags", "history".
absl::string_view FeatureKindName(FeatureKind kind);
// "products_last_month", "additions", "drops", "months_since_first_seen".
absl::string_view HistoryFeatureName(HistoryFeature feature);

// One entry of the spec's "features" list. Only the fields of its kind mean
// anything.
struct FeatureEntry {
  FeatureKind kind = FeatureKind::kNumeric;
  int column = -1;                                  // numeric, categorical
  int64_t min_count = kDefaultMinCount;             // categorical
  DateFeature date = DateFeature::kFechaDatoMonth;  // date
  int lags = kDefaultLags;                          // product_lags
  HistoryFeature history = HistoryFeature::kProductsLastMonth;  // history
  int window = kDefaultWindow;  // additions, drops
  int first_feature = 0;  // index of its first feature in the output vector
  int num_features = 1;   // 24 * lags for product_lags, else 1
};

// The raw column (RawColumnId) every feature of `entry` comes from, or -1
// for none: the column of a numeric or categorical entry,
// DateFeatureColumn() of a date entry, -1 for product lags and history
// features (computed from the product history).
int FeatureEntryRawColumn(const FeatureEntry& entry);

class FeatureSpec {
 public:
  // Parses and validates a spec. Returns INVALID_ARGUMENT naming the entry
  // (e.g. "features[7]") for an unknown kind, column, feature or key, a
  // parameter of the wrong type or out of range, or a duplicate feature name;
  // also for an unsupported format_version or an empty feature list.
  static absl::StatusOr<FeatureSpec> FromJson(const nlohmann::json& json);

  // The canonical JSON: every parameter written out (defaults included),
  // keys sorted. FromJson(ToJson()) gives an equal spec.
  nlohmann::json ToJson() const;

  // A stable hash of what the spec computes: 16 lowercase hex digits of
  // FNV-1a 64 over the canonical dump of {format_version, features} (the
  // description is not hashed). Key order and omitted defaults in the source
  // JSON do not change it; any parameter change does.
  std::string SpecHash() const;

  const std::vector<FeatureEntry>& entries() const { return entries_; }
  // Feature names in output order.
  const std::vector<std::string>& feature_names() const { return names_; }
  int num_features() const { return static_cast<int>(names_.size()); }
  const std::string& description() const { return description_; }

  // The months of history the features need (max of lags, window + 1 and 1
  // for products_last_month; 0 when no history feature is used). A history
  // source must keep at least this many months.
  int required_history_months() const { return required_history_months_; }

  // The categorical entries, in spec order (their vocabularies are learned).
  std::vector<const FeatureEntry*> categorical_entries() const;

 private:
  FeatureSpec() = default;

  std::string description_;
  std::vector<FeatureEntry> entries_;
  std::vector<std::string> names_;
  int required_history_months_ = 0;
};

// Parses JSON text into a spec. INVALID_ARGUMENT for malformed JSON (with the
// parser's message) or an invalid spec.
absl::StatusOr<FeatureSpec> ParseFeatureSpec(absl::string_view json_text);

// Reads and parses the file at `path`. NOT_FOUND when it cannot be read;
// otherwise as ParseFeatureSpec, with the path in the message.
absl::StatusOr<FeatureSpec> LoadFeatureSpec(const std::string& path);

}  // namespace recsys

#endif  // RECSYS_FEATURIZER_FEATURE_SPEC_H_
