#include "server/record_codec.h"

#include <cmath>
#include <functional>
#include <limits>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace recsys {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// A customer with every field set, as a client would send the first row of
// the real test file.
v1::CustomerRecord FullCustomer() {
  v1::CustomerRecord c;
  c.set_ncodpers(15889);
  c.set_fecha_dato("2016-06-28");
  c.set_ind_empleado("F");
  c.set_pais_residencia("ES");
  c.set_sexo("V");
  c.set_age(56);
  c.set_fecha_alta("1995-01-16");
  c.set_ind_nuevo(0);
  c.set_antiguedad(256);
  c.set_indrel(1);
  c.set_ult_fec_cli_1t("2016-06-03");
  c.set_indrel_1mes("1");
  c.set_tiprel_1mes("A");
  c.set_indresi("S");
  c.set_indext("N");
  c.set_conyuemp("N");
  c.set_canal_entrada("KAT");
  c.set_indfall("N");
  c.set_tipodom(1);
  c.set_cod_prov(28);
  c.set_nomprov("CORUÑA, A");
  c.set_ind_actividad_cliente(1);
  c.set_renta(326124.9);
  c.set_segmento("01 - TOP");
  return c;
}

v1::CustomerRecord OnlyCustomerCode() {
  v1::CustomerRecord c;
  c.set_ncodpers(15889);
  return c;
}

Date D(int year, int month, int day) {
  return Date{static_cast<int16_t>(year), static_cast<int8_t>(month),
              static_cast<int8_t>(day)};
}

TEST(DecodeCustomerTest, EveryFieldMapsToItsRawField) {
  absl::StatusOr<RawRecord> r = DecodeCustomer(FullCustomer());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->ncodpers.value, 15889);
  EXPECT_EQ(r->fecha_dato.value, D(2016, 6, 28));
  EXPECT_EQ(r->ind_empleado.value, "F");
  EXPECT_EQ(r->pais_residencia.value, "ES");
  EXPECT_EQ(r->sexo.value, "V");
  EXPECT_EQ(r->age.value, 56);
  EXPECT_EQ(r->fecha_alta.value, D(1995, 1, 16));
  EXPECT_EQ(r->ind_nuevo.value, 0);
  EXPECT_EQ(r->antiguedad.value, 256);
  EXPECT_EQ(r->indrel.value, 1);
  EXPECT_EQ(r->ult_fec_cli_1t.value, D(2016, 6, 3));
  EXPECT_EQ(r->indrel_1mes.value, "1");
  EXPECT_EQ(r->tiprel_1mes.value, "A");
  EXPECT_EQ(r->indresi.value, "S");
  EXPECT_EQ(r->indext.value, "N");
  EXPECT_EQ(r->conyuemp.value, "N");
  EXPECT_EQ(r->canal_entrada.value, "KAT");
  EXPECT_EQ(r->indfall.value, "N");
  EXPECT_EQ(r->tipodom.value, 1);
  EXPECT_EQ(r->cod_prov.value, 28);
  EXPECT_EQ(r->nomprov.value, "CORUÑA, A");
  EXPECT_EQ(r->ind_actividad_cliente.value, 1);
  EXPECT_EQ(r->renta.value, 326124.9);
  EXPECT_EQ(r->segmento.value, "01 - TOP");
  for (bool present :
       {r->ncodpers.present(),       r->fecha_dato.present(),
        r->ind_empleado.present(),   r->pais_residencia.present(),
        r->sexo.present(),           r->age.present(),
        r->fecha_alta.present(),     r->ind_nuevo.present(),
        r->antiguedad.present(),     r->indrel.present(),
        r->ult_fec_cli_1t.present(), r->indrel_1mes.present(),
        r->tiprel_1mes.present(),    r->indresi.present(),
        r->indext.present(),         r->conyuemp.present(),
        r->canal_entrada.present(),  r->indfall.present(),
        r->tipodom.present(),        r->cod_prov.present(),
        r->nomprov.present(),        r->ind_actividad_cliente.present(),
        r->renta.present(),          r->segmento.present()}) {
    EXPECT_TRUE(present);
  }
  EXPECT_FALSE(r->has_products);
  EXPECT_EQ(r->line, 0);
}

TEST(DecodeCustomerTest, UnsetFieldsStayMissing) {
  absl::StatusOr<RawRecord> r = DecodeCustomer(OnlyCustomerCode());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->ncodpers.present());
  for (bool missing : {r->fecha_dato.missing(),
                       r->ind_empleado.missing(),
                       r->pais_residencia.missing(),
                       r->sexo.missing(),
                       r->age.missing(),
                       r->fecha_alta.missing(),
                       r->ind_nuevo.missing(),
                       r->antiguedad.missing(),
                       r->indrel.missing(),
                       r->ult_fec_cli_1t.missing(),
                       r->indrel_1mes.missing(),
                       r->tiprel_1mes.missing(),
                       r->indresi.missing(),
                       r->indext.missing(),
                       r->conyuemp.missing(),
                       r->canal_entrada.missing(),
                       r->indfall.missing(),
                       r->tipodom.missing(),
                       r->cod_prov.missing(),
                       r->nomprov.missing(),
                       r->ind_actividad_cliente.missing(),
                       r->renta.missing(),
                       r->segmento.missing()}) {
    EXPECT_TRUE(missing);
  }
}

