#include "featurizer/cleaning.h"

#include <cmath>

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

const TextField* TextFieldOf(const RawRecord& r, int column) {
  switch (column) {
    case kIndEmpleado:
      return &r.ind_empleado;
    case kPaisResidencia:
      return &r.pais_residencia;
    case kSexo:
      return &r.sexo;
    case kIndrel1mes:
      return &r.indrel_1mes;
    case kTiprel1mes:
      return &r.tiprel_1mes;
    case kIndresi:
      return &r.indresi;
    case kIndext:
      return &r.indext;
    case kConyuemp:
      return &r.conyuemp;
    case kCanalEntrada:
      return &r.canal_entrada;
    case kIndfall:
      return &r.indfall;
    case kNomprov:
      return &r.nomprov;
    case kSegmento:
      return &r.segmento;
    default:
      return nullptr;
  }
}

const DateField* DateFieldOf(const RawRecord& r, int column) {
  switch (column) {
    case kFechaDato:
      return &r.fecha_dato;
    case kFechaAlta:
      return &r.fecha_alta;
    case kUltFecCli1t:
      return &r.ult_fec_cli_1t;
    default:
      return nullptr;
  }
}

constexpr absl::string_view kDateFeatureNames[kNumDateFeatures] = {
    "fecha_dato_month",  "fecha_alta_year",    "fecha_alta_month",
    "months_since_alta", "ult_fec_cli_1t_set", "days_to_ult_fec_cli_1t",
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
  switch (column) {
    case kAge:
    case kAntiguedad:
    case kRenta:
    case kIndNuevo:
    case kIndrel:
    case kIndActividadCliente:
    case kCodProv:
    case kTipodom:
      return true;
    default:
      return false;
  }
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
  switch (column) {
    case kIndEmpleado:
    case kPaisResidencia:
    case kSexo:
    case kIndrel1mes:
    case kTiprel1mes:
    case kIndresi:
    case kIndext:
    case kConyuemp:
    case kCanalEntrada:
    case kIndfall:
    case kNomprov:
    case kSegmento:
      return true;
    default:
      return false;
  }
}

CleanedText CleanCategorical(const RawRecord& r, int column) {
  const TextField* f = TextFieldOf(r, column);
  if (f == nullptr) return {};
  if (!f->present()) return {{}, NotPresent(f->state)};
  if (column == kIndrel1mes) {
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
  return kDateFeatureNames[static_cast<int>(feature)];
}

std::optional<DateFeature> FindDateFeature(absl::string_view name) {
  for (int i = 0; i < kNumDateFeatures; ++i) {
    if (kDateFeatureNames[i] == name) return static_cast<DateFeature>(i);
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
  if (const DateField* d = DateFieldOf(r, column)) {
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
