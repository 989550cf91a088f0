// The columns of the Santander raw files, written down once.
//
// RECSYS_DEMOGRAPHIC_COLUMNS is the one list of the 24 demographic columns
// (file order). Everything that walks the columns is driven by it: the
// constexpr table kRawColumns (name, RawRecord member, kind, how the real files
// spell it, what the gRPC API accepts, a one-line meaning), the RawColumnId
// enum, the row parser (common/raw_row_parser.cc), the file writer
// (training/raw_writer.cc), the cleaning dispatch (featurizer/cleaning.cc),
// the client's and the server's record codecs, and the `recsys recommend`
// field flags. The codecs expand the list with their own X macro: a
// column's CustomerRecord field has the column's name (has_age(), age(),
// set_age()), so a column the proto lacks does not compile.
//
// Adding a column: one line here, its RawRecord member, its CustomerRecord
// field, and its cleaning rule (featurizer/cleaning.h).
//
// Column ids: the demographic columns are 0..23 (file order), then the 24
// product columns (24..47, kProducts order) that only train_ver2.csv has.
//
//   std::optional<int> id = FindRawColumn("age");   // kAge
//   const RawColumn& column = kRawColumns[*id];     // kind kInt, width 3
//   absl::string_view reason = ParseColumnText(column, " 35", &record);
//   FieldState s = RawColumnState(record, *id);     // kPresent
#ifndef RECSYS_COMMON_RAW_COLUMNS_H_
#define RECSYS_COMMON_RAW_COLUMNS_H_

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <variant>

#include "absl/strings/string_view.h"
#include "common/products.h"
#include "common/raw_record.h"