TEST(DecodeCustomerTest, EmptyOrBlankTextIsMissingAndTextIsTrimmed) {
  v1::CustomerRecord c = OnlyCustomerCode();
  c.set_sexo("");
  c.set_fecha_alta("   ");
  c.set_indrel_1mes("");
  c.set_segmento("  02 - PARTICULARES ");
  absl::StatusOr<RawRecord> r = DecodeCustomer(c);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->sexo.missing());
  EXPECT_TRUE(r->fecha_alta.missing());
  EXPECT_TRUE(r->indrel_1mes.missing());
  EXPECT_EQ(r->segmento.value, "02 - PARTICULARES");
}

TEST(DecodeCustomerTest, AcceptsWhatTheRawFilesContain) {
  v1::CustomerRecord c = OnlyCustomerCode();
  c.set_fecha_dato("6/28/2016");  // a spreadsheet's re-save
  c.set_antiguedad(-999999);      // the files' unknown seniority
  c.set_indrel_1mes("3.0");
  c.set_sexo("X");  // unseen category: the featurizer's business
  c.set_renta(0);
  absl::StatusOr<RawRecord> r = DecodeCustomer(c);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->fecha_dato.value, D(2016, 6, 28));
  EXPECT_EQ(r->antiguedad.value, -999999);
  EXPECT_EQ(r->indrel_1mes.value, "3");
  EXPECT_EQ(r->sexo.value, "X");
  EXPECT_EQ(r->renta.value, 0.0);

  c.set_indrel_1mes("P");
  r = DecodeCustomer(c);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->indrel_1mes.value, "P");
}

TEST(DecodeCustomerTest, MessageNamesFieldAndValue) {
  v1::CustomerRecord c = FullCustomer();
  c.set_age(-3);
  absl::StatusOr<RawRecord> r = DecodeCustomer(c);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(),
            "customer.age: must be between 0 and 150, got -3");
  EXPECT_EQ(FieldPathOf(r.status()), "customer.age");
}

struct InvalidCase {
  std::string name;
  std::function<void(v1::CustomerRecord*)> mutate;
  std::string path;
  std::string value_text;  // how the value appears in the message
};

class InvalidFieldTest : public ::testing::TestWithParam<InvalidCase> {};

TEST_P(InvalidFieldTest, IsInvalidArgumentNamingFieldAndValue) {
  const InvalidCase& tc = GetParam();
  v1::CustomerRecord c = FullCustomer();
  tc.mutate(&c);
  absl::StatusOr<RawRecord> r = DecodeCustomer(c);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status().message()), StartsWith(tc.path + ": "));
  EXPECT_THAT(std::string(r.status().message()),
              HasSubstr("got " + tc.value_text));
  EXPECT_EQ(FieldPathOf(r.status()), tc.path);
}

const double kNaN = std::numeric_limits<double>::quiet_NaN();
const double kInf = std::numeric_limits<double>::infinity();

