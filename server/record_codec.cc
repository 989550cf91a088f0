#include "server/record_codec.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <initializer_list>

#include "absl/strings/cord.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "common/date.h"
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

void DecodeText(bool has, const std::string& text, TextField* out) {
  if (!has) return;
  absl::string_view trimmed = absl::StripAsciiWhitespace(text);
  if (!trimmed.empty()) out->Set(std::string(trimmed));
}

absl::Status DecodeDate(bool has, const std::string& text,
                        absl::string_view path, absl::string_view field,
                        DateField* out) {
  if (!has) return absl::OkStatus();
  absl::string_view trimmed = absl::StripAsciiWhitespace(text);
  if (trimmed.empty()) return absl::OkStatus();
  absl::StatusOr<Date> date = ParseDate(trimmed);
  if (!date.ok()) {
    return FieldError(
        Join(path, field),
        absl::StrCat("not a date (YYYY-MM-DD), got ", Quote(text)));
  }
  out->Set(*date);
  return absl::OkStatus();
}

absl::Status DecodeIntInRange(bool has, int64_t value, absl::string_view path,
                              absl::string_view field, int64_t lo, int64_t hi,
                              IntField* out) {
  if (!has) return absl::OkStatus();
  if (value < lo || value > hi) {
    return FieldError(
        Join(path, field),
        absl::StrCat("must be between ", lo, " and ", hi, ", got ", value));
  }
  out->Set(value);
  return absl::OkStatus();
}

absl::Status DecodeIntOneOf(bool has, int64_t value, absl::string_view path,
                            absl::string_view field,
                            std::initializer_list<int64_t> allowed,
                            IntField* out) {
  if (!has) return absl::OkStatus();
  if (std::find(allowed.begin(), allowed.end(), value) == allowed.end()) {
    return FieldError(Join(path, field),
                      absl::StrCat("must be ", absl::StrJoin(allowed, " or "),
                                   ", got ", value));
  }
  out->Set(value);
  return absl::OkStatus();
}

// Seniority: 0..1200 months, or the files' unknown marker -999999.
constexpr int64_t kUnknownSeniority = -999999;

absl::Status DecodeAntiguedad(bool has, int64_t value, absl::string_view path,
                              IntField* out) {
  if (!has) return absl::OkStatus();
  if (value != kUnknownSeniority && (value < 0 || value > 1200)) {
    return FieldError(Join(path, "antiguedad"),
                      absl::StrCat("must be between 0 and 1200 (or -999999 "
                                   "for unknown), got ",
                                   value));
  }
  out->Set(value);
  return absl::OkStatus();
}

// "1".."4" (also "1.0".."4.0") or "P".
absl::Status DecodeIndrel1mes(bool has, const std::string& text,
                              absl::string_view path, TextField* out) {
  if (!has) return absl::OkStatus();
  absl::string_view trimmed = absl::StripAsciiWhitespace(text);
  if (trimmed.empty()) return absl::OkStatus();
  absl::string_view code = trimmed;
  absl::ConsumeSuffix(&code, ".0");
  if (trimmed == "P" ||
      (code.size() == 1 && code[0] >= '1' && code[0] <= '4')) {
    out->Set(std::string(trimmed == "P" ? trimmed : code));
    return absl::OkStatus();
  }
  return FieldError(
      Join(path, "indrel_1mes"),
      absl::StrCat("must be one of 1 2 3 4 P, got ", Quote(text)));
}

