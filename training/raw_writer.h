// Writes RawRecords as rows of the Kaggle Santander files, in exactly the
// text form of the real train_ver2.csv / test_ver2.csv (see
// shared/data/real/README.md):
//
//   - header: every column name double-quoted;
//   - data rows: only nomprov is quoted ("MADRID", "" when missing);
//   - right-aligned, space-padded numbers: age width 3 (" 35", " NA"),
//     antiguedad width 7 ("     35", "-999999"), ind_nuevo, indrel, tipodom,
//     ind_actividad_cliente and cod_prov width 2 (" 1", "99", "NA");
//   - renta printed as the shortest text that reads back to the same double
//     (Python's float repr: 87218.1, 122179.11000000002); a missing renta is
//     "" in train rows and "         NA" in test rows;
//   - ind_nomina_ult1 and ind_nom_pens_ult1 as " 0" / " 1", the other products
//     as "0" / "1", a missing product as "NA";
//   - dates as YYYY-MM-DD, a missing date or text as "", LF line ends.
//
// Missing and invalid fields are both written as missing (an invalid field
// has no value to write).
//
//   std::string out = RawHeaderLine(FileLayout::kTrain);
//   AppendRawRow(record, FileLayout::kTrain, RawSpelling{}, &out);
#ifndef RECSYS_TRAINING_RAW_WRITER_H_
#define RECSYS_TRAINING_RAW_WRITER_H_

#include <string>

#include "common/raw_reader.h"
#include "common/raw_record.h"

namespace recsys {

// The few text choices the real files make row by row for the same value.
struct RawSpelling {
  // Write a numeric indrel_1mes as "1.0" instead of "1" (the real files mix
  // both in one month). "P" is always written as is. Default false.
  bool indrel_1mes_decimal = false;
};

// The header line of `layout` (24 or 48 quoted names), ending in "\n".
std::string RawHeaderLine(FileLayout layout);

// Appends one data row of `layout`, ending in "\n", to `*out`. A kTest row
// has no product columns; a kTrain row writes record.products (and
// products_missing / products_invalid as "NA").
void AppendRawRow(const RawRecord& record, FileLayout layout,
                  const RawSpelling& spelling, std::string* out);

// Appends the shortest decimal text that parses back to `value`
// (e.g. 87218.1, 122179.11000000002, 57000.0), like Python's repr.
void AppendShortestDouble(double value, std::string* out);

}  // namespace recsys

#endif  // RECSYS_TRAINING_RAW_WRITER_H_