namespace recsys {

// How a column's text is read (the rules are in common/field_parse.h).
enum class ColumnKind : uint8_t {
  kDate,          // "YYYY-MM-DD" or "M/D/YYYY" -> DateField
  kInt,           // a decimal integer, "1.0" allowed -> IntField
  kDouble,        // a finite decimal number -> DoubleField
  kText,          // trimmed UTF-8 text, verbatim -> TextField
  kCustomerType,  // indrel_1mes: 1 2 3 4 (".0" allowed) or P -> TextField
};

// The integers the gRPC API accepts for a column (server/record_codec.h): all
// (when !checked), lo..hi, only lo or hi (`ends_only`), and the files'
// unknown-seniority marker -999999 besides (`unknown_marker`).
struct ApiIntRule {
  bool checked = false;
  int64_t lo = 0;
  int64_t hi = 0;
  bool ends_only = false;
  bool unknown_marker = false;
};

inline constexpr int64_t kUnknownSeniority = -999999;

// The rules RECSYS_DEMOGRAPHIC_COLUMNS gives its integer columns.
inline constexpr ApiIntRule kApiAny{};
constexpr ApiIntRule ApiBetween(int64_t lo, int64_t hi) {
  return {true, lo, hi, false, false};
}
constexpr ApiIntRule ApiEither(int64_t a, int64_t b) {
  return {true, a, b, true, false};
}
inline constexpr ApiIntRule kApiSeniority{true, 0, 1200, false, true};

// X(name, Id, kind, file_width, api, meaning) for each demographic column:
//   name        header name, RawRecord member and CustomerRecord field;
//   Id          the RawColumnId is k<Id>;
//   kind        a ColumnKind;
//   file_width  kInt: the width the real files right-align it to (0: none);
//   api         the ApiIntRule of an integer column (kApiAny otherwise);
//   meaning     one line for help texts.
// clang-format off
#define RECSYS_DEMOGRAPHIC_COLUMNS(X)                                          \
  X(fecha_dato, FechaDato, kDate, 0, kApiAny,                                     \
    "month scored, YYYY-MM-DD (default: the month after the model's data).")   \
  X(ncodpers, Ncodpers, kInt, 0, kApiAny,                                         \
    "customer code (required).")                                               \
  X(ind_empleado, IndEmpleado, kText, 0, kApiAny, "employee index A B F N S.")    \
  X(pais_residencia, PaisResidencia, kText, 0, kApiAny,                           \
    "country of residence, e.g. ES.")                                          \
  X(sexo, Sexo, kText, 0, kApiAny, "sex, H or V.")                                \
  X(age, Age, kInt, 3, (ApiBetween(0, 150)), "age in years.")                     \
  X(fecha_alta, FechaAlta, kDate, 0, kApiAny,                                     \
    "date of the first contract, YYYY-MM-DD.")                                 \
  X(ind_nuevo, IndNuevo, kInt, 2, (ApiEither(0, 1)),                              \
    "1 if registered in the last 6 months.")                                   \
  X(antiguedad, Antiguedad, kInt, 7, kApiSeniority, "seniority in months.")       \
  X(indrel, Indrel, kInt, 2, (ApiEither(1, 99)),                                  \
    "1 primary, 99 primary until the month's end.")                            \
  X(ult_fec_cli_1t, UltFecCli1t, kDate, 0, kApiAny,                               \
    "last date as primary customer, YYYY-MM-DD.")                              \
  X(indrel_1mes, Indrel1mes, kCustomerType, 0, kApiAny,                           \
    "customer type 1 2 3 4 or P.")                                             \
  X(tiprel_1mes, Tiprel1mes, kText, 0, kApiAny, "relation type A I N P R.")       \
  X(indresi, Indresi, kText, 0, kApiAny, "residence index S or N.")               \
  X(indext, Indext, kText, 0, kApiAny, "foreigner index S or N.")                 \
  X(conyuemp, Conyuemp, kText, 0, kApiAny, "spouse of an employee, S or N.")      \
  X(canal_entrada, CanalEntrada, kText, 0, kApiAny, "joining channel, e.g. KHE.") \
  X(indfall, Indfall, kText, 0, kApiAny, "deceased index S or N.")                \
  X(tipodom, Tipodom, kInt, 2, (ApiBetween(0, INT32_MAX)), "address type (1).")   \
  X(cod_prov, CodProv, kInt, 2, (ApiBetween(1, 52)), "province code 1..52.")      \
  X(nomprov, Nomprov, kText, 0, kApiAny, "province name, e.g. MADRID.")           \
  X(ind_actividad_cliente, IndActividadCliente, kInt, 2, (ApiEither(0, 1)),       \
    "1 active, 0 inactive.")                                                   \
  X(renta, Renta, kDouble, 0, kApiAny, "gross household income.")                 \
  X(segmento, Segmento, kText, 0, kApiAny,                                        \
    "segment, e.g. \"02 - PARTICULARES\".")
// clang-format on

#define RECSYS_RAW_COLUMN_ID(name, Id, ...) k##Id,
enum RawColumnId : int {
  RECSYS_DEMOGRAPHIC_COLUMNS(RECSYS_RAW_COLUMN_ID)
  kFirstProductColumn,  // product i has id kFirstProductColumn + i
};
#undef RECSYS_RAW_COLUMN_ID

inline constexpr int kNumDemographicColumns = kFirstProductColumn;
inline constexpr int kNumRawColumns = kNumDemographicColumns + kNumProducts;

// The RawRecord field a column lands in.
using RawMember =
    std::variant<DateField RawRecord::*, IntField RawRecord::*,
                 DoubleField RawRecord::*, TextField RawRecord::*>;

// One demographic column (see RECSYS_DEMOGRAPHIC_COLUMNS for the fields).
struct RawColumn {
  RawColumnId id;
  absl::string_view name;
  ColumnKind kind;
  RawMember member;
  int file_width;
  ApiIntRule api;
  absl::string_view meaning;
};

#define RECSYS_RAW_COLUMN_ENTRY(name, Id, kind, width, api, meaning)      \
  RawColumn{k##Id,       #name, ColumnKind::kind, &RawRecord::name, width, \
            api,         meaning},
inline constexpr RawColumn kRawColumns[kNumDemographicColumns] = {
    RECSYS_DEMOGRAPHIC_COLUMNS(RECSYS_RAW_COLUMN_ENTRY)};
#undef RECSYS_RAW_COLUMN_ENTRY

// Calls `f(field)` with column `column`'s field of `*record` (a const or
// mutable RawRecord) and returns what `f` returns (the same type for every
// field type).
template <typename Record, typename F>
decltype(auto) VisitField(const RawColumn& column, Record* record, F&& f) {
  return std::visit([&](auto member) -> decltype(auto) {
    return f(record->*member);
  }, column.member);
}

// The header name of column `id` (0 <= id < kNumRawColumns).
absl::string_view RawColumnName(int id);

// The id of the column called `name`, or nullopt for an unknown column.
std::optional<int> FindRawColumn(absl::string_view name);

// Whether `record` has column `id` present, missing or invalid. For a
// product column of a record without products: kMissing.
FieldState RawColumnState(const RawRecord& record, int id);

// The state of demographic column `id` (0 <= id < kNumDemographicColumns) of
// `*record`, to be changed in place.
FieldState* MutableRawColumnState(RawRecord* record, int id);

// The value of demographic column `id` (0 <= id < kNumDemographicColumns) of
// `record` as text: a date "YYYY-MM-DD", an integer in decimal, a double in
// the shortest form that reads back to the same double ("1234.56"), a text
// verbatim; "" when the field is missing or invalid. E.g. what an
// explanation shows as the raw value a feature came from.
std::string RawColumnText(const RawRecord& record, int id);

// Sets `column`'s field of `*record` to missing (a text keeps its capacity).
void ClearColumn(const RawColumn& column, RawRecord* record);

// Reads `text` (a file cell, or a text that came over the API) as `column`'s
// value into `*record`: the value (kPresent), nothing for "", "NA" or spaces
// (kMissing), or kInvalid. Returns "" or, for kInvalid, the reason (e.g. "not
// an integer", "impossible date"). The one rule for every column, whichever
// way its text arrives (a file cell, or a string field of a CustomerRecord).
// REQUIRES: the field is missing (a new RawRecord, or after ClearColumn).
absl::string_view ParseColumnText(const RawColumn& column,
                                  absl::string_view text, RawRecord* record);

}  // namespace recsys

#endif  // RECSYS_COMMON_RAW_COLUMNS_H_