absl::Status DecodeRenta(bool has, double value, absl::string_view path,
                         DoubleField* out) {
  if (!has) return absl::OkStatus();
  if (!std::isfinite(value) || value < 0) {
    return FieldError(
        Join(path, "renta"),
        absl::StrCat("must be a finite amount >= 0, got ", value));
  }
  out->Set(value);
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
  if (c.ncodpers() <= 0) {
    return FieldError(Join(path, "ncodpers"),
                      absl::StrCat("required, must be a positive customer "
                                   "code, got ",
                                   c.ncodpers()));
  }
  r.ncodpers.Set(c.ncodpers());
  RECSYS_RETURN_IF_ERROR(DecodeDate(c.has_fecha_dato(), c.fecha_dato(), path,
                                    "fecha_dato", &r.fecha_dato));
  DecodeText(c.has_ind_empleado(), c.ind_empleado(), &r.ind_empleado);
  DecodeText(c.has_pais_residencia(), c.pais_residencia(), &r.pais_residencia);
  DecodeText(c.has_sexo(), c.sexo(), &r.sexo);
  RECSYS_RETURN_IF_ERROR(
      DecodeIntInRange(c.has_age(), c.age(), path, "age", 0, 150, &r.age));
  RECSYS_RETURN_IF_ERROR(DecodeDate(c.has_fecha_alta(), c.fecha_alta(), path,
                                    "fecha_alta", &r.fecha_alta));
  RECSYS_RETURN_IF_ERROR(DecodeIntOneOf(c.has_ind_nuevo(), c.ind_nuevo(), path,
                                        "ind_nuevo", {0, 1}, &r.ind_nuevo));
  RECSYS_RETURN_IF_ERROR(DecodeAntiguedad(c.has_antiguedad(), c.antiguedad(),
                                          path, &r.antiguedad));
  RECSYS_RETURN_IF_ERROR(DecodeIntOneOf(c.has_indrel(), c.indrel(), path,
                                        "indrel", {1, 99}, &r.indrel));
  RECSYS_RETURN_IF_ERROR(DecodeDate(c.has_ult_fec_cli_1t(), c.ult_fec_cli_1t(),
                                    path, "ult_fec_cli_1t", &r.ult_fec_cli_1t));
  RECSYS_RETURN_IF_ERROR(DecodeIndrel1mes(c.has_indrel_1mes(), c.indrel_1mes(),
                                          path, &r.indrel_1mes));
  DecodeText(c.has_tiprel_1mes(), c.tiprel_1mes(), &r.tiprel_1mes);
  DecodeText(c.has_indresi(), c.indresi(), &r.indresi);
  DecodeText(c.has_indext(), c.indext(), &r.indext);
  DecodeText(c.has_conyuemp(), c.conyuemp(), &r.conyuemp);
  DecodeText(c.has_canal_entrada(), c.canal_entrada(), &r.canal_entrada);
  DecodeText(c.has_indfall(), c.indfall(), &r.indfall);
  RECSYS_RETURN_IF_ERROR(DecodeIntInRange(c.has_tipodom(), c.tipodom(), path,
                                          "tipodom", 0, INT32_MAX, &r.tipodom));
  RECSYS_RETURN_IF_ERROR(DecodeIntInRange(c.has_cod_prov(), c.cod_prov(), path,
                                          "cod_prov", 1, 52, &r.cod_prov));
  DecodeText(c.has_nomprov(), c.nomprov(), &r.nomprov);
  RECSYS_RETURN_IF_ERROR(DecodeIntOneOf(
      c.has_ind_actividad_cliente(), c.ind_actividad_cliente(), path,
      "ind_actividad_cliente", {0, 1}, &r.ind_actividad_cliente));
  RECSYS_RETURN_IF_ERROR(DecodeRenta(c.has_renta(), c.renta(), path, &r.renta));
  DecodeText(c.has_segmento(), c.segmento(), &r.segmento);
  return r;
}

absl::StatusOr<ExplicitHistory> DecodeHistory(
    const google::protobuf::RepeatedPtrField<v1::MonthProducts>& history,
    absl::string_view path) {
  ExplicitHistory decoded;
  decoded.reserve(history.size());
  int entry_of_month[kMaxHistoryMonths + 1];
  std::fill(std::begin(entry_of_month), std::end(entry_of_month), -1);
  for (int i = 0; i < history.size(); ++i) {
    const v1::MonthProducts& month = history[i];
    const int months_ago = month.months_ago();
    if (months_ago < 1 || months_ago > kMaxHistoryMonths) {
      return FieldError(absl::StrCat(path, "[", i, "].months_ago"),
                        absl::StrCat("must be between 1 and ",
                                     kMaxHistoryMonths, ", got ", months_ago));
    }
    if (entry_of_month[months_ago] >= 0) {
      return FieldError(
          absl::StrCat(path, "[", i, "].months_ago"),
          absl::StrCat("month given twice (also in ", path, "[",
                       entry_of_month[months_ago], "]), got ", months_ago));
    }
    entry_of_month[months_ago] = i;
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
    decoded.emplace_back(months_ago, owned);
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

absl::StatusOr<DecodedRequest> DecodeRecommendRequest(
    const v1::RecommendRequest& request) {
  RECSYS_ASSIGN_OR_RETURN(int k, DecodeTopK(request.k()));
  return DecodeParts(request.has_customer(), request.customer(),
                     request.history(), k);
}

absl::StatusOr<DecodedRequest> DecodeScoreRow(const v1::ScoreRow& row, int k) {
  return DecodeParts(row.has_customer(), row.customer(), row.history(), k);
}

std::string FieldPathOf(const absl::Status& status) {
  auto payload = status.GetPayload(kFieldPathPayload);
  return payload.has_value() ? std::string(*payload) : std::string();
}

}  // namespace recsys
