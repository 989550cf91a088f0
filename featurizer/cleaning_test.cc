// Each cleaning rule, on the first real train row with one column changed.
#include "featurizer/cleaning.h"

#include <cmath>

#include "featurizer/test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace recsys {
namespace {

using featurizer_testing::D;
using featurizer_testing::RealRecord;
using featurizer_testing::RealRecordWith;

Cleaned Numeric(absl::string_view column, absl::string_view raw) {
  return CleanNumeric(RealRecordWith(column, raw), *FindRawColumn(column));
}

void ExpectValue(const Cleaned& c, double value) {
  EXPECT_EQ(c.outcome, CleanOutcome::kValue);
  EXPECT_EQ(c.value, value);
}

void ExpectNaN(const Cleaned& c, CleanOutcome why) {
  EXPECT_EQ(c.outcome, why);
  EXPECT_TRUE(std::isnan(c.value));
}

TEST(CleanAge, KeepsAgesFromZeroTo120) {
  ExpectValue(Numeric("age", " 35"), 35);
  ExpectValue(Numeric("age", "  0"), 0);
  ExpectValue(Numeric("age", "120"), 120);
}

TEST(CleanAge, AgeAbove120IsOutOfRangeInsteadOfWrapping) {
  ExpectNaN(Numeric("age", "130"), CleanOutcome::kOutOfRange);
  ExpectNaN(Numeric("age", "200"), CleanOutcome::kOutOfRange);  // int8 gave -56
}

TEST(CleanAge, NegativeAgeIsOutOfRange) {
  ExpectNaN(Numeric("age", "-1"), CleanOutcome::kOutOfRange);
}

TEST(CleanAge, NaIsMissing) {
  ExpectNaN(Numeric("age", " NA"), CleanOutcome::kMissing);
}

TEST(CleanAge, InvalidTextIsMissingAndCountedAsInvalid) {
  ExpectNaN(Numeric("age", "3x"), CleanOutcome::kInvalid);
}

TEST(CleanAntiguedad, KeepsSeniorityBeyondInt8Range) {
  ExpectValue(Numeric("antiguedad", "    256"), 256);  // int8 gave 0
}

TEST(CleanAntiguedad, MarkerMinus999999IsOutOfRange) {
  ExpectNaN(Numeric("antiguedad", "-999999"), CleanOutcome::kOutOfRange);
}

TEST(CleanAntiguedad, AnyNegativeSeniorityIsOutOfRange) {
  ExpectNaN(Numeric("antiguedad", "     -1"), CleanOutcome::kOutOfRange);
}

TEST(CleanRenta, KeepsTheFractionalPart) {
  ExpectValue(Numeric("renta", "122179.11000000002"), 122179.11000000002);
}

TEST(CleanRenta, KeepsLargeIncomesWithoutWrapping) {
  ExpectValue(Numeric("renta", "28894395.51"), 28894395.51);
}

TEST(CleanRenta, ZeroOrNegativeIncomeIsOutOfRange) {
  ExpectNaN(Numeric("renta", "0"), CleanOutcome::kOutOfRange);
  ExpectNaN(Numeric("renta", "-5.5"), CleanOutcome::kOutOfRange);
}

TEST(CleanRenta, PaddedNaIsMissing) {
  ExpectNaN(Numeric("renta", "         NA"), CleanOutcome::kMissing);
  ExpectNaN(Numeric("renta", ""), CleanOutcome::kMissing);
}

TEST(CleanIndNuevo, ZeroOrOneElseOutOfRange) {
  ExpectValue(Numeric("ind_nuevo", " 1"), 1);
  ExpectValue(Numeric("ind_nuevo", " 0"), 0);
  ExpectNaN(Numeric("ind_nuevo", " 2"), CleanOutcome::kOutOfRange);
}

TEST(CleanIndrel, OneOr99KeptAsNumbers) {
  ExpectValue(Numeric("indrel", " 1"), 1);
  ExpectValue(Numeric("indrel", "99"), 99);
  ExpectNaN(Numeric("indrel", " 3"), CleanOutcome::kOutOfRange);
}

TEST(CleanIndActividadCliente, ZeroOrOneElseOutOfRange) {
  ExpectValue(Numeric("ind_actividad_cliente", " 0"), 0);
  ExpectNaN(Numeric("ind_actividad_cliente", " 7"), CleanOutcome::kOutOfRange);
}

TEST(CleanCodProv, ProvinceCodes1To52) {
  ExpectValue(Numeric("cod_prov", "52"), 52);
  ExpectNaN(Numeric("cod_prov", "53"), CleanOutcome::kOutOfRange);
  ExpectNaN(Numeric("cod_prov", "NA"), CleanOutcome::kMissing);
}

TEST(CleanTipodom, IntegerAsIs) { ExpectValue(Numeric("tipodom", " 1"), 1); }

// A cleaned category with its own copy of the text: CleanedText::text points
// into the record, which is gone when this returns.
struct OwnedText {
  std::string text;
  CleanOutcome outcome;
  bool ok() const { return outcome == CleanOutcome::kValue; }
};

OwnedText Category(absl::string_view column, absl::string_view raw) {
  const RawRecord record = RealRecordWith(column, raw);
  const CleanedText cleaned = CleanCategorical(record, *FindRawColumn(column));
  return {std::string(cleaned.text), cleaned.outcome};
}

TEST(CleanCategorical, IndrelMesPIsACategoryNotMissing) {
  OwnedText c = Category("indrel_1mes", "P");
  EXPECT_EQ(c.outcome, CleanOutcome::kValue);
  EXPECT_EQ(c.text, "P");
}

TEST(CleanCategorical, IndrelMesZeroFractionIsTheSameCategory) {
  EXPECT_EQ(Category("indrel_1mes", "1.0").text, "1");
  EXPECT_EQ(Category("indrel_1mes", "3").text, "3");
}

TEST(CleanCategorical, IndrelMesWrittenByHandIsCanonicalisedToo) {
  RawRecord r = RealRecord();
  r.indrel_1mes.Set("2.0");  // e.g. from an API request, not the reader
  EXPECT_EQ(CleanCategorical(r, kIndrel1mes).text, "2");
  r.indrel_1mes.Set("9");
  EXPECT_EQ(CleanCategorical(r, kIndrel1mes).outcome, CleanOutcome::kInvalid);
}

TEST(CleanCategorical, TextIsKeptVerbatim) {
  EXPECT_EQ(Category("segmento", "01 - TOP").text, "01 - TOP");
  RawRecord r = RealRecord();
  r.nomprov.Set("CORUÑA, A");
  EXPECT_EQ(CleanCategorical(r, kNomprov).text, "CORUÑA, A");
}

TEST(CleanCategorical, EmptyTextIsMissing) {
  EXPECT_EQ(Category("sexo", "").outcome, CleanOutcome::kMissing);
}

TEST(CleanCategorical, InvalidFieldIsMissingAndCountedAsInvalid) {
  RawRecord r = RealRecord();
  r.sexo.state = FieldState::kInvalid;
  EXPECT_EQ(CleanCategorical(r, kSexo).outcome, CleanOutcome::kInvalid);
}

TEST(CleanDateFeature, FechaDatoBecomesItsMonthOfYear) {
  ExpectValue(CleanDateFeature(RealRecordWith("fecha_dato", "2015-06-28"),
                               DateFeature::kFechaDatoMonth),
              6);
}

TEST(CleanDateFeature, FechaAltaBecomesYearAndMonth) {
  RawRecord r = RealRecordWith("fecha_alta", "2012-08-10");
  ExpectValue(CleanDateFeature(r, DateFeature::kFechaAltaYear), 2012);
  ExpectValue(CleanDateFeature(r, DateFeature::kFechaAltaMonth), 8);
}

TEST(CleanDateFeature, MonthsSinceAltaAtFechaDato) {
  // 2012-08 -> 2015-01: 29 months.
  ExpectValue(CleanDateFeature(RealRecordWith("fecha_alta", "2012-08-10"),
                               DateFeature::kMonthsSinceAlta),
              29);
}

TEST(CleanDateFeature, SpreadsheetDatesGiveTheSameNumbers) {
  ExpectValue(CleanDateFeature(RealRecordWith("fecha_alta", "8/10/2012"),
                               DateFeature::kMonthsSinceAlta),
              29);
}

TEST(CleanDateFeature, AltaAfterFechaDatoIsOutOfRange) {
  ExpectNaN(CleanDateFeature(RealRecordWith("fecha_alta", "2015-03-01"),
                             DateFeature::kMonthsSinceAlta),
            CleanOutcome::kOutOfRange);
}

TEST(CleanDateFeature, ImpossibleDateIsInvalid) {
  ExpectNaN(CleanDateFeature(RealRecordWith("fecha_alta", "2015-02-30"),
                             DateFeature::kFechaAltaYear),
            CleanOutcome::kInvalid);
}

TEST(CleanDateFeature, UltFecCli1tSetIsZeroOrOneNeverNaN) {
  ExpectValue(CleanDateFeature(RealRecord(), DateFeature::kUltFecCli1tSet), 0);
  ExpectValue(CleanDateFeature(RealRecordWith("ult_fec_cli_1t", "2015-01-15"),
                               DateFeature::kUltFecCli1tSet),
              1);
}

TEST(CleanDateFeature, DaysToUltFecCli1tAreSigned) {
  ExpectValue(CleanDateFeature(RealRecordWith("ult_fec_cli_1t", "2015-07-02"),
                               DateFeature::kDaysToUltFecCli1t),
              155);
  ExpectValue(CleanDateFeature(RealRecordWith("ult_fec_cli_1t", "2015-01-02"),
                               DateFeature::kDaysToUltFecCli1t),
              -26);
  ExpectNaN(CleanDateFeature(RealRecord(), DateFeature::kDaysToUltFecCli1t),
            CleanOutcome::kMissing);
}

TEST(DateFeatureNames, RoundTrip) {
  for (int i = 0; i < kNumDateFeatures; ++i) {
    const auto f = static_cast<DateFeature>(i);
    EXPECT_EQ(FindDateFeature(DateFeatureName(f)), f);
  }
  EXPECT_EQ(FindDateFeature("fecha_dato_year"), std::nullopt);
}

TEST(CleanCustomerId, MustBePresentAndFitInUint32) {
  EXPECT_EQ(CleanCustomerId(RealRecord().ncodpers), 1375586u);
  IntField id;
  id.Set(-3);
  EXPECT_EQ(CleanCustomerId(id), std::nullopt);
  id.Set(int64_t{1} << 33);
  EXPECT_EQ(CleanCustomerId(id), std::nullopt);
  EXPECT_EQ(CleanCustomerId(IntField()), std::nullopt);
}

TEST(CleanOwnedProducts, NaProductsAreNotOwned) {
  RawRecord r = featurizer_testing::RealRecordWith("ind_nomina_ult1", "NA");
  r.products |= ProductBit(0);
  EXPECT_EQ(CleanOwnedProducts(r), ProductBit(0) | ProductBit(2));
  r.has_products = false;
  EXPECT_EQ(CleanOwnedProducts(r), 0u);
}

TEST(CleaningTally, CountsMissingInvalidAndOutOfRangePerColumn) {
  CleaningTally tally;
  tally.Add(RealRecord());
  tally.Add(RealRecordWith("age", "150"));
  tally.Add(RealRecordWith("age", "3x"));
  tally.Add(RealRecordWith("antiguedad", "-999999"));
  EXPECT_EQ(tally.rows(), 4);
  EXPECT_EQ(tally.count(kAge, CleanOutcome::kValue), 2);
  EXPECT_EQ(tally.count(kAge, CleanOutcome::kOutOfRange), 1);
  EXPECT_EQ(tally.count(kAge, CleanOutcome::kInvalid), 1);
  EXPECT_EQ(tally.count(kAntiguedad, CleanOutcome::kOutOfRange), 1);
  EXPECT_EQ(tally.count(kConyuemp, CleanOutcome::kMissing), 4);
  EXPECT_THAT(
      tally.ToString(),
      ::testing::HasSubstr("age: missing 0, invalid 1, out_of_range 1"));
}

TEST(CleaningTally, MergeAddsCounts) {
  CleaningTally a, b;
  a.Add(RealRecordWith("age", "150"));
  b.Add(RealRecordWith("age", "150"));
  a.Merge(b);
  EXPECT_EQ(a.rows(), 2);
  EXPECT_EQ(a.count(kAge, CleanOutcome::kOutOfRange), 2);
}

}  // namespace
}  // namespace recsys
