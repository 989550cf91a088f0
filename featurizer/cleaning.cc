#include "featurizer/cleaning.h"

#include <cmath>
#include <variant>

#include "absl/strings/str_cat.h"
#include "common/field_parse.h"

namespace recsys {
namespace {

// The outcome of a field that is not present.
CleanOutcome NotPresent(FieldState state) {
  return state == FieldState::kInvalid ? CleanOutcome::kInvalid
                                       : CleanOutcome::kMissing;
}

// An integer field kept when lo <= value <= hi.
Cleaned IntInRange(const IntField& f, int64_t lo, int64_t hi) {
  if (!f.present()) return Cleaned::Not(NotPresent(f.state));
  if (f.value < lo || f.value > hi)
    return Cleaned::Not(CleanOutcome::kOutOfRange);
  return Cleaned::Value(static_cast<double>(f.value));
}

// An integer field kept when it is `a` or `b`.
Cleaned IntOneOf(const IntField& f, int64_t a, int64_t b) {
  if (!f.present()) return Cleaned::Not(NotPresent(f.state));
  if (f.value != a && f.value != b)
    return Cleaned::Not(CleanOutcome::kOutOfRange);
  return Cleaned::Value(static_cast<double>(f.value));
}

// The field of demographic column `column` when it has type Field, else null.
template <typename Field>
const Field* FieldOf(const RawRecord& r, int column) {
  if (column < 0 || column >= kNumDemographicColumns) return nullptr;
  const auto* member =
      std::get_if<Field RawRecord::*>(&kRawColumns[column].member);
  return member == nullptr ? nullptr : &(r.**member);
}

// Each date feature's spec name and the raw column it describes, in
// DateFeature order.
struct DateFeatureDef {
  absl::string_view name;
  RawColumnId column;
};
constexpr DateFeatureDef kDateFeatures[kNumDateFeatures] = {
    {"fecha_dato_month", kFechaDato},
    {"fecha_alta_year", kFechaAlta},
    {"fecha_alta_month", kFechaAlta},
    {"months_since_alta", kFechaAlta},
    {"ult_fec_cli_1t_set", kUltFecCli1t},
    {"days_to_ult_fec_cli_1t", kUltFecCli1t},
};

constexpr absl::string_view kOutcomeNames[4] = {"value", "missing", "invalid",
                                                "out_of_range"};

}  // namespace

Cleaned CleanAge(const IntField& age) { return IntInRange(age, 0, 120); }

Cleaned CleanAntiguedad(const IntField& antiguedad) {
  return IntInRange(antiguedad, 0, 1200);
}

Cleaned CleanRenta(const DoubleField& renta) {
  if (!renta.present()) return Cleaned::Not(NotPresent(renta.state));
  if (!std::isfinite(renta.value) || renta.value <= 0) {
    return Cleaned::Not(CleanOutcome::kOutOfRange);
  }
  return Cleaned::Value(renta.value);
}

Cleaned CleanIndNuevo(const IntField& ind_nuevo) {
  return IntOneOf(ind_nuevo, 0, 1);
}

Cleaned CleanIndrel(const IntField& indrel) { return IntOneOf(indrel, 1, 99); }

Cleaned CleanIndActividadCliente(const IntField& active) {
  return IntOneOf(active, 0, 1);
}

Cleaned CleanCodProv(const IntField& cod_prov) {
  return IntInRange(cod_prov, 1, 52);
}

Cleaned CleanTipodom(const IntField& tipodom) {
  return IntInRange(tipodom, 0, std::numeric_limits<int64_t>::max());
}

bool IsNumericColumn(int column) {
  if (column < 0 || column >= kNumDemographicColumns || column == kNcodpers)
    return false;  // ncodpers is the customer key, never a feature
  const ColumnKind kind = kRawColumns[column].kind;
  return kind == ColumnKind::kInt || kind == ColumnKind::kDouble;
}

Cleaned CleanNumeric(const RawRecord& r, int column) {
  switch (column) {
    case kAge:
      return CleanAge(r.age);
    case kAntiguedad:
      return CleanAntiguedad(r.antiguedad);
    case kRenta:
      return CleanRenta(r.renta);
    case kIndNuevo:
      return CleanIndNuevo(r.ind_nuevo);
    case kIndrel:
      return CleanIndrel(r.indrel);
    case kIndActividadCliente:
      return CleanIndActividadCliente(r.ind_actividad_cliente);
    case kCodProv:
      return CleanCodProv(r.cod_prov);
    case kTipodom:
      return CleanTipodom(r.tipodom);
    default:
      return Cleaned::Not(CleanOutcome::kMissing);
  }
}

bool IsCategoricalColumn(int column) {
  if (column < 0 || column >= kNumDemographicColumns) return false;
  const ColumnKind kind = kRawColumns[column].kind;
  return kind == ColumnKind::kText || kind == ColumnKind::kCustomerType;
}

CleanedText CleanCategorical(const RawRecord& r, int column) {
  if (!IsCategoricalColumn(column)) return {};
  const TextField* f = FieldOf<TextField>(r, column);
  if (!f->present()) return {{}, NotPresent(f->state)};
  if (kRawColumns[column].kind == ColumnKind::kCustomerType) {
    absl::string_view canonical;
    switch (ParseCustomerTypeText(f->value, &canonical)) {
      case ParseOutcome::kValue:
        return {canonical, CleanOutcome::kValue};
      case ParseOutcome::kMissing:
        return {{}, CleanOutcome::kMissing};
      case ParseOutcome::kInvalid:
        return {{}, CleanOutcome::kInvalid};
    }
  }
  absl::string_view text = TrimSpaces(f->value);
  if (text.empty()) return {{}, CleanOutcome::kMissing};
  return {text, CleanOutcome::kValue};
}

absl::string_view DateFeatureName(DateFeature feature) {
  return kDateFeatures[static_cast<int>(feature)].name;
}

RawColumnId DateFeatureColumn(DateFeature feature) {
  return kDateFeatures[static_cast<int>(feature)].column;
}

std::optional<DateFeature> FindDateFeature(absl::string_view name) {
  for (int i = 0; i < kNumDateFeatures; ++i) {
    if (kDateFeatures[i].name == name) return static_cast<DateFeature>(i);
  }
  return std::nullopt;
}

Cleaned CleanDateFeature(const RawRecord& r, DateFeature feature) {
  const DateField& dato = r.fecha_dato;
  const DateField& alta = r.fecha_alta;
  const DateField& ult = r.ult_fec_cli_1t;
  switch (feature) {
    case DateFeature::kFechaDatoMonth:
      if (!dato.present()) return Cleaned::Not(NotPresent(dato.state));
      return Cleaned::Value(dato.value.month);
    case DateFeature::kFechaAltaYear:
      if (!alta.present()) return Cleaned::Not(NotPresent(alta.state));
      return Cleaned::Value(alta.value.year);
    case DateFeature::kFechaAltaMonth:
      if (!alta.present()) return Cleaned::Not(NotPresent(alta.state));
      return Cleaned::Value(alta.value.month);
    case DateFeature::kMonthsSinceAlta: {
      if (!alta.present()) return Cleaned::Not(NotPresent(alta.state));
      if (!dato.present()) return Cleaned::Not(NotPresent(dato.state));
      const int months = dato.value.MonthIndex() - alta.value.MonthIndex();
      if (months < 0) return Cleaned::Not(CleanOutcome::kOutOfRange);
      return Cleaned::Value(months);
    }
    case DateFeature::kUltFecCli1tSet:
      return Cleaned::Value(ult.present() ? 1.0 : 0.0);
    case DateFeature::kDaysToUltFecCli1t:
      if (!ult.present()) return Cleaned::Not(NotPresent(ult.state));
      if (!dato.present()) return Cleaned::Not(NotPresent(dato.state));
      return Cleaned::Value(
          static_cast<double>(DaysBetween(dato.value, ult.value)));
  }
  return Cleaned::Not(CleanOutcome::kMissing);
}

std::optional<uint32_t> CleanCustomerId(const IntField& ncodpers) {
  if (!ncodpers.present() || ncodpers.value < 0 ||
      ncodpers.value > std::numeric_limits<uint32_t>::max()) {
    return std::nullopt;
  }
  return static_cast<uint32_t>(ncodpers.value);
}

CleanOutcome ColumnOutcome(const RawRecord& r, int column) {
  if (IsNumericColumn(column)) return CleanNumeric(r, column).outcome;
  if (IsCategoricalColumn(column)) return CleanCategorical(r, column).outcome;
  if (column == kNcodpers) {
    if (!r.ncodpers.present()) return NotPresent(r.ncodpers.state);
    return CleanCustomerId(r.ncodpers) ? CleanOutcome::kValue
                                       : CleanOutcome::kOutOfRange;
  }
  if (column == kFechaAlta && r.fecha_alta.present() &&
      r.fecha_dato.present()) {
    return CleanDateFeature(r, DateFeature::kMonthsSinceAlta).outcome;
  }
  if (const DateField* d = FieldOf<DateField>(r, column)) {
    return d->present() ? CleanOutcome::kValue : NotPresent(d->state);
  }
  return CleanOutcome::kMissing;
}

void CleaningTally::Add(const RawRecord& record) {
  ++rows_;
  for (int c = 0; c < kNumDemographicColumns; ++c) {
    ++counts_[c][static_cast<int>(ColumnOutcome(record, c))];
  }
  for (int p = 0; p < kNumProducts; ++p) {
    const ProductMask bit = ProductBit(p);
    CleanOutcome outcome = CleanOutcome::kValue;
    if (!record.has_products || (record.products_missing & bit)) {
      outcome = CleanOutcome::kMissing;
    } else if (record.products_invalid & bit) {
      outcome = CleanOutcome::kInvalid;
    }
    ++counts_[kFirstProductColumn + p][static_cast<int>(outcome)];
  }
}

void CleaningTally::Merge(const CleaningTally& other) {
  rows_ += other.rows_;
  for (int c = 0; c < kNumRawColumns; ++c) {
    for (int o = 0; o < 4; ++o) counts_[c][o] += other.counts_[c][o];
  }
}

std::string CleaningTally::ToString() const {
  std::string out = absl::StrCat("rows: ", rows_, "\n");
  for (int c = 0; c < kNumRawColumns; ++c) {
    const auto& n = counts_[c];
    if (n[1] + n[2] + n[3] == 0) continue;
    absl::StrAppend(&out, RawColumnName(c), ":");
    for (int o = 1; o < 4; ++o) {
      absl::StrAppend(&out, o == 1 ? " " : ", ", kOutcomeNames[o], " ", n[o]);
    }
    absl::StrAppend(&out, "\n");
  }
  return out;
}

}  // namespace recsys
