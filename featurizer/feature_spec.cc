#include "featurizer/feature_spec.h"

#include <algorithm>
#include <set>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/file_util.h"
#include "common/raw_columns.h"
#include "common/status_macros.h"
#include "common/fnv.h"
#include "featurizer/history_view.h"

namespace recsys {
namespace {

using nlohmann::json;

constexpr absl::string_view kKindNames[] = {"numeric", "categorical", "date",
                                            "product_lags", "history"};
constexpr absl::string_view kHistoryNames[] = {
    "products_last_month", "additions", "drops", "months_since_first_seen"};

absl::Status EntryError(size_t index, absl::string_view message) {
  return absl::InvalidArgumentError(
      absl::StrCat("features[", index, "]: ", message));
}

// Reads the string member `key` of `obj`.
absl::StatusOr<std::string> GetString(const json& obj, size_t index,
                                      const char* key) {
  auto it = obj.find(key);
  if (it == obj.end())
    return EntryError(index, absl::StrCat("missing \"", key, "\""));
  if (!it->is_string()) {
    return EntryError(index, absl::StrCat("\"", key, "\" must be a string"));
  }
  return it->get<std::string>();
}

// Reads the integer member `key` of `obj` (or `fallback` when absent) and
// checks lo <= value <= hi.
absl::StatusOr<int64_t> GetInt(const json& obj, size_t index, const char* key,
                               int64_t fallback, int64_t lo, int64_t hi) {
  auto it = obj.find(key);
  if (it == obj.end()) return fallback;
  if (!it->is_number_integer()) {
    return EntryError(index, absl::StrCat("\"", key, "\" must be an integer"));
  }
  if (it->is_number_unsigned() &&
      it->get<uint64_t>() > static_cast<uint64_t>(hi)) {
    return EntryError(index,
                      absl::StrCat("\"", key, "\" must be in ", lo, "..", hi));
  }
  const int64_t v = it->get<int64_t>();
  if (v < lo || v > hi) {
    return EntryError(index, absl::StrCat("\"", key, "\" must be in ", lo, "..",
                                          hi, ", not ", v));
  }
  return v;
}

// Rejects members of `obj` other than `allowed`.
absl::Status CheckKeys(const json& obj, size_t index,
                       std::initializer_list<absl::string_view> allowed) {
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    if (std::find(allowed.begin(), allowed.end(), it.key()) == allowed.end()) {
      return EntryError(index, absl::StrCat("unknown key \"", it.key(), "\""));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<FeatureEntry> ParseEntry(const json& obj, size_t i) {
  if (!obj.is_object()) return EntryError(i, "must be an object");
  RECSYS_ASSIGN_OR_RETURN(std::string kind, GetString(obj, i, "kind"));
  FeatureEntry e;
  if (kind == "numeric" || kind == "categorical") {
    const bool numeric = kind == "numeric";
    e.kind = numeric ? FeatureKind::kNumeric : FeatureKind::kCategorical;
    RECSYS_RETURN_IF_ERROR(
        numeric ? CheckKeys(obj, i, {"kind", "column"})
                : CheckKeys(obj, i, {"kind", "column", "min_count"}));
    RECSYS_ASSIGN_OR_RETURN(std::string column, GetString(obj, i, "column"));
    std::optional<int> id = FindRawColumn(column);
    if (!id || (numeric ? !IsNumericColumn(*id) : !IsCategoricalColumn(*id))) {
      return EntryError(
          i, absl::StrCat("\"", column, "\" is not a ", kind, " column"));
    }
    e.column = *id;
    if (!numeric) {
      RECSYS_ASSIGN_OR_RETURN(
          e.min_count,
          GetInt(obj, i, "min_count", kDefaultMinCount, 1, int64_t{1} << 40));
    }
  } else if (kind == "date") {
    e.kind = FeatureKind::kDate;
    RECSYS_RETURN_IF_ERROR(CheckKeys(obj, i, {"kind", "feature"}));
    RECSYS_ASSIGN_OR_RETURN(std::string feature, GetString(obj, i, "feature"));
    std::optional<DateFeature> date = FindDateFeature(feature);
    if (!date)
      return EntryError(i,
                        absl::StrCat("unknown date feature \"", feature, "\""));
    e.date = *date;
  } else if (kind == "product_lags") {
    e.kind = FeatureKind::kProductLags;
    RECSYS_RETURN_IF_ERROR(CheckKeys(obj, i, {"kind", "lags"}));
    RECSYS_ASSIGN_OR_RETURN(
        e.lags, GetInt(obj, i, "lags", kDefaultLags, 1, kMaxHistoryMonths));
    e.num_features = kNumProducts * e.lags;
  } else if (kind == "history") {
    e.kind = FeatureKind::kHistory;
    RECSYS_ASSIGN_OR_RETURN(std::string feature, GetString(obj, i, "feature"));
    auto* found =
        std::find(std::begin(kHistoryNames), std::end(kHistoryNames), feature);
    if (found == std::end(kHistoryNames)) {
      return EntryError(
          i, absl::StrCat("unknown history feature \"", feature, "\""));
    }
    e.history = static_cast<HistoryFeature>(found - std::begin(kHistoryNames));
    const bool windowed = e.history == HistoryFeature::kAdditions ||
                          e.history == HistoryFeature::kDrops;
    RECSYS_RETURN_IF_ERROR(
        windowed ? CheckKeys(obj, i, {"kind", "feature", "window"})
                 : CheckKeys(obj, i, {"kind", "feature"}));
    if (windowed) {
      RECSYS_ASSIGN_OR_RETURN(e.window, GetInt(obj, i, "window", kDefaultWindow,
                                               1, kMaxHistoryMonths - 1));
    }
  } else {
    return EntryError(i, absl::StrCat("unknown feature kind \"", kind, "\""));
  }
  return e;
}

json EntryToJson(const FeatureEntry& e) {
  json j = {{"kind", std::string(FeatureKindName(e.kind))}};
  switch (e.kind) {
    case FeatureKind::kNumeric:
      j["column"] = std::string(RawColumnName(e.column));
      break;
    case FeatureKind::kCategorical:
      j["column"] = std::string(RawColumnName(e.column));
      j["min_count"] = e.min_count;
      break;
    case FeatureKind::kDate:
      j["feature"] = std::string(DateFeatureName(e.date));
      break;
    case FeatureKind::kProductLags:
      j["lags"] = e.lags;
      break;
    case FeatureKind::kHistory:
      j["feature"] = std::string(HistoryFeatureName(e.history));
      if (e.history == HistoryFeature::kAdditions ||
          e.history == HistoryFeature::kDrops) {
        j["window"] = e.window;
      }
      break;
  }
  return j;
}

// Appends the names of the features `e` produces.
void AppendNames(const FeatureEntry& e, std::vector<std::string>* names) {
  switch (e.kind) {
    case FeatureKind::kNumeric:
    case FeatureKind::kCategorical:
      names->emplace_back(RawColumnName(e.column));
      return;
    case FeatureKind::kDate:
      names->emplace_back(DateFeatureName(e.date));
      return;
    case FeatureKind::kProductLags:
      for (int lag = 1; lag <= e.lags; ++lag) {
        for (int p = 0; p < kNumProducts; ++p) {
          names->push_back(absl::StrCat(kProducts[p].column, "_lag", lag));
        }
      }
      return;
    case FeatureKind::kHistory:
      if (e.history == HistoryFeature::kAdditions ||
          e.history == HistoryFeature::kDrops) {
        names->push_back(
            absl::StrCat(HistoryFeatureName(e.history), "_", e.window, "m"));
      } else {
        names->emplace_back(HistoryFeatureName(e.history));
      }
      return;
  }
}

// The months of history entry `e` needs.
int HistoryMonths(const FeatureEntry& e) {
  if (e.kind == FeatureKind::kProductLags) return e.lags;
  if (e.kind != FeatureKind::kHistory) return 0;
  switch (e.history) {
    case HistoryFeature::kProductsLastMonth:
      return 1;
    case HistoryFeature::kAdditions:
    case HistoryFeature::kDrops:
      return e.window + 1;
    case HistoryFeature::kMonthsSinceFirstSeen:
      return 0;
  }
  return 0;
}

}  // namespace

absl::string_view FeatureKindName(FeatureKind kind) {
  return kKindNames[static_cast<int>(kind)];
}

absl::string_view HistoryFeatureName(HistoryFeature feature) {
  return kHistoryNames[static_cast<int>(feature)];
}

absl::StatusOr<FeatureSpec> FeatureSpec::FromJson(const json& j) {
  if (!j.is_object())
    return absl::InvalidArgumentError("feature spec must be an object");
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it.key() != "format_version" && it.key() != "description" &&
        it.key() != "features") {
      return absl::InvalidArgumentError(
          absl::StrCat("feature spec: unknown key \"", it.key(), "\""));
    }
  }
  FeatureSpec spec;
  if (auto it = j.find("format_version"); it != j.end()) {
    if (!it->is_number_integer() ||
        it->get<int64_t>() != kFeatureSpecFormatVersion) {
      return absl::InvalidArgumentError(
          absl::StrCat("feature spec: unsupported format_version ",
                       it->dump(-1, ' ', false, json::error_handler_t::replace),
                       " (this build reads ", kFeatureSpecFormatVersion, ")"));
    }
  }
  if (auto it = j.find("description"); it != j.end()) {
    if (!it->is_string()) {
      return absl::InvalidArgumentError(
          "feature spec: \"description\" must be a string");
    }
    spec.description_ = it->get<std::string>();
  }
  auto features = j.find("features");
  if (features == j.end() || !features->is_array() || features->empty()) {
    return absl::InvalidArgumentError(
        "feature spec: \"features\" must be a non-empty array");
  }
  std::set<std::string> seen;
  for (size_t i = 0; i < features->size(); ++i) {
    RECSYS_ASSIGN_OR_RETURN(FeatureEntry e, ParseEntry((*features)[i], i));
    e.first_feature = static_cast<int>(spec.names_.size());
    AppendNames(e, &spec.names_);
    for (size_t n = e.first_feature; n < spec.names_.size(); ++n) {
      if (!seen.insert(spec.names_[n]).second) {
        return EntryError(
            i, absl::StrCat("duplicate feature \"", spec.names_[n], "\""));
      }
    }
    spec.required_history_months_ =
        std::max(spec.required_history_months_, HistoryMonths(e));
    spec.entries_.push_back(e);
  }
  return spec;
}

json FeatureSpec::ToJson() const {
  json features = json::array();
  for (const FeatureEntry& e : entries_) features.push_back(EntryToJson(e));
  json j = {{"format_version", kFeatureSpecFormatVersion},
            {"features", features}};
  if (!description_.empty()) j["description"] = description_;
  return j;
}

std::string FeatureSpec::SpecHash() const {
  json hashed = ToJson();
  hashed.erase("description");
  const std::string canonical =
      hashed.dump(-1, ' ', false, json::error_handler_t::replace);
  return absl::StrFormat("%016x", Fnv1a64(canonical));
}

std::vector<const FeatureEntry*> FeatureSpec::categorical_entries() const {
  std::vector<const FeatureEntry*> out;
  for (const FeatureEntry& e : entries_) {
    if (e.kind == FeatureKind::kCategorical) out.push_back(&e);
  }
  return out;
}

absl::StatusOr<FeatureSpec> ParseFeatureSpec(absl::string_view json_text) {
  json j;
  try {  // nlohmann reports the position only through its exception.
    j = json::parse(json_text.begin(), json_text.end());
  } catch (const json::parse_error& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("feature spec: malformed JSON: ", e.what()));
  }
  return FeatureSpec::FromJson(j);
}

absl::StatusOr<FeatureSpec> LoadFeatureSpec(const std::string& path) {
  RECSYS_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  absl::StatusOr<FeatureSpec> spec = ParseFeatureSpec(text);
  if (!spec.ok()) {
    return absl::Status(spec.status().code(),
                        absl::StrCat(path, ": ", spec.status().message()));
  }
  return spec;
}

int FeatureEntryRawColumn(const FeatureEntry& entry) {
  switch (entry.kind) {
    case FeatureKind::kNumeric:
    case FeatureKind::kCategorical:
      return entry.column;
    case FeatureKind::kDate:
      return DateFeatureColumn(entry.date);
    case FeatureKind::kProductLags:
    case FeatureKind::kHistory:
      return -1;
  }
  return -1;
}

}  // namespace recsys
