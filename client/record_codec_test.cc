#include "client/record_codec.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace recsys {
namespace {

using ::testing::HasSubstr;

RawRecord FullRecord() {
  RawRecord r;
  r.line = 2;
  r.fecha_dato.Set(Date{2016, 6, 28});
  r.ncodpers.Set(15889);
  r.ind_empleado.Set("F");
  r.pais_residencia.Set("ES");
  r.sexo.Set("V");
  r.age.Set(56);
  r.fecha_alta.Set(Date{1995, 1, 16});
  r.ind_nuevo.Set(0);
  r.antiguedad.Set(256);
  r.indrel.Set(1);
  r.ult_fec_cli_1t.Set(Date{2016, 6, 3});
  r.indrel_1mes.Set("1");
  r.tiprel_1mes.Set("A");
  r.indresi.Set("S");
  r.indext.Set("N");
  r.conyuemp.Set("N");
  r.canal_entrada.Set("KAT");
  r.indfall.Set("N");
  r.tipodom.Set(1);
  r.cod_prov.Set(28);
  r.nomprov.Set("MADRID");
  r.ind_actividad_cliente.Set(1);
  r.renta.Set(326124.9);
  r.segmento.Set("01 - TOP");
  return r;
}

TEST(EncodeCustomerTest, EveryPresentFieldIsSet) {
  absl::StatusOr<v1::CustomerRecord> c = EncodeCustomer(FullRecord());
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->ncodpers(), 15889);
  EXPECT_EQ(c->fecha_dato(), "2016-06-28");
  EXPECT_EQ(c->ind_empleado(), "F");
  EXPECT_EQ(c->pais_residencia(), "ES");
  EXPECT_EQ(c->sexo(), "V");
  EXPECT_EQ(c->age(), 56);
  EXPECT_EQ(c->fecha_alta(), "1995-01-16");
  EXPECT_EQ(c->ind_nuevo(), 0);
  EXPECT_TRUE(c->has_ind_nuevo());
  EXPECT_EQ(c->antiguedad(), 256);
  EXPECT_EQ(c->indrel(), 1);
  EXPECT_EQ(c->ult_fec_cli_1t(), "2016-06-03");
  EXPECT_EQ(c->indrel_1mes(), "1");
  EXPECT_EQ(c->tiprel_1mes(), "A");
  EXPECT_EQ(c->indresi(), "S");
  EXPECT_EQ(c->indext(), "N");
  EXPECT_EQ(c->conyuemp(), "N");
  EXPECT_EQ(c->canal_entrada(), "KAT");
  EXPECT_EQ(c->indfall(), "N");
  EXPECT_EQ(c->tipodom(), 1);
  EXPECT_EQ(c->cod_prov(), 28);
  EXPECT_EQ(c->nomprov(), "MADRID");
  EXPECT_EQ(c->ind_actividad_cliente(), 1);
  EXPECT_EQ(c->renta(), 326124.9);
  EXPECT_EQ(c->segmento(), "01 - TOP");
}

TEST(EncodeCustomerTest, MissingFieldsStayUnset) {
  RawRecord r;
  r.ncodpers.Set(1050741);
  absl::StatusOr<v1::CustomerRecord> c = EncodeCustomer(r);
  ASSERT_TRUE(c.ok()) << c.status();
  v1::CustomerRecord expected;
  expected.set_ncodpers(1050741);
  EXPECT_EQ(c->SerializeAsString(), expected.SerializeAsString());
  EXPECT_FALSE(c->has_age());
  EXPECT_FALSE(c->has_renta());
  EXPECT_FALSE(c->has_fecha_dato());
}

TEST(EncodeCustomerTest, InvalidFieldIsReportedNotSent) {
  RawRecord r = FullRecord();
  r.age.state = FieldState::kInvalid;
  absl::StatusOr<v1::CustomerRecord> c = EncodeCustomer(r);
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("customer.age"));

  r = FullRecord();
  r.fecha_alta.state = FieldState::kInvalid;
  EXPECT_THAT(std::string(EncodeCustomer(r).status().message()),
              HasSubstr("customer.fecha_alta"));
}

TEST(EncodeCustomerTest, IntegerTooLargeForTheApiIsAnError) {
  RawRecord r = FullRecord();
  r.antiguedad.Set(int64_t{1} << 40);
  EXPECT_THAT(std::string(EncodeCustomer(r).status().message()),
              HasSubstr("customer.antiguedad: out of range"));
}

TEST(ParseHistoryTextTest, MonthsAndProducts) {
  auto history =
      ParseHistoryText("1:ind_cco_fin_ult1, direct_debit; 3: ;2:payroll");
  ASSERT_TRUE(history.ok()) << history.status();
  ASSERT_EQ(history->size(), 3);
  EXPECT_EQ((*history)[0].months_ago(), 1);
  EXPECT_THAT((*history)[0].products(),
              ::testing::ElementsAre("ind_cco_fin_ult1", "direct_debit"));
  EXPECT_EQ((*history)[1].months_ago(), 3);
  EXPECT_EQ((*history)[1].products_size(), 0);
  EXPECT_EQ((*history)[2].months_ago(), 2);
  EXPECT_THAT((*history)[2].products(), ::testing::ElementsAre("payroll"));
}

TEST(ParseHistoryTextTest, EmptyTextIsNoHistory) {
  auto history = ParseHistoryText("");
  ASSERT_TRUE(history.ok());
  EXPECT_TRUE(history->empty());
}

TEST(ParseHistoryTextTest, BadPartsAreNamed) {
  EXPECT_THAT(std::string(ParseHistoryText("x:payroll").status().message()),
              HasSubstr("\"x:payroll\""));
  EXPECT_THAT(std::string(ParseHistoryText("1:payroll;1:").status().message()),
              HasSubstr("month 1 given twice"));
  EXPECT_THAT(
      std::string(ParseHistoryText("1:ind_gold_ult1").status().message()),
      HasSubstr("\"ind_gold_ult1\""));
  EXPECT_THAT(std::string(ParseHistoryText("payroll").status().message()),
              HasSubstr("MONTHS_AGO:PRODUCT"));
}

}  // namespace
}  // namespace recsys
