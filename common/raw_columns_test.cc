#include "common/raw_columns.h"

#include <string>

#include "gtest/gtest.h"

namespace recsys {
namespace {

TEST(RawColumnsTest, TableIsTheFileOrderOfTheTestFileHeader) {
  std::string header;
  for (const RawColumn& column : kRawColumns) {
    if (!header.empty()) header += ",";
    header += std::string(column.name);
  }
  EXPECT_EQ(header,
            "fecha_dato,ncodpers,ind_empleado,pais_residencia,sexo,age,"
            "fecha_alta,ind_nuevo,antiguedad,indrel,ult_fec_cli_1t,"
            "indrel_1mes,tiprel_1mes,indresi,indext,conyuemp,canal_entrada,"
            "indfall,tipodom,cod_prov,nomprov,ind_actividad_cliente,renta,"
            "segmento");
  EXPECT_EQ(RawColumnName(kFirstProductColumn), "ind_ahor_fin_ult1");
  EXPECT_EQ(FindRawColumn("renta"), kRenta);
  EXPECT_EQ(FindRawColumn("ind_recibo_ult1"), kNumRawColumns - 1);
  EXPECT_EQ(FindRawColumn("edad"), std::nullopt);
}

TEST(RawColumnsTest, ParseColumnTextReadsEachKindByTheFilesRules) {
  RawRecord r;
  EXPECT_EQ(ParseColumnText(kRawColumns[kAge], "  35", &r), "");
  EXPECT_EQ(r.age.value, 35);
  EXPECT_EQ(ParseColumnText(kRawColumns[kFechaAlta], " 1/16/1995", &r), "");
  EXPECT_EQ(r.fecha_alta.value.ToString(), "1995-01-16");
  EXPECT_EQ(ParseColumnText(kRawColumns[kIndrel1mes], "1.00", &r), "");
  EXPECT_EQ(r.indrel_1mes.value, "1");
  EXPECT_EQ(ParseColumnText(kRawColumns[kSegmento], " 01 - TOP ", &r), "");
  EXPECT_EQ(r.segmento.value, "01 - TOP");
  EXPECT_EQ(ParseColumnText(kRawColumns[kRenta], "87218.1", &r), "");
  EXPECT_EQ(r.renta.value, 87218.1);
  for (int id : {kAge, kFechaAlta, kIndrel1mes, kSegmento, kRenta}) {
    EXPECT_EQ(RawColumnState(r, id), FieldState::kPresent) << id;
  }
}

TEST(RawColumnsTest, NaAndBlanksAreMissingInEveryColumn) {
  for (const RawColumn& column : kRawColumns) {
    for (const char* text : {"", "NA", "     NA", "  "}) {
      RawRecord r;
      EXPECT_EQ(ParseColumnText(column, text, &r), "") << column.name;
      EXPECT_EQ(RawColumnState(r, column.id), FieldState::kMissing)
          << column.name << " \"" << text << "\"";
    }
  }
}

TEST(RawColumnsTest, InvalidTextIsInvalidWithItsReason) {
  struct Case {
    RawColumnId id;
    const char* text;
    const char* reason;
  };
  for (const Case& c :
       {Case{kAge, "3x", "not an integer"}, Case{kRenta, "inf", "not a number"},
        Case{kFechaDato, "2015-02-30", "impossible date"},
        Case{kFechaDato, "last june", "not a date"},
        Case{kIndrel1mes, "5", "not a customer type"},
        Case{kSexo, "\xE1", "not valid UTF-8"}}) {
    RawRecord r;
    const absl::string_view reason =
        ParseColumnText(kRawColumns[c.id], c.text, &r);
    EXPECT_EQ(reason.substr(0, std::string(c.reason).size()), c.reason)
        << c.text;
    EXPECT_EQ(RawColumnState(r, c.id), FieldState::kInvalid) << c.text;
  }
}

TEST(RawColumnsTest, ClearColumnMakesAFieldMissing) {
  RawRecord r;
  r.nomprov.Set("MADRID");
  r.age.Set(35);
  ClearColumn(kRawColumns[kNomprov], &r);
  ClearColumn(kRawColumns[kAge], &r);
  EXPECT_TRUE(r.nomprov.missing());
  EXPECT_EQ(r.nomprov.value, "");
  EXPECT_TRUE(r.age.missing());
  EXPECT_EQ(r.age.value, 0);
}

}  // namespace
}  // namespace recsys
