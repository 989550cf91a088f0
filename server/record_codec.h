// Decoding of API messages into the library's types, with validation.
//
// The server turns every CustomerRecord it receives into a recsys::RawRecord
// (the same typed record the CSV reader produces, so that the featurizer sees
// one kind of input offline and online), and an explicit product history into
// (months_ago, ProductMask) pairs.
//
//   absl::StatusOr<DecodedRequest> decoded = DecodeRecommendRequest(request);
//   if (!decoded.ok()) return ToGrpcStatus(decoded.status());
//   Score(decoded->record, decoded->history, decoded->k);
//
// Errors are INVALID_ARGUMENT with a message that names the field path and the
// value, e.g. "customer.age: must be between 0 and 150, got -3", and carry the
// path as a payload (see FieldPathOf) for RowError.field_path.
//
// A string field means what the same text means in a raw file: it is read by
// ParseColumnText (common/raw_columns.h), the function the row parser uses,
// so "NA", "" and padding are missing, "1.00" is indrel_1mes 1 and
// "6/28/2016" is a date, exactly as in training (checked by
// record_codec_differential_test.cc). Integer and double fields are typed;
// their ranges are the ApiIntRule of each column in the same table.
//
// What is an error and what is left to the featurizer's cleaning:
//   Errors (the value cannot be a fact about a customer):
//   - ncodpers unset or <= 0; an unset `customer` message;
//   - text a file cell could not hold either: a date field (fecha_dato,
//     fecha_alta, ult_fec_cli_1t) that is not a date ("YYYY-MM-DD" or
//     "M/D/YYYY", years 1900..2100), an indrel_1mes not one of 1 2 3 4 P
//     ("1.0", "1.00" ... accepted), text that is not UTF-8;
//   - age outside 0..150; antiguedad outside 0..1200 other than -999999;
//     ind_nuevo and ind_actividad_cliente other than 0/1; indrel other than
//     1/99; cod_prov outside 1..52; tipodom < 0; renta negative, NaN or
//     infinite (each of these cleans to missing in a file too);
//   - k outside 0..24 (0 = the default 7); explain_features outside 0..64
//     (0 = the default 5);
//   - history: months_ago outside 1..12, a month given twice, a product name
//     that is neither a Kaggle column nor an English product name (the month
//     rules are CheckExplicitHistory's, featurizer/history_view.h).
//   Passed through for cleaning (what the raw files also contain):
//   - unset fields, and text fields that are "", "NA" or only spaces:
//     missing, exactly as in a file;
//   - antiguedad -999999 (the files' unknown marker);
//   - categorical codes outside the known sets (a sexo "X", a new channel):
//     the featurizer encodes them as "unseen" and counts them;
//   - combinations that are odd but possible (fecha_alta after fecha_dato,
//     a province code that does not match nomprov).
//   Text is trimmed of surrounding spaces and tabs and otherwise kept verbatim.
//   RawRecord::line is 0 and has_products false in decoded records.
#ifndef RECSYS_SERVER_RECORD_CODEC_H_
#define RECSYS_SERVER_RECORD_CODEC_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/products.h"
#include "common/raw_record.h"
#include "featurizer/history_view.h"  // kMaxHistoryMonths
#include "proto/api.h"

namespace recsys {

inline constexpr int kDefaultTopK = 7;
inline constexpr int kMaxTopK = kNumProducts;
// Features an explanation lists (RecommendRequest.explain_features): 0 means
// kDefaultExplainFeatures, else 1..kMaxExplainFeatures.
inline constexpr int kDefaultExplainFeatures = 5;
inline constexpr int kMaxExplainFeatures = 64;

// A product history given in a request: (months_ago, products owned that
// month), sorted by months_ago ascending (1 = last month first), each month
// at most once. Months not listed are months the customer did not exist.
using ExplicitHistory = std::vector<std::pair<int /*months_ago*/, ProductMask>>;

// One customer to score, decoded.
struct DecodedRequest {
  RawRecord record;
  // Set when the request carried a non-empty history (it then takes precedence
  // over the product-history store); nullopt means "look the customer up".
  std::optional<ExplicitHistory> history;
  int k = kDefaultTopK;  // 1..24
  // RecommendRequest.explain: also explain each recommended product.
  bool explain = false;
  int explain_features = kDefaultExplainFeatures;  // 1..64
};

// Decodes `customer` into a RawRecord (unset fields missing). `path` prefixes
// field names in messages ("customer" -> "customer.age"). Returns
// INVALID_ARGUMENT naming the first bad field (see the file comment).
absl::StatusOr<RawRecord> DecodeCustomer(const v1::CustomerRecord& customer,
                                         absl::string_view path = "customer");

// Decodes an explicit history. An empty `history` gives an empty vector.
// Returns INVALID_ARGUMENT naming e.g. "history[1].products[0]" and the value.
absl::StatusOr<ExplicitHistory> DecodeHistory(
    const google::protobuf::RepeatedPtrField<v1::MonthProducts>& history,
    absl::string_view path = "history");

// Returns the number of products to return for the request field `k`
// (0 -> 7), or INVALID_ARGUMENT "k: must be between 1 and 24 (0 = 7), got 30".
absl::StatusOr<int> DecodeTopK(int32_t k);

// Returns the number of features an explanation lists for the request field
// `explain_features` (0 -> 5), or INVALID_ARGUMENT
// "explain_features: must be between 1 and 64 (0 = 5), got 65".
absl::StatusOr<int> DecodeExplainFeatures(int32_t explain_features);

// Decodes a whole unary request: customer (required), history, k, explain
// and explain_features (checked whether or not explain is set).
absl::StatusOr<DecodedRequest> DecodeRecommendRequest(
    const v1::RecommendRequest& request);

// Decodes one row of a RecommendStream message; `k` is the message's already
// decoded k (see DecodeTopK). Field paths are relative to the row
// ("customer.age", "history[0].months_ago").
absl::StatusOr<DecodedRequest> DecodeScoreRow(const v1::ScoreRow& row, int k);

// The field path attached to an error returned by this file (e.g.
// "customer.age"), or "" when `status` carries none.
std::string FieldPathOf(const absl::Status& status);

}  // namespace recsys

#endif  // RECSYS_SERVER_RECORD_CODEC_H_
