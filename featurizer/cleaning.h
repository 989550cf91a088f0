// Cleaning: one rule per raw column turning RawRecord fields into model input.
//
// Every rule returns a Cleaned value: a real number, or NaN together with the
// reason it is missing (the file had none, the text was invalid, or the value
// is outside the column's valid range). Invalid and out-of-range values are
// treated exactly like missing ones by the model, but stay countable through
// CleaningTally. The rules are documented one per column here and as a table
// in docs/cleaning.md; nothing else in the project re-implements them.
//
//   Cleaned age = CleanAge(record.age);          // NaN for 130 or "NA"
//   if (age.ok()) Use(age.value);
//   CleanedText sexo = CleanCategorical(record, kSexo);
//   Cleaned tenure = CleanDateFeature(record, DateFeature::kMonthsSinceAlta);
//
//   CleaningTally tally;                          // per-column quality counts
//   tally.Add(record);
//   std::cout << tally.ToString();
//
// All functions are pure and thread-safe; none allocates.
#ifndef RECSYS_FEATURIZER_CLEANING_H_
#define RECSYS_FEATURIZER_CLEANING_H_

#include <array>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "common/raw_columns.h"
#include "common/raw_record.h"

namespace recsys {

inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Why a cleaned value is what it is.
enum class CleanOutcome : uint8_t {
  kValue = 0,    // a usable value
  kMissing = 1,  // the file had no value ("NA", "")
  kInvalid = 2,  // the file had text that is not a value (FieldState::kInvalid)
  kOutOfRange = 3,  // parsed, but outside the column's valid range
};

// A cleaned number: `value` is NaN unless outcome == kValue.
struct Cleaned {
  double value = kNaN;
  CleanOutcome outcome = CleanOutcome::kMissing;

  bool ok() const { return outcome == CleanOutcome::kValue; }
  static Cleaned Value(double v) { return {v, CleanOutcome::kValue}; }
  static Cleaned Not(CleanOutcome why) { return {kNaN, why}; }
};

// A cleaned category: `text` (pointing into the record or a static string)
// is set only when outcome == kValue.
struct CleanedText {
  absl::string_view text;
  CleanOutcome outcome = CleanOutcome::kMissing;

