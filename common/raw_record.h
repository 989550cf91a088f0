// One row of a Santander monthly snapshot, parsed into typed fields.
//
// A RawRecord is what the raw files say, nothing more: no cleaning, no
// defaults. Every optional field says whether the file had a value, had none
// ("NA", "" or padding only), or had text that is not a valid value of the
// field (kept apart so that cleaning can count it). The featurizer turns
// RawRecords into model input; the client turns them into API messages.
//
//   RawRecord r;
//   if (r.age.present()) use(r.age.value);
#ifndef RECSYS_COMMON_RAW_RECORD_H_
#define RECSYS_COMMON_RAW_RECORD_H_

#include <cstdint>
#include <string>

#include "common/date.h"
#include "common/products.h"

namespace recsys {

enum class FieldState : uint8_t {
  kMissing = 0,  // "NA", "" or only spaces in the file; unset in the API.
  kPresent = 1,  // `value` holds the parsed value.
  kInvalid = 2,  // text that is not a value of this field; `value` is unset.
};

template <typename T>
struct RawField {
  FieldState state = FieldState::kMissing;
  T value{};

  bool present() const { return state == FieldState::kPresent; }
  bool missing() const { return state == FieldState::kMissing; }
  bool invalid() const { return state == FieldState::kInvalid; }
  void Set(T v) {
    state = FieldState::kPresent;
    value = std::move(v);
  }
  void Clear() { *this = RawField(); }
};

using IntField = RawField<int64_t>;
using DoubleField = RawField<double>;
using DateField = RawField<Date>;
// Categorical text, trimmed of surrounding spaces, otherwise verbatim
// (e.g. "02 - PARTICULARES", "CORUÑA, A").
using TextField = RawField<std::string>;

// The demographic columns shared by train_ver2.csv and test_ver2.csv, plus
// the product columns that only train_ver2.csv has.
struct RawRecord {
  // 1-based physical line in the source file where the row starts (0 when
  // the record did not come from a file).
  int64_t line = 0;

  DateField fecha_dato;             // snapshot month, e.g. 2015-01-28
  IntField ncodpers;                // customer code
  TextField ind_empleado;           // employee index: A B F N S
  TextField pais_residencia;        // country of residence, e.g. ES
  TextField sexo;                   // H V
  IntField age;                     // years
  DateField fecha_alta;             // date the customer became a holder
  IntField ind_nuevo;               // 1 if registered in the last 6 months
  IntField antiguedad;              // seniority in months (-999999 occurs)
  IntField indrel;                  // 1 primary, 99 primary until month end
  DateField ult_fec_cli_1t;         // last date as primary customer
  // Customer type at the start of the month: "1" "2" "3" "4" or "P"; the
  // files also write "1.0" etc., which parse to "1".
  TextField indrel_1mes;
  TextField tiprel_1mes;            // relation type: A I N P R
  TextField indresi;                // residence index: S N
  TextField indext;                 // foreigner index: S N
  TextField conyuemp;               // spouse of an employee: S N
  TextField canal_entrada;          // joining channel, e.g. KHE
  TextField indfall;                // deceased: S N
  IntField tipodom;                 // address type (1)
  IntField cod_prov;                // province code 1..52
  TextField nomprov;                // province name, e.g. "CORUÑA, A"
  IntField ind_actividad_cliente;   // 1 active, 0 inactive
  DoubleField renta;                // gross household income
  TextField segmento;               // "01 - TOP" "02 - PARTICULARES" ...

  // Products (train layout only). `has_products` is false for test rows.
  bool has_products = false;
  ProductMask products = 0;          // products owned ("1")
  ProductMask products_missing = 0;  // products given as "NA"
  ProductMask products_invalid = 0;  // products with other text
};

}  // namespace recsys

#endif  // RECSYS_COMMON_RAW_RECORD_H_
