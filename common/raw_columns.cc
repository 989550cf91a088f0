#include "common/raw_columns.h"

namespace recsys {

absl::string_view RawColumnName(int id) {
  if (id < kNumDemographicColumns) return kDemographicColumns[id];
  return kProducts[id - kFirstProductColumn].column;
}

std::optional<int> FindRawColumn(absl::string_view name) {
  for (int id = 0; id < kNumRawColumns; ++id) {
    if (RawColumnName(id) == name) return id;
  }
  return std::nullopt;
}

namespace {

// The state of demographic column `id`, for a const or mutable record.
template <typename Record>
auto* StateOf(Record* r, int id) {
  switch (id) {
    case kFechaDato:
      return &r->fecha_dato.state;
    case kNcodpers:
      return &r->ncodpers.state;
    case kIndEmpleado:
      return &r->ind_empleado.state;
    case kPaisResidencia:
      return &r->pais_residencia.state;
    case kSexo:
      return &r->sexo.state;
    case kAge:
      return &r->age.state;
    case kFechaAlta:
      return &r->fecha_alta.state;
    case kIndNuevo:
      return &r->ind_nuevo.state;
    case kAntiguedad:
      return &r->antiguedad.state;
    case kIndrel:
      return &r->indrel.state;
    case kUltFecCli1t:
      return &r->ult_fec_cli_1t.state;
    case kIndrel1mes:
      return &r->indrel_1mes.state;
    case kTiprel1mes:
      return &r->tiprel_1mes.state;
    case kIndresi:
      return &r->indresi.state;
    case kIndext:
      return &r->indext.state;
    case kConyuemp:
      return &r->conyuemp.state;
    case kCanalEntrada:
      return &r->canal_entrada.state;
    case kIndfall:
      return &r->indfall.state;
    case kTipodom:
      return &r->tipodom.state;
    case kCodProv:
      return &r->cod_prov.state;
    case kNomprov:
      return &r->nomprov.state;
    case kIndActividadCliente:
      return &r->ind_actividad_cliente.state;
    case kRenta:
      return &r->renta.state;
    default:
      return &r->segmento.state;
  }
}

}  // namespace

FieldState RawColumnState(const RawRecord& r, int id) {
  if (id < kFirstProductColumn) return *StateOf(&r, id);
  const ProductMask bit = ProductBit(id - kFirstProductColumn);
  if (!r.has_products || (r.products_missing & bit))
    return FieldState::kMissing;
  if (r.products_invalid & bit) return FieldState::kInvalid;
  return FieldState::kPresent;
}

FieldState* MutableRawColumnState(RawRecord* record, int id) {
  return StateOf(record, id);
}

}  // namespace recsys
