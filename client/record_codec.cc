#include "client/record_codec.h"

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/products.h"
#include "common/status_macros.h"

namespace recsys {
namespace {

absl::Status InvalidInInput(absl::string_view field) {
  return absl::InvalidArgumentError(
      absl::StrCat("customer.", field, ": invalid in the input row"));
}

// Copies a present field with `set`; an invalid one is an error.
template <typename T, typename Setter>
absl::Status Put(const RawField<T>& field, absl::string_view name, Setter set) {
  if (field.invalid()) return InvalidInInput(name);
  if (field.present()) set(field.value);
  return absl::OkStatus();
}

template <typename Setter>
absl::Status PutInt32(const IntField& field, absl::string_view name,
                      Setter set) {
  if (field.invalid()) return InvalidInInput(name);
  if (!field.present()) return absl::OkStatus();
  if (field.value < std::numeric_limits<int32_t>::min() ||
      field.value > std::numeric_limits<int32_t>::max()) {
    return absl::InvalidArgumentError(
        absl::StrCat("customer.", name, ": out of range, got ", field.value));
  }
  set(static_cast<int32_t>(field.value));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<v1::CustomerRecord> EncodeCustomer(const RawRecord& record) {
  v1::CustomerRecord customer;
  RECSYS_RETURN_IF_ERROR(EncodeCustomerTo(record, &customer));
  return customer;
}

absl::Status EncodeCustomerTo(const RawRecord& r, v1::CustomerRecord* out) {
  out->Clear();
  v1::CustomerRecord& c = *out;
  using S = const std::string&;
  using D = const Date&;
  RECSYS_RETURN_IF_ERROR(
      Put(r.ncodpers, "ncodpers", [&](int64_t v) { c.set_ncodpers(v); }));
  RECSYS_RETURN_IF_ERROR(Put(r.fecha_dato, "fecha_dato",
                             [&](D v) { c.set_fecha_dato(v.ToString()); }));
  RECSYS_RETURN_IF_ERROR(
      Put(r.ind_empleado, "ind_empleado", [&](S v) { c.set_ind_empleado(v); }));
  RECSYS_RETURN_IF_ERROR(Put(r.pais_residencia, "pais_residencia",
                             [&](S v) { c.set_pais_residencia(v); }));
  RECSYS_RETURN_IF_ERROR(Put(r.sexo, "sexo", [&](S v) { c.set_sexo(v); }));
  RECSYS_RETURN_IF_ERROR(
      PutInt32(r.age, "age", [&](int32_t v) { c.set_age(v); }));
  RECSYS_RETURN_IF_ERROR(Put(r.fecha_alta, "fecha_alta",
                             [&](D v) { c.set_fecha_alta(v.ToString()); }));
  RECSYS_RETURN_IF_ERROR(PutInt32(r.ind_nuevo, "ind_nuevo",
                                  [&](int32_t v) { c.set_ind_nuevo(v); }));
  RECSYS_RETURN_IF_ERROR(PutInt32(r.antiguedad, "antiguedad",
                                  [&](int32_t v) { c.set_antiguedad(v); }));
  RECSYS_RETURN_IF_ERROR(
      PutInt32(r.indrel, "indrel", [&](int32_t v) { c.set_indrel(v); }));
  RECSYS_RETURN_IF_ERROR(Put(r.ult_fec_cli_1t, "ult_fec_cli_1t",
                             [&](D v) { c.set_ult_fec_cli_1t(v.ToString()); }));
  RECSYS_RETURN_IF_ERROR(
      Put(r.indrel_1mes, "indrel_1mes", [&](S v) { c.set_indrel_1mes(v); }));
  RECSYS_RETURN_IF_ERROR(
      Put(r.tiprel_1mes, "tiprel_1mes", [&](S v) { c.set_tiprel_1mes(v); }));
  RECSYS_RETURN_IF_ERROR(
      Put(r.indresi, "indresi", [&](S v) { c.set_indresi(v); }));
  RECSYS_RETURN_IF_ERROR(
      Put(r.indext, "indext", [&](S v) { c.set_indext(v); }));
  RECSYS_RETURN_IF_ERROR(
      Put(r.conyuemp, "conyuemp", [&](S v) { c.set_conyuemp(v); }));
  RECSYS_RETURN_IF_ERROR(Put(r.canal_entrada, "canal_entrada",
                             [&](S v) { c.set_canal_entrada(v); }));
  RECSYS_RETURN_IF_ERROR(
      Put(r.indfall, "indfall", [&](S v) { c.set_indfall(v); }));
  RECSYS_RETURN_IF_ERROR(
      PutInt32(r.tipodom, "tipodom", [&](int32_t v) { c.set_tipodom(v); }));
  RECSYS_RETURN_IF_ERROR(
      PutInt32(r.cod_prov, "cod_prov", [&](int32_t v) { c.set_cod_prov(v); }));
  RECSYS_RETURN_IF_ERROR(
      Put(r.nomprov, "nomprov", [&](S v) { c.set_nomprov(v); }));
  RECSYS_RETURN_IF_ERROR(
      PutInt32(r.ind_actividad_cliente, "ind_actividad_cliente",
               [&](int32_t v) { c.set_ind_actividad_cliente(v); }));
  RECSYS_RETURN_IF_ERROR(
      Put(r.renta, "renta", [&](double v) { c.set_renta(v); }));
  RECSYS_RETURN_IF_ERROR(
      Put(r.segmento, "segmento", [&](S v) { c.set_segmento(v); }));
  return absl::OkStatus();
}

absl::StatusOr<google::protobuf::RepeatedPtrField<v1::MonthProducts>>
ParseHistoryText(absl::string_view text) {
  google::protobuf::RepeatedPtrField<v1::MonthProducts> history;
  std::vector<int> seen;
  for (absl::string_view part :
       absl::StrSplit(text, ';', absl::SkipWhitespace())) {
    std::vector<absl::string_view> month_and_products =
        absl::StrSplit(part, absl::MaxSplits(':', 1));
    int months_ago = 0;
    if (month_and_products.size() != 2 ||
        !absl::SimpleAtoi(month_and_products[0], &months_ago)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "history: expected MONTHS_AGO:PRODUCT,PRODUCT,... , got \"",
          absl::StripAsciiWhitespace(part), "\""));
    }
    for (int other : seen) {
      if (other == months_ago) {
        return absl::InvalidArgumentError(
            absl::StrCat("history: month ", months_ago, " given twice"));
      }
    }
    seen.push_back(months_ago);
    v1::MonthProducts* month = history.Add();
    month->set_months_ago(months_ago);
    for (absl::string_view name :
         absl::StrSplit(month_and_products[1], ',', absl::SkipWhitespace())) {
      name = absl::StripAsciiWhitespace(name);
      if (!FindProduct(name).has_value()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "history: month ", months_ago, ": \"", name,
            "\" is not a product (a Kaggle column such as ind_cco_fin_ult1 or "
            "an English name such as current_accounts)"));
      }
      month->add_products(std::string(name));
    }
  }
  return history;
}

}  // namespace recsys
