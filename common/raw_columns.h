// The 48 columns of the Santander raw files and where each lands in a
// RawRecord: the 24 demographic columns (ids 0..23, file order) that every
// file has, then the 24 product columns (ids 24..47, kProducts order) that
// only train_ver2.csv has.
//
//   std::optional<int> id = FindRawColumn("age");   // kAge
//   FieldState s = RawColumnState(record, *id);
#ifndef RECSYS_COMMON_RAW_COLUMNS_H_
#define RECSYS_COMMON_RAW_COLUMNS_H_

#include <optional>

#include "absl/strings/string_view.h"
#include "common/products.h"
#include "common/raw_record.h"

namespace recsys {

enum RawColumnId : int {
  kFechaDato = 0,
  kNcodpers,
  kIndEmpleado,
  kPaisResidencia,
  kSexo,
  kAge,
  kFechaAlta,
  kIndNuevo,
  kAntiguedad,
  kIndrel,
  kUltFecCli1t,
  kIndrel1mes,
  kTiprel1mes,
  kIndresi,
  kIndext,
  kConyuemp,
  kCanalEntrada,
  kIndfall,
  kTipodom,
  kCodProv,
  kNomprov,
  kIndActividadCliente,
  kRenta,
  kSegmento,
  kFirstProductColumn,  // product i has id kFirstProductColumn + i
};

inline constexpr int kNumDemographicColumns = kFirstProductColumn;
inline constexpr int kNumRawColumns = kNumDemographicColumns + kNumProducts;

// Header names of the demographic columns, in file order.
inline constexpr absl::string_view kDemographicColumns[kNumDemographicColumns] =
    {
        "fecha_dato",     "ncodpers",
        "ind_empleado",   "pais_residencia",
        "sexo",           "age",
        "fecha_alta",     "ind_nuevo",
        "antiguedad",     "indrel",
        "ult_fec_cli_1t", "indrel_1mes",
        "tiprel_1mes",    "indresi",
        "indext",         "conyuemp",
        "canal_entrada",  "indfall",
        "tipodom",        "cod_prov",
        "nomprov",        "ind_actividad_cliente",
        "renta",          "segmento",
};

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

}  // namespace recsys

#endif  // RECSYS_COMMON_RAW_COLUMNS_H_
