// Fuzz target: common/raw_reader and common/raw_row_parser — a whole
// Santander CSV file (header and rows) read with RawReader::FromStream, as
// `recsys score` and `recsys-train` read theirs. When the input's own header
// is not a Santander header, its bytes are read again as rows under the
// train file's header, so that mutated rows reach the row parser too.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "common/raw_reader.h"
#include "common/raw_record.h"

namespace {

constexpr char kTrainHeader[] =
    "\"fecha_dato\",\"ncodpers\",\"ind_empleado\",\"pais_residencia\",\"sexo\","
    "\"age\",\"fecha_alta\",\"ind_nuevo\",\"antiguedad\",\"indrel\","
    "\"ult_fec_cli_1t\",\"indrel_1mes\",\"tiprel_1mes\",\"indresi\",\"indext\","
    "\"conyuemp\",\"canal_entrada\",\"indfall\",\"tipodom\",\"cod_prov\","
    "\"nomprov\",\"ind_actividad_cliente\",\"renta\",\"segmento\","
    "\"ind_ahor_fin_ult1\",\"ind_aval_fin_ult1\",\"ind_cco_fin_ult1\","
    "\"ind_cder_fin_ult1\",\"ind_cno_fin_ult1\",\"ind_ctju_fin_ult1\","
    "\"ind_ctma_fin_ult1\",\"ind_ctop_fin_ult1\",\"ind_ctpp_fin_ult1\","
    "\"ind_deco_fin_ult1\",\"ind_deme_fin_ult1\",\"ind_dela_fin_ult1\","
    "\"ind_ecue_fin_ult1\",\"ind_fond_fin_ult1\",\"ind_hip_fin_ult1\","
    "\"ind_plan_fin_ult1\",\"ind_pres_fin_ult1\",\"ind_reca_fin_ult1\","
    "\"ind_tjcr_fin_ult1\",\"ind_valo_fin_ult1\",\"ind_viv_fin_ult1\","
    "\"ind_nomina_ult1\",\"ind_nom_pens_ult1\",\"ind_recibo_ult1\"\n";

void Check(bool condition) {
  if (!condition) std::abort();
}

// Reads every row of `text`; returns false when the header is refused.
bool ReadAll(const std::string& text) {
  std::istringstream in(text);
  auto reader = recsys::RawReader::FromStream(&in, "fuzz.csv");
  if (!reader.ok()) return false;
  recsys::RawRecord record;
  std::vector<recsys::RowError> errors;
  int64_t last_line = 0;
  while ((*reader)->Next(&record, &errors)) {
    Check(record.line > last_line);
    last_line = record.line;
    for (const recsys::RowError& error : errors) {
      Check(!error.ToString().empty());
    }
  }
  Check((*reader)->bytes_read() <= static_cast<int64_t>(text.size()));
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  if (!ReadAll(text)) ReadAll(kTrainHeader + text);
  return 0;
}
