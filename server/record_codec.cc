#include "server/record_codec.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <variant>

#include "absl/strings/cord.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/raw_columns.h"
#include "common/status_macros.h"

namespace recsys {
namespace {

constexpr absl::string_view kFieldPathPayload =
    "type.googleapis.com/recsys.FieldPath";

// "prefix.field", or the one that is not empty.
std::string Join(absl::string_view prefix, absl::string_view field) {
  if (prefix.empty()) return std::string(field);
  if (field.empty()) return std::string(prefix);
  return absl::StrCat(prefix, ".", field);
}

// INVALID_ARGUMENT "path: message", with `path` attached as a payload.
absl::Status FieldError(absl::string_view path, absl::string_view message) {
  absl::Status status =
      absl::InvalidArgumentError(absl::StrCat(path, ": ", message));
  status.SetPayload(kFieldPathPayload, absl::Cord(path));
  return status;
}

std::string Quote(absl::string_view text) {
  return absl::StrCat("\"", absl::Utf8SafeCEscape(text), "\"");
}

// A string field: the rule of the column's file cell (ParseColumnText), so
// that "NA", padding, "1.00" or "6/28/2016" mean what they mean in a file.
absl::Status DecodeField(const RawColumn& column, bool has,
                         const std::string& text, absl::string_view path,
                         RawRecord* r) {
  if (!has) return absl::OkStatus();
  const absl::string_view reason = ParseColumnText(column, text, r);
  if (reason.empty()) return absl::OkStatus();
  return FieldError(Join(path, column.name),
                    absl::StrCat(reason, ", got ", Quote(text)));
}

// "must be between 0 and 150" / "must be 1 or 99" for an ApiIntRule.
std::string ApiRuleText(const ApiIntRule& rule) {
  if (rule.ends_only) return absl::StrCat("must be ", rule.lo, " or ", rule.hi);
  std::string text =
      absl::StrCat("must be between ", rule.lo, " and ", rule.hi);
  if (rule.unknown_marker) {
    absl::StrAppend(&text, " (or ", kUnknownSeniority, " for unknown)");
  }
  return text;
}

bool Accepts(const ApiIntRule& rule, int64_t value) {
  if (!rule.checked) return true;
  if (rule.unknown_marker && value == kUnknownSeniority) return true;
  if (rule.ends_only) return value == rule.lo || value == rule.hi;
  return value >= rule.lo && value <= rule.hi;
}

// An integer field: the column's API rule (RECSYS_DEMOGRAPHIC_COLUMNS).
absl::Status DecodeField(const RawColumn& column, bool has, int32_t value,
                         absl::string_view path, RawRecord* r) {
  if (!has) return absl::OkStatus();
  if (!Accepts(column.api, value)) {
    return FieldError(Join(path, column.name),
                      absl::StrCat(ApiRuleText(column.api), ", got ", value));
  }
  (r->*std::get<IntField RawRecord::*>(column.member)).Set(value);
  return absl::OkStatus();
}

// A number field (renta): finite and not negative.
absl::Status DecodeField(const RawColumn& column, bool has, double value,
                         absl::string_view path, RawRecord* r) {
  if (!has) return absl::OkStatus();
  if (!std::isfinite(value) || value < 0) {
    return FieldError(
        Join(path, column.name),
        absl::StrCat("must be a finite amount >= 0, got ", value));
  }
  (r->*std::get<DoubleField RawRecord::*>(column.member)).Set(value);
  return absl::OkStatus();
}

// A field without presence (ncodpers, the customer key): required, positive.
absl::Status DecodeRequiredKey(const RawColumn& column, int64_t value,
                               absl::string_view path, RawRecord* r) {
  if (value <= 0) {
    return FieldError(Join(path, column.name),
                      absl::StrCat("required, must be a positive customer "
                                   "code, got ",
                                   value));
  }
  (r->*std::get<IntField RawRecord::*>(column.member)).Set(value);
  return absl::OkStatus();
}

absl::StatusOr<DecodedRequest> DecodeParts(
    bool has_customer, const v1::CustomerRecord& customer,
    const google::protobuf::RepeatedPtrField<v1::MonthProducts>& history,
    int k) {
  if (!has_customer) return FieldError("customer", "required, got nothing");
  DecodedRequest decoded;
  RECSYS_ASSIGN_OR_RETURN(decoded.record, DecodeCustomer(customer));
  if (!history.empty()) {
    RECSYS_ASSIGN_OR_RETURN(decoded.history, DecodeHistory(history));
  }
  decoded.k = k;
  return decoded;
}

}  // namespace

absl::StatusOr<RawRecord> DecodeCustomer(const v1::CustomerRecord& c,
                                         absl::string_view path) {
  RawRecord r;
  // Every column in file order, each by its CustomerRecord field of the same
  // name; a field without presence is the required customer key. (The lambda
  // makes `message` dependent, so that `if constexpr` can ask for has_X().)
  auto decode = [&](const auto& message) -> absl::Status {
#define RECSYS_DECODE_COLUMN(name, Id, ...)                                   \
  if constexpr (requires { message.has_##name(); }) {                         \
    RECSYS_RETURN_IF_ERROR(DecodeField(                                       \
        kRawColumns[k##Id], message.has_##name(), message.name(), path, &r)); \
  } else {                                                                    \
    RECSYS_RETURN_IF_ERROR(                                                   \
        DecodeRequiredKey(kRawColumns[k##Id], message.name(), path, &r));     \
  }
    RECSYS_DEMOGRAPHIC_COLUMNS(RECSYS_DECODE_COLUMN)
#undef RECSYS_DECODE_COLUMN
    return absl::OkStatus();
  };
  RECSYS_RETURN_IF_ERROR(decode(c));
  return r;
}

absl::StatusOr<ExplicitHistory> DecodeHistory(
    const google::protobuf::RepeatedPtrField<v1::MonthProducts>& history,
    absl::string_view path) {
  ExplicitHistory decoded;
  decoded.reserve(history.size());
  for (int i = 0; i < history.size(); ++i) {
    const v1::MonthProducts& month = history[i];
    ProductMask owned = 0;
    for (int p = 0; p < month.products_size(); ++p) {
      const std::string& name = month.products(p);
      std::optional<int> product =
          FindProduct(absl::StripAsciiWhitespace(name));
      if (!product.has_value()) {
        return FieldError(
            absl::StrCat(path, "[", i, "].products[", p, "]"),
            absl::StrCat("not a product (a Kaggle column such as "
                         "ind_cco_fin_ult1 or an English name such as "
                         "current_accounts), got ",
                         Quote(name)));
      }
      owned |= ProductBit(*product);
    }
    decoded.emplace_back(month.months_ago(), owned);
  }
  if (std::optional<ExplicitHistoryError> e = CheckExplicitHistory(decoded)) {
    std::string message = e->message;
    if (e->other_entry >= 0) {
      absl::StrAppend(&message, " (also in ", path, "[", e->other_entry, "])");
    }
    return FieldError(absl::StrCat(path, "[", e->entry, "].", e->field),
                      absl::StrCat(message, ", got ", e->value));
  }
  std::sort(decoded.begin(), decoded.end());
  return decoded;
}

absl::StatusOr<int> DecodeTopK(int32_t k) {
  if (k == 0) return kDefaultTopK;
  if (k < 0 || k > kMaxTopK) {
    return FieldError("k", absl::StrCat("must be between 1 and ", kMaxTopK,
                                        " (0 = ", kDefaultTopK, "), got ", k));
  }
  return static_cast<int>(k);
}

absl::StatusOr<int> DecodeExplainFeatures(int32_t explain_features) {
  if (explain_features == 0) return kDefaultExplainFeatures;
  if (explain_features < 0 || explain_features > kMaxExplainFeatures) {
    return FieldError(
        "explain_features",
        absl::StrCat("must be between 1 and ", kMaxExplainFeatures, " (0 = ",
                     kDefaultExplainFeatures, "), got ", explain_features));
  }
  return static_cast<int>(explain_features);
}

absl::StatusOr<DecodedRequest> DecodeRecommendRequest(
    const v1::RecommendRequest& request) {
  RECSYS_ASSIGN_OR_RETURN(int k, DecodeTopK(request.k()));
  RECSYS_ASSIGN_OR_RETURN(int explain_features,
                          DecodeExplainFeatures(request.explain_features()));
  RECSYS_ASSIGN_OR_RETURN(
      DecodedRequest decoded,
      DecodeParts(request.has_customer(), request.customer(), request.history(),
                  k));
  decoded.explain = request.explain();
  decoded.explain_features = explain_features;
  return decoded;
}

absl::StatusOr<DecodedRequest> DecodeScoreRow(const v1::ScoreRow& row, int k) {
  return DecodeParts(row.has_customer(), row.customer(), row.history(), k);
}

std::string FieldPathOf(const absl::Status& status) {
  auto payload = status.GetPayload(kFieldPathPayload);
  return payload.has_value() ? std::string(*payload) : std::string();
}

}  // namespace recsys
