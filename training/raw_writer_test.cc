#include "training/raw_writer.h"

#include <charconv>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "common/raw_reader.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace recsys {
namespace {

constexpr char kRealTrain[] =
    RECSYS_SHARED_DIR "/data/real/train_ver2_first999.csv";

std::vector<std::string> RealTrainLines() {
  std::ifstream in(kRealTrain, std::ios::binary);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::string Shortest(double v) {
  std::string out;
  AppendShortestDouble(v, &out);
  return out;
}

double Parse(const char* text) {
  double v = 0;
  std::from_chars(text, text + std::char_traits<char>::length(text), v);
  return v;
}

// The first real train row as a record.
RawRecord MalagaRecord() {
  RawRecord r;
  r.fecha_dato.Set(Date{2015, 1, 28});
  r.ncodpers.Set(1375586);
  r.ind_empleado.Set("N");
  r.pais_residencia.Set("ES");
  r.sexo.Set("H");
  r.age.Set(35);
  r.fecha_alta.Set(Date{2015, 1, 12});
  r.ind_nuevo.Set(0);
  r.antiguedad.Set(6);
  r.indrel.Set(1);
  r.indrel_1mes.Set("1");
  r.tiprel_1mes.Set("A");
  r.indresi.Set("S");
  r.indext.Set("N");
  r.canal_entrada.Set("KHL");
  r.indfall.Set("N");
  r.tipodom.Set(1);
  r.cod_prov.Set(29);
  r.nomprov.Set("MALAGA");
  r.ind_actividad_cliente.Set(1);
  r.renta.Set(87218.1);
  r.segmento.Set("02 - PARTICULARES");
  r.has_products = true;
  r.products = ProductBit(2);
  return r;
}

std::string TrainRow(const RawRecord& r, bool decimal = false) {
  std::string out;
  AppendRawRow(r, FileLayout::kTrain, RawSpelling{decimal}, &out);
  return out;
}

std::string TestRow(const RawRecord& r) {
  std::string out;
  AppendRawRow(r, FileLayout::kTest, RawSpelling{}, &out);
  return out;
}

TEST(ShortestDoubleTest, PrintsLikePythonFloatRepr) {
  EXPECT_EQ(Shortest(87218.1), "87218.1");
  EXPECT_EQ(Shortest(Parse("122179.11000000002")), "122179.11000000002");
  EXPECT_EQ(Shortest(12217911 * 0.01), "122179.11");
  EXPECT_EQ(Shortest(19442561 * 0.01), "194425.61000000002");
  EXPECT_EQ(Shortest(57000.0), "57000.0");
  EXPECT_EQ(Shortest(0.0), "0.0");
  EXPECT_EQ(Shortest(1e16), "1e+16");
  EXPECT_EQ(Shortest(28894395.51), "28894395.51");
}

TEST(RawWriterTest, HeaderQuotesEveryName) {
  const std::string train = RawHeaderLine(FileLayout::kTrain);
  const std::string test = RawHeaderLine(FileLayout::kTest);
  EXPECT_THAT(train, ::testing::StartsWith("\"fecha_dato\",\"ncodpers\","));
  EXPECT_THAT(train, ::testing::EndsWith(
                         ",\"ind_nom_pens_ult1\",\"ind_recibo_ult1\"\n"));
  EXPECT_EQ(std::vector<std::string>(absl::StrSplit(train, ',')).size(), 48u);
  EXPECT_THAT(test, ::testing::EndsWith(",\"renta\",\"segmento\"\n"));
  EXPECT_EQ(std::vector<std::string>(absl::StrSplit(test, ',')).size(), 24u);
}

TEST(RawWriterTest, HeaderIsTheRealHeader) {
  const std::vector<std::string> real = RealTrainLines();
  if (real.empty()) GTEST_SKIP() << "real rows not found at " << kRealTrain;
  EXPECT_EQ(RawHeaderLine(FileLayout::kTrain), real[0] + "\n");
}

TEST(RawWriterTest, WritesTheFirstRealRow) {
  EXPECT_EQ(TrainRow(MalagaRecord(), /*decimal=*/true),
            "2015-01-28,1375586,N,ES,H, 35,2015-01-12, 0,      6, "
            "1,,1.0,A,S,N,,KHL,N, "
            "1,29,\"MALAGA\", 1,87218.1,02 - PARTICULARES,"
            "0,0,1,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0, 0, 0,0\n");
}

TEST(RawWriterTest, PadsNumbersToTheirWidths) {
  RawRecord r = MalagaRecord();
  r.age.Set(8);
  r.antiguedad.Set(-999999);
  r.indrel.Set(99);
  r.cod_prov.Set(8);
  r.nomprov.Set("CORUÑA, A");
  const std::string row = TrainRow(r);
  EXPECT_THAT(row,
              ::testing::HasSubstr(",H,  8,2015-01-12, 0,-999999,99,,1,A,"));
  EXPECT_THAT(row, ::testing::HasSubstr(",N, 1, 8,\"CORUÑA, A\", 1,"));
  r.age.Set(100);
  r.antiguedad.Set(256);
  EXPECT_THAT(TrainRow(r),
              ::testing::HasSubstr(",H,100,2015-01-12, 0,    256,99,"));
}

TEST(RawWriterTest, WritesMissingValuesAsTheRealFileDoes) {
  RawRecord r;
  r.fecha_dato.Set(Date{2015, 1, 28});
  r.ncodpers.Set(1050741);
  r.has_products = true;
  r.products = ProductBit(2);
  EXPECT_EQ(TrainRow(r),
            "2015-01-28,1050741,,,, NA,,NA,     NA,NA,,,,,,,,,NA,NA,\"\",NA,,,"
            "0,0,1,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0, 0, 0,0\n");
}

TEST(RawWriterTest, TestRowsHaveNoProductsAndPadMissingRenta) {
  RawRecord r = MalagaRecord();
  r.fecha_dato.Set(Date{2016, 6, 28});
  r.renta.Clear();
  EXPECT_EQ(
      TestRow(r),
      "2016-06-28,1375586,N,ES,H, 35,2015-01-12, 0,      6, 1,,1,A,S,N,,KHL,N, "
      "1,29,\"MALAGA\", 1,         NA,02 - PARTICULARES\n");
}

TEST(RawWriterTest, SpacesPayrollColumnsAndWritesMissingProductsAsNA) {
  RawRecord r = MalagaRecord();
  r.products = ProductBit(21) | ProductBit(22) | ProductBit(23);
  EXPECT_THAT(TrainRow(r), ::testing::EndsWith(",0,0, 1, 1,1\n"));
  r.products_missing = ProductBit(21) | ProductBit(22);
  EXPECT_THAT(TrainRow(r), ::testing::EndsWith(",0,0,NA,NA,1\n"));
}

TEST(RawWriterTest, SpellsIndrel1mesAsAsked) {
  RawRecord r = MalagaRecord();
  EXPECT_THAT(TrainRow(r, false), ::testing::HasSubstr(", 1,,1,A,"));
  EXPECT_THAT(TrainRow(r, true), ::testing::HasSubstr(", 1,,1.0,A,"));
  r.indrel_1mes.Set("P");
  EXPECT_THAT(TrainRow(r, true), ::testing::HasSubstr(", 1,,P,A,"));
}

// Reading each real row and writing it back gives the same bytes: the writer
// and the reader agree with the real format on all 999 rows.
TEST(RawWriterTest, RoundTripsEveryRealRowByteForByte) {
  const std::vector<std::string> real = RealTrainLines();
  if (real.empty()) GTEST_SKIP() << "real rows not found at " << kRealTrain;
  ASSERT_EQ(real.size(), 1000u);
  for (size_t i = 1; i < real.size(); ++i) {
    std::vector<RowError> errors;
    absl::StatusOr<RawRecord> record = ParseRawLine(real[0], real[i], &errors);
    ASSERT_TRUE(record.ok()) << record.status();
    ASSERT_TRUE(errors.empty()) << errors[0].ToString();
    // Column 11 (indrel_1mes) comes before the only quoted column.
    const std::vector<absl::string_view> fields = absl::StrSplit(real[i], ',');
    const bool decimal = absl::EndsWith(fields[11], ".0");
    EXPECT_EQ(TrainRow(*record, decimal), real[i] + "\n") << "line " << i + 1;
  }
}

}  // namespace
}  // namespace recsys
