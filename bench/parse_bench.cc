// Speed of the raw reader on train rows: items_per_second is rows per second
// on one core (the goal is at least 1 million).
//
// The rows are the 999 real rows of shared/data/real repeated (or, when that
// folder is absent, synthesized rows of the same shape), parsed from memory
// (RawReader::FromStream over a std::istringstream) and from a temporary file
// (RawReader::Open). BM_Tokenize measures the CSV splitting alone.
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "benchmark/benchmark.h"
#include "common/csv_tokenizer.h"
#include "common/raw_reader.h"

namespace recsys {
namespace {

constexpr char kRealTrain[] =
    RECSYS_SHARED_DIR "/data/real/train_ver2_first999.csv";
constexpr char kRealTest[] =
    RECSYS_SHARED_DIR "/data/real/test_ver2_first38171_excel.csv";

// The header and data lines of the real train excerpt, or synthesized ones.
std::vector<std::string> TrainLines() {
  std::ifstream in(kRealTrain);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  if (lines.size() > 1) return lines;
  lines.clear();
  lines.push_back(
      "\"fecha_dato\",\"ncodpers\",\"ind_empleado\",\"pais_residencia\","
      "\"sexo\",\"age\","
      "\"fecha_alta\",\"ind_nuevo\",\"antiguedad\",\"indrel\",\"ult_fec_cli_"
      "1t\","
      "\"indrel_1mes\",\"tiprel_1mes\",\"indresi\",\"indext\",\"conyuemp\","
      "\"canal_entrada\","
      "\"indfall\",\"tipodom\",\"cod_prov\",\"nomprov\",\"ind_actividad_"
      "cliente\",\"renta\","
      "\"segmento\",\"ind_ahor_fin_ult1\",\"ind_aval_fin_ult1\",\"ind_cco_fin_"
      "ult1\","
      "\"ind_cder_fin_ult1\",\"ind_cno_fin_ult1\",\"ind_ctju_fin_ult1\",\"ind_"
      "ctma_fin_ult1\","
      "\"ind_ctop_fin_ult1\",\"ind_ctpp_fin_ult1\",\"ind_deco_fin_ult1\",\"ind_"
      "deme_fin_ult1\","
      "\"ind_dela_fin_ult1\",\"ind_ecue_fin_ult1\",\"ind_fond_fin_ult1\",\"ind_"
      "hip_fin_ult1\","
      "\"ind_plan_fin_ult1\",\"ind_pres_fin_ult1\",\"ind_reca_fin_ult1\",\"ind_"
      "tjcr_fin_ult1\","
      "\"ind_valo_fin_ult1\",\"ind_viv_fin_ult1\",\"ind_nomina_ult1\",\"ind_"
      "nom_pens_ult1\","
      "\"ind_recibo_ult1\"");
  static constexpr const char* kProvinces[] = {"\"MADRID\"", "\"CORUÑA, A\"",
                                               "\"MALAGA\"", "\"\""};
  for (int i = 0; i < 999; ++i) {
    lines.push_back(absl::StrFormat(
        "2015-01-28,%d,N,ES,%s,%3d,2012-08-10, 0,%7d, 1,,%s,A,S,N,,KHE,N, "
        "1,%2d,%s, %d,%s,"
        "02 - PARTICULARES,0,0,1,0,0,0,0,0,0,0,0,0,%d,0,0,0,0,0,0,0,0, 0, 0,%d",
        1050000 + i, i % 2 ? "H" : "V", 18 + i % 70, i % 200,
        i % 3 ? "1" : "1.0", 1 + i % 52, kProvinces[i % 4], i % 2,
        i % 5 ? absl::StrCat(20000 + i * 97.31) : "", i % 7 == 0, i % 3 == 0));
  }
  return lines;
}

// A train CSV text with `rows` data rows.
const std::string& TrainCsv(int64_t rows) {
  static auto* cache = new std::map<int64_t, std::string>();
  std::string& csv = (*cache)[rows];
  if (!csv.empty()) return csv;
  const std::vector<std::string> lines = TrainLines();
  csv = lines[0] + "\n";
  for (int64_t i = 0; i < rows; ++i)
    absl::StrAppend(&csv, lines[1 + i % (lines.size() - 1)], "\n");
  return csv;
}

// Reads every row of `reader`; returns the row count.
int64_t ReadRows(RawReader& reader, benchmark::State& state) {
  RawRecord record;
  std::vector<RowError> errors;
  int64_t rows = 0;
  int64_t bad = 0;
  while (reader.Next(&record, &errors)) {
    ++rows;
    bad += !errors.empty();
    benchmark::DoNotOptimize(record.age.value);
  }
  if (!reader.status().ok() || bad > 0)
    state.SkipWithError("rows did not parse cleanly");
  return rows;
}

void BM_ParseTrainFromStream(benchmark::State& state) {
  const std::string& csv = TrainCsv(state.range(0));
  std::istringstream in(csv);
  int64_t rows = 0;
  for (auto _ : state) {
    in.clear();
    in.seekg(0);  // re-read the same text: no copy inside the loop
    auto reader = RawReader::FromStream(&in, "bench");
    if (!reader.ok()) {
      state.SkipWithError("cannot open");
      break;
    }
    rows += ReadRows(**reader, state);
  }
  state.SetItemsProcessed(rows);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          csv.size());
}
BENCHMARK(BM_ParseTrainFromStream)->Arg(200000)->Unit(benchmark::kMillisecond);

void BM_ParseTrainFromFile(benchmark::State& state) {
  const std::string& csv = TrainCsv(state.range(0));
  char path[] = "/tmp/parse_bench_XXXXXX";
  const int fd = mkstemp(path);
  if (fd < 0 ||
      write(fd, csv.data(), csv.size()) != static_cast<ssize_t>(csv.size())) {
    state.SkipWithError("cannot write a temporary file");
    return;
  }
  close(fd);
  int64_t rows = 0;
  for (auto _ : state) {
    auto reader = RawReader::Open(path);
    if (!reader.ok()) {
      state.SkipWithError("cannot open");
      break;
    }
    rows += ReadRows(**reader, state);
  }
  std::remove(path);
  state.SetItemsProcessed(rows);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          csv.size());
}
BENCHMARK(BM_ParseTrainFromFile)->Arg(200000)->Unit(benchmark::kMillisecond);

// The spreadsheet-saved test excerpt (CRLF, M/D/YYYY dates), 38,171 rows.
void BM_ParseRealTestFile(benchmark::State& state) {
  if (!std::ifstream(kRealTest).good()) {
    state.SkipWithError("real test rows absent");
    return;
  }
  int64_t rows = 0;
  for (auto _ : state) {
    auto reader = RawReader::Open(kRealTest);
    if (!reader.ok()) {
      state.SkipWithError("cannot open");
      break;
    }
    rows += ReadRows(**reader, state);
  }
  state.SetItemsProcessed(rows);
}
BENCHMARK(BM_ParseRealTestFile)->Unit(benchmark::kMillisecond);

// CSV splitting alone, without field parsing.
void BM_Tokenize(benchmark::State& state) {
  const std::string& csv = TrainCsv(state.range(0));
  int64_t rows = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto source = std::make_unique<StringByteSource>(csv);
    state.ResumeTiming();
    CsvTokenizer tokenizer(std::move(source));
    CsvRecord record;
    while (tokenizer.Next(&record)) {
      ++rows;
      benchmark::DoNotOptimize(record.fields.data());
    }
  }
  state.SetItemsProcessed(rows);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          csv.size());
}
BENCHMARK(BM_Tokenize)->Arg(200000)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace recsys