INSTANTIATE_TEST_SUITE_P(
    EveryValidatedField, InvalidFieldTest,
    ::testing::Values(
        InvalidCase{"ncodpers_unset", [](auto* c) { c->clear_ncodpers(); },
                    "customer.ncodpers", "0"},
        InvalidCase{"ncodpers_negative", [](auto* c) { c->set_ncodpers(-5); },
                    "customer.ncodpers", "-5"},
        InvalidCase{"fecha_dato_month_13",
                    [](auto* c) { c->set_fecha_dato("2016-13-28"); },
                    "customer.fecha_dato", "\"2016-13-28\""},
        InvalidCase{"fecha_dato_text",
                    [](auto* c) { c->set_fecha_dato("last june"); },
                    "customer.fecha_dato", "\"last june\""},
        InvalidCase{"fecha_alta_feb_30",
                    [](auto* c) { c->set_fecha_alta("2015-02-30"); },
                    "customer.fecha_alta", "\"2015-02-30\""},
        InvalidCase{"ult_fec_cli_1t_text",
                    [](auto* c) { c->set_ult_fec_cli_1t("soon"); },
                    "customer.ult_fec_cli_1t", "\"soon\""},
        InvalidCase{"age_negative", [](auto* c) { c->set_age(-3); },
                    "customer.age", "-3"},
        InvalidCase{"age_151", [](auto* c) { c->set_age(151); }, "customer.age",
                    "151"},
        InvalidCase{"ind_nuevo_2", [](auto* c) { c->set_ind_nuevo(2); },
                    "customer.ind_nuevo", "2"},
        InvalidCase{"antiguedad_negative",
                    [](auto* c) { c->set_antiguedad(-1); },
                    "customer.antiguedad", "-1"},
        InvalidCase{"antiguedad_huge", [](auto* c) { c->set_antiguedad(5000); },
                    "customer.antiguedad", "5000"},
        InvalidCase{"indrel_2", [](auto* c) { c->set_indrel(2); },
                    "customer.indrel", "2"},
        InvalidCase{"indrel_1mes_5", [](auto* c) { c->set_indrel_1mes("5"); },
                    "customer.indrel_1mes", "\"5\""},
        InvalidCase{"indrel_1mes_lowercase_p",
                    [](auto* c) { c->set_indrel_1mes("p"); },
                    "customer.indrel_1mes", "\"p\""},
        InvalidCase{"indrel_1mes_fraction",
                    [](auto* c) { c->set_indrel_1mes("1.5"); },
                    "customer.indrel_1mes", "\"1.5\""},
        InvalidCase{"tipodom_negative", [](auto* c) { c->set_tipodom(-1); },
                    "customer.tipodom", "-1"},
        InvalidCase{"cod_prov_0", [](auto* c) { c->set_cod_prov(0); },
                    "customer.cod_prov", "0"},
        InvalidCase{"cod_prov_53", [](auto* c) { c->set_cod_prov(53); },
                    "customer.cod_prov", "53"},
        InvalidCase{"ind_actividad_cliente_3",
                    [](auto* c) { c->set_ind_actividad_cliente(3); },
                    "customer.ind_actividad_cliente", "3"},
        InvalidCase{"renta_negative", [](auto* c) { c->set_renta(-10.5); },
                    "customer.renta", "-10.5"},
        InvalidCase{"renta_nan", [](auto* c) { c->set_renta(kNaN); },
                    "customer.renta", "nan"},
        InvalidCase{"renta_infinite", [](auto* c) { c->set_renta(kInf); },
                    "customer.renta", "inf"}),
    [](const ::testing::TestParamInfo<InvalidCase>& info) {
      return info.param.name;
    });

// --- history --------------------------------------------------------------

google::protobuf::RepeatedPtrField<v1::MonthProducts> History(
    std::initializer_list<std::pair<int, std::vector<std::string>>> months) {
  google::protobuf::RepeatedPtrField<v1::MonthProducts> history;
  for (const auto& [months_ago, products] : months) {
    v1::MonthProducts* m = history.Add();
    m->set_months_ago(months_ago);
    for (const std::string& p : products) m->add_products(p);
  }
  return history;
}

ProductMask Mask(std::initializer_list<const char*> names) {
  ProductMask mask = 0;
  for (const char* name : names) mask |= ProductBit(*FindProduct(name));
  return mask;
}

TEST(DecodeHistoryTest, AcceptsKaggleAndEnglishNamesSortedByMonth) {
  absl::StatusOr<ExplicitHistory> h =
      DecodeHistory(History({{2, {"ind_cco_fin_ult1"}},
                             {1, {"current_accounts", "ind_recibo_ult1"}},
                             {3, {}}}));
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(*h,
            (ExplicitHistory{{1, Mask({"ind_cco_fin_ult1", "ind_recibo_ult1"})},
                             {2, Mask({"ind_cco_fin_ult1"})},
                             {3, 0}}));
}

TEST(DecodeHistoryTest, UnknownProductNamesEntryAndValue) {
  absl::StatusOr<ExplicitHistory> h = DecodeHistory(
      History({{1, {"ind_cco_fin_ult1"}}, {2, {"ind_bitcoin_ult1"}}}));
  EXPECT_EQ(h.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(h.status().message()),
              StartsWith("history[1].products[0]: "));
  EXPECT_THAT(std::string(h.status().message()),
              HasSubstr("\"ind_bitcoin_ult1\""));
  EXPECT_EQ(FieldPathOf(h.status()), "history[1].products[0]");
}