  bool ok() const { return outcome == CleanOutcome::kValue; }
};

// ---- Numeric columns (feature kind "numeric") -------------------------------

// age, years: kept when 0 <= age <= 120 (babies hold junior accounts);
// anything else is out of range. No narrowing: 130 never wraps to -126.
Cleaned CleanAge(const IntField& age);
// antiguedad, seniority in months: kept when 0 <= months <= 1200; negative
// values (the file's -999999 marker in particular) are out of range.
Cleaned CleanAntiguedad(const IntField& antiguedad);
// renta, gross household income: the double as is (no truncation to an
// integer, no int8 cast); <= 0 or not finite is out of range.
Cleaned CleanRenta(const DoubleField& renta);
// ind_nuevo: 0 or 1; other integers are out of range.
Cleaned CleanIndNuevo(const IntField& ind_nuevo);
// indrel: 1 (primary) or 99 (primary until the end of the month), kept as the
// number 1 or 99; other integers are out of range.
Cleaned CleanIndrel(const IntField& indrel);
// ind_actividad_cliente: 0 or 1; other integers are out of range.
Cleaned CleanIndActividadCliente(const IntField& active);
// cod_prov, province code: 1..52; other integers are out of range.
Cleaned CleanCodProv(const IntField& cod_prov);
// tipodom, address type: the integer as is (the files only hold 1, so the
// default spec leaves it out); negative values are out of range.
Cleaned CleanTipodom(const IntField& tipodom);

// True for the columns above (kAge, kAntiguedad, kRenta, kIndNuevo, kIndrel,
// kIndActividadCliente, kCodProv, kTipodom).
bool IsNumericColumn(int column);
// The rule of numeric column `column`. REQUIRES: IsNumericColumn(column).
Cleaned CleanNumeric(const RawRecord& record, int column);

// ---- Categorical columns (feature kind "categorical") -----------------------

// ind_empleado, pais_residencia, sexo, indrel_1mes, tiprel_1mes, indresi,
// indext, conyuemp, canal_entrada, indfall, nomprov, segmento: the trimmed
// text verbatim is the category; missing ("") and invalid text are missing.
// indrel_1mes is canonicalised: "1.0".."4.0" -> "1".."4", and "P" is a
// category like the others (not missing); any other text is invalid.
bool IsCategoricalColumn(int column);
// The rule above. REQUIRES: IsCategoricalColumn(column). The returned view
// points into `record` (or a static string) and lives as long as it.
CleanedText CleanCategorical(const RawRecord& record, int column);

// ---- Date columns (feature kind "date") -------------------------------------

// Dates become numbers: parts and durations relative to fecha_dato (the
// snapshot month). A missing or invalid date makes each derived number
// missing.
enum class DateFeature : uint8_t {
  // fecha_dato's month of year, 1..12 (the season: June's tax spike).
  kFechaDatoMonth,
  // fecha_alta's calendar year, e.g. 2012.
  kFechaAltaYear,
  // fecha_alta's month of year, 1..12.
  kFechaAltaMonth,
  // Whole months from fecha_alta to fecha_dato (month index difference);
  // out of range when fecha_alta is after fecha_dato.
  kMonthsSinceAlta,
  // 1 when ult_fec_cli_1t is set, 0 when it is missing or invalid; never NaN.
  kUltFecCli1tSet,
  // Signed days from fecha_dato to ult_fec_cli_1t (negative: before it).
  kDaysToUltFecCli1t,
};
inline constexpr int kNumDateFeatures = 6;

// Spec names: "fecha_dato_month", "fecha_alta_year", "fecha_alta_month",
// "months_since_alta", "ult_fec_cli_1t_set", "days_to_ult_fec_cli_1t".
absl::string_view DateFeatureName(DateFeature feature);
std::optional<DateFeature> FindDateFeature(absl::string_view name);
// The raw date column a date feature is read from: kFechaDato for
// fecha_dato_month, kFechaAlta for fecha_alta_year, fecha_alta_month and
// months_since_alta, kUltFecCli1t for ult_fec_cli_1t_set and
// days_to_ult_fec_cli_1t (the durations also read fecha_dato, the month
// scored; the column named is the one that describes the customer).
RawColumnId DateFeatureColumn(DateFeature feature);
Cleaned CleanDateFeature(const RawRecord& record, DateFeature feature);

// ---- Identifier and products
// -------------------------------------------------

// ncodpers is the customer key of the product history, never a feature. It
// must be present and 0..4294967295; returns nullopt otherwise.
std::optional<uint32_t> CleanCustomerId(const IntField& ncodpers);

// Products owned this month: "1" owned; "0", "NA" and invalid text are not
// owned (and counted by CleaningTally). Test-layout records own nothing.
inline ProductMask CleanOwnedProducts(const RawRecord& record) {
  return record.has_products ? (record.products & kAllProducts) : 0;
}

// ---- Counting
// -----------------------------------------------------------------

// How demographic column `column` (0 <= column < kNumDemographicColumns) of
// `record` cleans: kValue, or why it is missing. Dates and text follow their
// field state; fecha_alta after fecha_dato is kOutOfRange; ncodpers follows
// CleanCustomerId.
CleanOutcome ColumnOutcome(const RawRecord& record, int column);

// Per-column counts of missing, invalid and out-of-range values over many
// records (demographic columns and products). Not thread-safe; merge
// per-thread tallies with Merge().
class CleaningTally {
 public:
  void Add(const RawRecord& record);
  void Merge(const CleaningTally& other);

  int64_t rows() const { return rows_; }
  // Counts for raw column id `column` (0 <= column < kNumRawColumns). For
  // product columns only kMissing and kInvalid occur.
  int64_t count(int column, CleanOutcome outcome) const {
    return counts_[column][static_cast<int>(outcome)];
  }

  // One line per column with any non-value, e.g.
  // "age: missing 12, invalid 0, out_of_range 3".
  std::string ToString() const;

 private:
  int64_t rows_ = 0;
  std::array<std::array<int64_t, 4>, kNumRawColumns> counts_{};
};

}  // namespace recsys

#endif  // RECSYS_FEATURIZER_CLEANING_H_
