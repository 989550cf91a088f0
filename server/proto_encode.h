// Encoding of the library's results into API messages, on the server side:
// rankings, model descriptions, version states and times.
//
//   EncodeTop(row_score.top, response.mutable_recommendations());
//   RECSYS_ASSIGN_OR_RETURN(v1::ModelInfo info,
//                           EncodeModelInfo(DescribeVersion(*model)));
//
// Months: the manifest writes months as "YYYY-MM"; the API gives dates
// "YYYY-MM-28" (the files' snapshot day).
//
// Pure functions; thread-safe.
#ifndef RECSYS_SERVER_PROTO_ENCODE_H_
#define RECSYS_SERVER_PROTO_ENCODE_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/ranking.h"
#include "common/raw_record.h"
#include "model_store/model_store.h"
#include "model_store/scorer.h"
#include "proto/api.h"

namespace recsys {

// Appends the ranked products of `top` (rank 1 first) to `out`.
void EncodeTop(const TopKResult& top,
               google::protobuf::RepeatedPtrField<v1::Recommendation>* out);

v1::HistorySource EncodeHistorySource(HistorySourceKind kind);

// "YYYY-MM-28" for a month index (Date::MonthIndex).
std::string MonthDate(int month_index);

// The date a row was scored for: its fecha_dato as given, else
// MonthDate(target_month).
std::string ScoredDate(const RawRecord& record, int target_month);

// Fills the fields that RecommendResponse and RowRecommendations share from
// `row`, the score of `record` (REQUIRES: row.status is OK).
template <typename Answer>
void EncodeScoredRow(const RawRecord& record, const RowScore& row,
                     Answer* out) {
  EncodeTop(row.top, out->mutable_recommendations());
  out->set_history_found(row.history != HistorySourceKind::kNotFound);
  out->set_history_source(EncodeHistorySource(row.history));
  out->set_fecha_dato(ScoredDate(record, row.target_month));
}

// The request field a row the scorer did not score is about
// ("customer.fecha_dato"), or "" when it names none.
std::string RowScoreFieldPath(const RowScore& row);

// Why a row was not scored, as the API says it: row.status with its message
// prefixed by the field path ("customer.fecha_dato: fecha_dato 2015-03 is
// before ..."). OK for a scored row.
absl::Status RowScoreStatus(const RowScore& row);

// Fills `*error` with `status` (not OK) and the field path it is about.
void EncodeRowError(const absl::Status& status, absl::string_view field_path,
                    v1::RowError* error);

// An absl::Time as a Timestamp; unset (nullopt-like: a default Timestamp) is
// never produced, callers skip absl::InfinitePast() themselves.
google::protobuf::Timestamp EncodeTime(absl::Time time);

// The ModelInfo of a version (load_time unset when it is not loaded;
// predictor and predictor_note as described). INVALID_ARGUMENT when the
// manifest holds a month this server cannot read.
absl::StatusOr<v1::ModelInfo> EncodeModelInfo(
    const VersionDescription& description);

v1::VersionState EncodeVersionState(VersionState state);
v1::VersionInfo EncodeVersionInfo(const VersionStatus& status);

// A version number given in a request field (e.g. PinRequest.version):
// INVALID_ARGUMENT "<field>: must be a positive integer, got \"x\"".
absl::StatusOr<int64_t> ParseVersionField(absl::string_view field,
                                          absl::string_view text);

}  // namespace recsys

#endif  // RECSYS_SERVER_PROTO_ENCODE_H_
