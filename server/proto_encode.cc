#include "server/proto_encode.h"

#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/date.h"
#include "common/products.h"
#include "common/status_macros.h"

namespace recsys {
namespace {

// "YYYY-MM" -> "YYYY-MM-28"; "" stays "".
absl::StatusOr<std::string> ManifestMonthToDate(absl::string_view field,
                                                const std::string& month) {
  if (month.empty()) return std::string();
  absl::StatusOr<int> index = ParseMonthIndex(month);
  if (!index.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "manifest.json: ", field, " is not a YYYY-MM month: \"", month, "\""));
  }
  return DateFromMonthIndex(*index, 28).ToString();
}

}  // namespace

void EncodeTop(const TopKResult& top,
               google::protobuf::RepeatedPtrField<v1::Recommendation>* out) {
  out->Reserve(out->size() + top.size);
  for (int i = 0; i < top.size; ++i) {
    const ScoredProduct& item = top.items[i];
    v1::Recommendation* r = out->Add();
    r->set_product(std::string(kProducts[item.product].column));
    r->set_english_name(std::string(kProducts[item.product].english));
    r->set_score(item.score);
    r->set_rank(i + 1);
  }
}

v1::HistorySource EncodeHistorySource(HistorySourceKind kind) {
  switch (kind) {
    case HistorySourceKind::kRequest:
      return v1::HISTORY_SOURCE_REQUEST;
    case HistorySourceKind::kStore:
      return v1::HISTORY_SOURCE_STORE;
    case HistorySourceKind::kNotFound:
      return v1::HISTORY_SOURCE_NOT_FOUND;
  }
  return v1::HISTORY_SOURCE_UNSPECIFIED;
}

std::string MonthDate(int month_index) {
  return DateFromMonthIndex(month_index, 28).ToString();
}

std::string ScoredDate(const RawRecord& record, int target_month) {
  return record.fecha_dato.present() ? record.fecha_dato.value.ToString()
                                     : MonthDate(target_month);
}

std::string RowScoreFieldPath(const RowScore& row) {
  if (row.status.ok() || row.error_field.empty()) return std::string();
  return absl::StrCat("customer.", row.error_field);
}

absl::Status RowScoreStatus(const RowScore& row) {
  if (row.status.ok() || row.error_field.empty()) return row.status;
  return absl::Status(row.status.code(),
                      absl::StrCat(RowScoreFieldPath(row), ": ",
                                   row.status.message()));
}

void EncodeRowError(const absl::Status& status, absl::string_view field_path,
                    v1::RowError* error) {
  error->set_code(static_cast<int>(status.code()));
  error->set_message(std::string(status.message()));
  error->set_field_path(std::string(field_path));
}

google::protobuf::Timestamp EncodeTime(absl::Time time) {
  google::protobuf::Timestamp out;
  const absl::Duration since_epoch = time - absl::UnixEpoch();
  const int64_t seconds = absl::ToInt64Seconds(since_epoch);
  out.set_seconds(seconds);
  out.set_nanos(static_cast<int32_t>(
      absl::ToInt64Nanoseconds(since_epoch - absl::Seconds(seconds))));
  return out;
}

absl::StatusOr<v1::ModelInfo> EncodeModelInfo(
    const VersionDescription& description) {
  v1::ModelInfo info;
  info.set_name(description.model_name);
  info.set_version(absl::StrCat(description.version));
  info.set_feature_spec_hash(description.feature_spec_hash);
  for (const std::string& month : description.train_months) {
    RECSYS_ASSIGN_OR_RETURN(std::string date,
                            ManifestMonthToDate("train_months", month));
    info.add_training_months(std::move(date));
  }
  RECSYS_ASSIGN_OR_RETURN(
      std::string validation,
      ManifestMonthToDate("metrics.month", description.metrics.month));
  info.set_validation_month(std::move(validation));
  info.mutable_validation_metrics()->set_model_map_at_7(
      description.metrics.model_map7);
  info.mutable_validation_metrics()->set_popularity_map_at_7(
      description.metrics.popularity_map7);
  info.mutable_validation_metrics()->set_ceiling_map_at_7(
      description.metrics.ceiling_map7);
  absl::Time created;
  std::string error;
  if (absl::ParseTime(absl::RFC3339_full, description.created_at, &created,
                      &error)) {
    *info.mutable_created_time() = EncodeTime(created);
  }
  if (description.loaded_at != absl::InfinitePast())
    *info.mutable_load_time() = EncodeTime(description.loaded_at);
  RECSYS_ASSIGN_OR_RETURN(
      std::string history,
      ManifestMonthToDate("history_month", description.history_month));
  info.set_history_month(std::move(history));
  info.set_num_features(description.num_features);
  info.set_predictor(description.predictor);
  info.set_predictor_note(description.predictor_note);
  return info;
}

v1::VersionState EncodeVersionState(VersionState state) {
  switch (state) {
    case VersionState::kLoading:
      return v1::VERSION_STATE_LOADING;
    case VersionState::kReady:
      return v1::VERSION_STATE_READY;
    case VersionState::kServing:
      return v1::VERSION_STATE_SERVING;
    case VersionState::kFailed:
      return v1::VERSION_STATE_FAILED;
    case VersionState::kUnloaded:
      return v1::VERSION_STATE_UNLOADED;
    case VersionState::kChallenger:
      return v1::VERSION_STATE_CHALLENGER;
  }
  return v1::VERSION_STATE_UNSPECIFIED;
}

v1::VersionInfo EncodeVersionInfo(const VersionStatus& status) {
  v1::VersionInfo info;
  info.set_version(absl::StrCat(status.version));
  info.set_state(EncodeVersionState(status.state));
  info.set_reason(status.reason);
  if (status.loaded_at != absl::InfinitePast()) {
    *info.mutable_loaded_time() = EncodeTime(status.loaded_at);
  }
  info.set_pinned(status.pinned);
  return info;
}

absl::StatusOr<int64_t> ParseVersionField(absl::string_view field,
                                          absl::string_view text) {
  int64_t version = 0;
  if (!absl::SimpleAtoi(text, &version) || version <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": must be a positive integer, got \"", text, "\""));
  }
  return version;
}

}  // namespace recsys
