// The reader on the real Santander rows in shared/data/real.
#include <fstream>
#include <iterator>
#include <string>

#include "common/raw_columns.h"
#include "common/raw_reader.h"
#include "common/raw_reader_test_util.h"
#include "gtest/gtest.h"

namespace recsys {
namespace {

using ::recsys::testing::ReadCsvFile;
using ::recsys::testing::ReadResult;

constexpr char kRealTrain[] =
    RECSYS_SHARED_DIR "/data/real/train_ver2_first999.csv";
constexpr char kRealTest[] =
    RECSYS_SHARED_DIR "/data/real/test_ver2_first38171_excel.csv";

bool Exists(const char* path) { return std::ifstream(path).good(); }

#define SKIP_UNLESS_PRESENT(path) \
  if (!Exists(path)) GTEST_SKIP() << "real rows not found at " << path

// The real file read once per test suite.
class RealTrainRows : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (Exists(kRealTrain)) rows_ = new ReadResult(ReadCsvFile(kRealTrain));
  }
  static void TearDownTestSuite() { delete rows_; }
  void SetUp() override { SKIP_UNLESS_PRESENT(kRealTrain); }

  static const RawRecord& Customer(int64_t ncodpers) {
    for (const RawRecord& r : rows_->records) {
      if (r.ncodpers.value == ncodpers) return r;
    }
    ADD_FAILURE() << "no customer " << ncodpers;
    return rows_->records.front();
  }

  static ReadResult* rows_;
};
ReadResult* RealTrainRows::rows_ = nullptr;

class RealTestRows : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (Exists(kRealTest)) rows_ = new ReadResult(ReadCsvFile(kRealTest));
  }
  static void TearDownTestSuite() { delete rows_; }
  void SetUp() override { SKIP_UNLESS_PRESENT(kRealTest); }
  static ReadResult* rows_;
};
ReadResult* RealTestRows::rows_ = nullptr;

TEST_F(RealTrainRows, All999RowsParseWithoutErrors) {
  ASSERT_TRUE(rows_->open_status.ok()) << rows_->open_status;
  EXPECT_TRUE(rows_->status.ok()) << rows_->status;
  EXPECT_EQ(rows_->layout, FileLayout::kTrain);
  EXPECT_EQ(rows_->records.size(), 999u);
  EXPECT_TRUE(rows_->errors.empty()) << rows_->errors.front().ToString();
}

TEST_F(RealTrainRows, FirstRowHasHandCheckedValues) {
  const RawRecord& r = rows_->records.front();
  EXPECT_EQ(r.line, 2);
  EXPECT_EQ(r.fecha_dato.value.ToString(), "2015-01-28");
  EXPECT_EQ(r.ncodpers.value, 1375586);
  EXPECT_EQ(r.ind_empleado.value, "N");
  EXPECT_EQ(r.sexo.value, "H");
  EXPECT_EQ(r.age.value, 35);
  EXPECT_EQ(r.fecha_alta.value.ToString(), "2015-01-12");
  EXPECT_EQ(r.ind_nuevo.value, 0);
  EXPECT_EQ(r.antiguedad.value, 6);
  EXPECT_TRUE(r.ult_fec_cli_1t.missing());
  EXPECT_EQ(r.indrel_1mes.value, "1");  // "1.0" in the file
  EXPECT_EQ(r.canal_entrada.value, "KHL");
  EXPECT_TRUE(r.conyuemp.missing());
  EXPECT_EQ(r.cod_prov.value, 29);
  EXPECT_EQ(r.nomprov.value, "MALAGA");
  EXPECT_EQ(r.ind_actividad_cliente.value, 1);
  EXPECT_EQ(r.renta.value, 87218.1);
  EXPECT_EQ(r.segmento.value, "02 - PARTICULARES");
  EXPECT_TRUE(r.has_products);
  EXPECT_EQ(r.products, ProductBit(*FindProduct("ind_cco_fin_ult1")));
  EXPECT_EQ(r.products_missing, 0u);
}

TEST_F(RealTrainRows, IncomeWithFloatArtifactsKeepsItsValue) {
  EXPECT_DOUBLE_EQ(Customer(1050612).renta.value, 122179.11);
}

TEST_F(RealTrainRows, CustomerWithNoDemographicsHasEveryFieldMissing) {
  const RawRecord& r = Customer(1050741);
  EXPECT_TRUE(r.fecha_dato.present());
  for (int id = kNcodpers + 1; id < kNumDemographicColumns; ++id) {
    EXPECT_EQ(RawColumnState(r, id), FieldState::kMissing) << RawColumnName(id);
  }
  EXPECT_EQ(r.products, ProductBit(*FindProduct("ind_cco_fin_ult1")));
}

TEST_F(RealTrainRows, ProvinceNameKeepsUtf8AndComma) {
  int coruna = 0;
  for (const RawRecord& r : rows_->records)
    coruna += r.nomprov.value == "CORUÑA, A";
  EXPECT_EQ(coruna, 47);
}

TEST_F(RealTrainRows, CustomerTypeOneAndOnePointZeroAreTheSame) {
  for (const RawRecord& r : rows_->records) {
    if (r.indrel_1mes.present()) {
      EXPECT_EQ(r.indrel_1mes.value, "1") << "line " << r.line;
    }
  }
}

TEST_F(RealTestRows, All38171RowsParseWithoutErrors) {
  ASSERT_TRUE(rows_->open_status.ok()) << rows_->open_status;
  EXPECT_TRUE(rows_->status.ok()) << rows_->status;
  EXPECT_EQ(rows_->layout, FileLayout::kTest);
  EXPECT_EQ(rows_->records.size(), 38171u);
  EXPECT_TRUE(rows_->errors.empty()) << rows_->errors.front().ToString();
}

TEST_F(RealTestRows, FileUsesCrlfAndNoValueKeepsTheCr) {
  std::ifstream in(kRealTest, std::ios::binary);
  std::string head(400, '\0');
  in.read(head.data(), head.size());
  EXPECT_NE(head.find("segmento\r\n"), std::string::npos);
  for (const RawRecord& r : rows_->records) {
    ASSERT_EQ(r.segmento.value.find('\r'), std::string::npos)
        << "line " << r.line;
  }
}

TEST_F(RealTestRows, FirstRowHasSpreadsheetDatesAsIsoDates) {
  const RawRecord& r = rows_->records.front();
  EXPECT_EQ(r.ncodpers.value, 15889);
  EXPECT_EQ(r.fecha_dato.value.ToString(), "2016-06-28");
  EXPECT_EQ(r.fecha_alta.value.ToString(), "1995-01-16");
  EXPECT_EQ(r.age.value, 56);
  EXPECT_EQ(r.renta.value, 326124.9);
  EXPECT_EQ(r.segmento.value, "01 - TOP");
  EXPECT_FALSE(r.has_products);
}

TEST_F(RealTestRows, PaddedNaIncomeIsMissing) {
  const RawRecord& second = rows_->records[1];
  EXPECT_EQ(second.ncodpers.value, 1170544);
  EXPECT_TRUE(second.renta.missing());
  int missing = 0;
  for (const RawRecord& r : rows_->records) missing += r.renta.missing();
  EXPECT_EQ(missing, 7658);
}

TEST_F(RealTestRows, QuotedProvinceWithCommaIsReadVerbatim) {
  EXPECT_EQ(rows_->records[2].nomprov.value, "CORUÑA, A");
  EXPECT_EQ(rows_->records[2].ind_actividad_cliente.value, 1);
}

}  // namespace
}  // namespace recsys