TEST(DecodeHistoryTest, MonthsAgoOutsideOneToTwelveIsInvalid) {
  for (int months_ago : {0, -1, 13}) {
    absl::StatusOr<ExplicitHistory> h =
        DecodeHistory(History({{months_ago, {}}}));
    EXPECT_EQ(h.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(FieldPathOf(h.status()), "history[0].months_ago");
    EXPECT_THAT(std::string(h.status().message()),
                HasSubstr("got " + std::to_string(months_ago)));
  }
}

TEST(DecodeHistoryTest, MonthGivenTwiceIsInvalid) {
  absl::StatusOr<ExplicitHistory> h =
      DecodeHistory(History({{1, {}}, {2, {}}, {1, {"payroll"}}}));
  EXPECT_EQ(h.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(FieldPathOf(h.status()), "history[2].months_ago");
  EXPECT_THAT(std::string(h.status().message()), HasSubstr("history[0]"));
}

// --- k and whole requests -------------------------------------------------

TEST(DecodeTopKTest, ZeroMeansSevenAndRangeIsOneToTwentyFour) {
  EXPECT_EQ(*DecodeTopK(0), 7);
  EXPECT_EQ(*DecodeTopK(1), 1);
  EXPECT_EQ(*DecodeTopK(24), 24);
  for (int k : {-1, 25}) {
    absl::StatusOr<int> decoded = DecodeTopK(k);
    EXPECT_EQ(decoded.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(FieldPathOf(decoded.status()), "k");
    EXPECT_THAT(std::string(decoded.status().message()),
                HasSubstr("got " + std::to_string(k)));
  }
}

TEST(DecodeRecommendRequestTest, CustomerIsRequired) {
  v1::RecommendRequest request;
  absl::StatusOr<DecodedRequest> decoded = DecodeRecommendRequest(request);
  EXPECT_EQ(decoded.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(FieldPathOf(decoded.status()), "customer");
}

TEST(DecodeRecommendRequestTest, HistoryOnlyWhenGiven) {
  v1::RecommendRequest request;
  *request.mutable_customer() = FullCustomer();
  request.set_k(3);
  absl::StatusOr<DecodedRequest> decoded = DecodeRecommendRequest(request);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_FALSE(decoded->history.has_value());
  EXPECT_EQ(decoded->k, 3);
  EXPECT_EQ(decoded->record.ncodpers.value, 15889);

  *request.mutable_history() = History({{1, {}}});
  decoded = DecodeRecommendRequest(request);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  ASSERT_TRUE(decoded->history.has_value());
  EXPECT_EQ(*decoded->history, (ExplicitHistory{{1, 0}}));
}

TEST(DecodeRecommendRequestTest, InvalidKIsReported) {
  v1::RecommendRequest request;
  *request.mutable_customer() = FullCustomer();
  request.set_k(25);
  EXPECT_EQ(FieldPathOf(DecodeRecommendRequest(request).status()), "k");
}

TEST(DecodeRecommendRequestTest, ExplainIsOffByDefaultWithFiveFeatures) {
  v1::RecommendRequest request;
  *request.mutable_customer() = FullCustomer();
  absl::StatusOr<DecodedRequest> decoded = DecodeRecommendRequest(request);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_FALSE(decoded->explain);
  EXPECT_EQ(decoded->explain_features, 5);

  request.set_explain(true);
  request.set_explain_features(64);
  decoded = DecodeRecommendRequest(request);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_TRUE(decoded->explain);
  EXPECT_EQ(decoded->explain_features, 64);
}

TEST(DecodeRecommendRequestTest, ExplainFeaturesOutOfRangeNamesFieldAndValue) {
  EXPECT_EQ(*DecodeExplainFeatures(0), 5);
  EXPECT_EQ(*DecodeExplainFeatures(1), 1);
  for (int n : {-1, 65, 1000}) {
    v1::RecommendRequest request;
    *request.mutable_customer() = FullCustomer();
    request.set_explain(true);
    request.set_explain_features(n);
    const absl::Status status = DecodeRecommendRequest(request).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(FieldPathOf(status), "explain_features");
    EXPECT_EQ(std::string(status.message()),
              "explain_features: must be between 1 and 64 (0 = 5), got " +
                  std::to_string(n));
  }
}

TEST(DecodeScoreRowTest, PathsAreRelativeToTheRow) {
  v1::ScoreRow row;
  row.set_row_id(17);
  *row.mutable_customer() = FullCustomer();
  row.mutable_customer()->set_cod_prov(77);
  absl::StatusOr<DecodedRequest> decoded = DecodeScoreRow(row, 7);
  EXPECT_EQ(decoded.status().message(),
            "customer.cod_prov: must be between 1 and 52, got 77");

  row.mutable_customer()->set_cod_prov(8);
  *row.mutable_history() = History({{1, {"ind_tjcr_fin_ult1"}}});
  decoded = DecodeScoreRow(row, 5);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->k, 5);
  EXPECT_EQ(*decoded->history,
            (ExplicitHistory{{1, Mask({"ind_tjcr_fin_ult1"})}}));
}

TEST(FieldPathOfTest, EmptyForOtherStatuses) {
  EXPECT_EQ(FieldPathOf(absl::OkStatus()), "");
  EXPECT_EQ(FieldPathOf(absl::InvalidArgumentError("x: y")), "");
}

}  // namespace
}  // namespace recsys
