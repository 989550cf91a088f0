// Feature values for hand-made records and histories.
#include "featurizer/featurizer.h"

#include <cmath>
#include <cstring>
#include <map>
#include <string>

#include "featurizer/labels.h"
#include "featurizer/product_history.h"
#include "featurizer/test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace recsys {
namespace {

using featurizer_testing::Month;
using featurizer_testing::RealRecord;
using featurizer_testing::RealRecordWith;

constexpr ProductMask kA = ProductBit(2);   // ind_cco_fin_ult1
constexpr ProductMask kB = ProductBit(12);  // ind_ecue_fin_ult1
constexpr ProductMask kC = ProductBit(23);  // ind_recibo_ult1

constexpr char kSpec[] = R"({"features": [
  {"kind": "numeric", "column": "age"},
  {"kind": "numeric", "column": "renta"},
  {"kind": "categorical", "column": "sexo", "min_count": 1},
  {"kind": "categorical", "column": "canal_entrada", "min_count": 1},
  {"kind": "date", "feature": "fecha_dato_month"},
  {"kind": "product_lags", "lags": 3},
  {"kind": "history", "feature": "products_last_month"},
  {"kind": "history", "feature": "additions", "window": 3},
  {"kind": "history", "feature": "drops", "window": 3},
  {"kind": "history", "feature": "months_since_first_seen"}
]})";

class FeaturizerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto spec = ParseFeatureSpec(kSpec);
    ASSERT_TRUE(spec.ok()) << spec.status();
    VocabularyLearner learner(*spec);
    learner.Add(RealRecord());                            // H, KHL
    learner.Add(RealRecordWith("canal_entrada", "KAT"));  // H, KAT
    learner.Add(RealRecordWith("sexo", "V"));             // V, KHL
    auto f = Featurizer::Create(*spec, learner.Finish());
    ASSERT_TRUE(f.ok()) << f.status();
    featurizer_ = *std::move(f);
  }

  std::vector<float> Featurize(const RawRecord& r, const HistoryView& h) const {
    std::vector<float> out(featurizer_->num_features(), -7.0f);
    featurizer_->Featurize(r, h, out.data());
    return out;
  }
  float Value(const std::vector<float>& row, absl::string_view name) const {
    const auto& names = featurizer_->feature_names();
    auto it = std::find(names.begin(), names.end(), name);
    EXPECT_NE(it, names.end()) << name;
    return row[it - names.begin()];
  }
  float Lag(const std::vector<float>& row, int product, int lag) const {
    return Value(row, absl::StrCat(kProducts[product].column, "_lag", lag));
  }
  static HistoryView History(std::vector<std::pair<int, ProductMask>> months) {
    return *HistoryView::FromExplicit(months);
  }

  std::unique_ptr<const Featurizer> featurizer_;
};

TEST_F(FeaturizerTest, WritesEveryFeature) {
  std::vector<float> row = Featurize(RealRecord(), HistoryView());
  EXPECT_EQ(featurizer_->num_features(), 2 + 2 + 1 + 72 + 4);
  for (float v : row) EXPECT_NE(v, -7.0f);
}

TEST_F(FeaturizerTest, NumericsAreCleanedValues) {
  std::vector<float> row =
      Featurize(RealRecordWith("age", "130"), HistoryView());
  EXPECT_TRUE(std::isnan(Value(row, "age")));
  EXPECT_EQ(Value(row, "renta"), 87218.1f);
  EXPECT_EQ(Value(row, "fecha_dato_month"), 1.0f);
}

TEST_F(FeaturizerTest, CategoriesBecomeVocabularyCodes) {
  std::vector<float> row =
      Featurize(RealRecordWith("canal_entrada", "KAT"), HistoryView());
  EXPECT_EQ(Value(row, "sexo"), 0.0f);           // H: 2 rows
  EXPECT_EQ(Value(row, "canal_entrada"), 1.0f);  // KHL 2 rows (code 0), KAT 1
  row = Featurize(RealRecordWith("sexo", "V"), HistoryView());
  EXPECT_EQ(Value(row, "sexo"), 1.0f);
}

TEST_F(FeaturizerTest, UnseenCategoryGetsItsOwnCodeAndIsCountable) {
  std::vector<float> row =
      Featurize(RealRecordWith("canal_entrada", "ZZZ"), HistoryView());
  EXPECT_EQ(Value(row, "canal_entrada"), 2.0f);  // vocabulary size
  const int f = 3;
  ASSERT_EQ(featurizer_->feature_names()[f], "canal_entrada");
  EXPECT_TRUE(featurizer_->schema().IsUnknownCategory(f, row[f]));
  EXPECT_FALSE(featurizer_->schema().IsUnknownCategory(f, 1.0f));
}

TEST_F(FeaturizerTest, MissingCategoryIsNaN) {
  std::vector<float> row = Featurize(RealRecordWith("sexo", ""), HistoryView());
  EXPECT_TRUE(FeatureSchema::IsMissing(Value(row, "sexo")));
}

TEST_F(FeaturizerTest, LagsAreOwnershipInEachPreviousMonth) {
  std::vector<float> row =
      Featurize(RealRecord(), History({{1, kA | kB}, {2, kA}, {3, kA}}));
  EXPECT_EQ(Lag(row, 2, 1), 1.0f);
  EXPECT_EQ(Lag(row, 12, 1), 1.0f);
  EXPECT_EQ(Lag(row, 12, 2), 0.0f);
  EXPECT_EQ(Lag(row, 0, 3), 0.0f);
  EXPECT_EQ(Value(row, "products_last_month"), 2.0f);
}

TEST_F(FeaturizerTest, FirstMonthHasNaNLagsAndHistory) {
  std::vector<float> row = Featurize(RealRecord(), HistoryView());
  for (int lag = 1; lag <= 3; ++lag) {
    for (int p = 0; p < kNumProducts; ++p)
      EXPECT_TRUE(std::isnan(Lag(row, p, lag)));
  }
  EXPECT_TRUE(std::isnan(Value(row, "products_last_month")));
  EXPECT_TRUE(std::isnan(Value(row, "additions_3m")));
  EXPECT_TRUE(std::isnan(Value(row, "months_since_first_seen")));
}

TEST_F(FeaturizerTest, AbsentMonthIsNaNWhileTheOlderLagRemains) {
  // Present 3 months ago and last month, absent 2 months ago.
  std::vector<float> row =
      Featurize(RealRecord(), History({{1, kA}, {3, kA | kC}}));
  EXPECT_EQ(Lag(row, 2, 1), 1.0f);
  EXPECT_TRUE(std::isnan(Lag(row, 2, 2)));
  EXPECT_EQ(Lag(row, 23, 3), 1.0f);
  EXPECT_EQ(Lag(row, 12, 3), 0.0f);
  // No two consecutive present months: no countable change.
  EXPECT_TRUE(std::isnan(Value(row, "additions_3m")));
  EXPECT_EQ(Value(row, "months_since_first_seen"), 3.0f);
}

TEST_F(FeaturizerTest, AdditionsAndDropsOverTheWindow) {
  // lag4 {A} -> lag3 {A,B}: +B; lag3 -> lag2 {B}: -A; lag2 -> lag1 {B,C}: +C.
  std::vector<float> row = Featurize(
      RealRecord(), History({{4, kA}, {3, kA | kB}, {2, kB}, {1, kB | kC}}));
  EXPECT_EQ(Value(row, "additions_3m"), 2.0f);
  EXPECT_EQ(Value(row, "drops_3m"), 1.0f);
}

TEST_F(FeaturizerTest, ChangesBeyondTheWindowAreNotCounted) {
  // The only change is lag5 -> lag4, outside a 3-month window.
  std::vector<float> row = Featurize(
      RealRecord(), History({{5, 0}, {4, kA}, {3, kA}, {2, kA}, {1, kA}}));
  EXPECT_EQ(Value(row, "additions_3m"), 0.0f);
  EXPECT_EQ(Value(row, "drops_3m"), 0.0f);
}

TEST_F(FeaturizerTest, SnapshotAndExplicitHistoriesGiveTheSameVector) {
  auto builder = *ProductHistoryBuilder::Create({});
  const int jan = Month(2015, 1);
  ASSERT_TRUE(builder->Observe(jan, 1375586, kA).ok());
  ASSERT_TRUE(builder->Observe(jan + 1, 1375586, kA | kB).ok());
  ASSERT_TRUE(
      builder->Observe(jan + 3, 1375586, kB).ok());  // jan+2 not in data
  auto snapshot = *builder->Snapshot();
  HistoryView from_snapshot = *snapshot->Lookup(1375586, jan + 4);
  HistoryView given = History({{1, kB}, {3, kA | kB}, {4, kA}});
  std::vector<float> a = Featurize(RealRecord(), from_snapshot);
  std::vector<float> b = Featurize(RealRecord(), given);
  ASSERT_EQ(a.size(), b.size());
  EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)), 0);
}

TEST_F(FeaturizerTest, SchemaDescribesEachFeature) {
  const FeatureSchema& schema = featurizer_->schema();
  ASSERT_EQ(schema.num_features(), featurizer_->num_features());
  EXPECT_EQ(schema.features[0].kind, FeatureKind::kNumeric);
  EXPECT_EQ(schema.features[2].kind, FeatureKind::kCategorical);
  EXPECT_EQ(schema.features[2].vocab_size, 2);
  EXPECT_THAT(schema.features[2].categories, ::testing::ElementsAre("H", "V"));
  const FeatureInfo& lag = schema.features[5 + 24 + 3];
  EXPECT_EQ(lag.kind, FeatureKind::kProductLags);
  EXPECT_EQ(lag.lag, 2);
  EXPECT_EQ(lag.product, 3);
  EXPECT_EQ(lag.name, "ind_cder_fin_ult1_lag2");
}

// Explanations name, for each feature, the raw column it comes from and the
// record's value there (FeatureInfo::raw_column, RawColumnText).
TEST(FeaturizerRawColumns, EachFeatureNamesItsRawColumnOrNone) {
  auto spec = ParseFeatureSpec(R"({"features": [
    {"kind": "numeric", "column": "age"},
    {"kind": "numeric", "column": "renta"},
    {"kind": "categorical", "column": "segmento", "min_count": 1},
    {"kind": "categorical", "column": "indrel_1mes", "min_count": 1},
    {"kind": "date", "feature": "fecha_dato_month"},
    {"kind": "date", "feature": "fecha_alta_year"},
    {"kind": "date", "feature": "fecha_alta_month"},
    {"kind": "date", "feature": "months_since_alta"},
    {"kind": "date", "feature": "ult_fec_cli_1t_set"},
    {"kind": "date", "feature": "days_to_ult_fec_cli_1t"},
    {"kind": "product_lags", "lags": 1},
    {"kind": "history", "feature": "products_last_month"},
    {"kind": "history", "feature": "months_since_first_seen"}
  ]})");
  ASSERT_TRUE(spec.ok()) << spec.status();
  VocabularyLearner learner(*spec);
  learner.Add(RealRecord());
  auto featurizer = Featurizer::Create(*spec, learner.Finish());
  ASSERT_TRUE(featurizer.ok()) << featurizer.status();
  std::map<std::string, std::string> column_of;
  for (const FeatureInfo& info : (*featurizer)->schema().features) {
    column_of[info.name] =
        info.raw_column < 0 ? "-" : std::string(RawColumnName(info.raw_column));
  }
  EXPECT_EQ(column_of["age"], "age");
  EXPECT_EQ(column_of["renta"], "renta");
  EXPECT_EQ(column_of["segmento"], "segmento");
  EXPECT_EQ(column_of["indrel_1mes"], "indrel_1mes");
  EXPECT_EQ(column_of["fecha_dato_month"], "fecha_dato");
  EXPECT_EQ(column_of["fecha_alta_year"], "fecha_alta");
  EXPECT_EQ(column_of["fecha_alta_month"], "fecha_alta");
  EXPECT_EQ(column_of["months_since_alta"], "fecha_alta");
  EXPECT_EQ(column_of["ult_fec_cli_1t_set"], "ult_fec_cli_1t");
  EXPECT_EQ(column_of["days_to_ult_fec_cli_1t"], "ult_fec_cli_1t");
  EXPECT_EQ(column_of["ind_recibo_ult1_lag1"], "-");
  EXPECT_EQ(column_of["products_last_month"], "-");
  EXPECT_EQ(column_of["months_since_first_seen"], "-");
  EXPECT_EQ(column_of.size(), 10u + 24u + 2u);
}

TEST(FeaturizerRawColumns, RawValuesAreTheRecordsValuesAsText) {
  // The real row: " 35", "2015-01-12", "87218.1", "1.0", ult_fec_cli_1t "".
  const RawRecord r = RealRecord();
  EXPECT_EQ(RawColumnText(r, kAge), "35");
  EXPECT_EQ(RawColumnText(r, kFechaAlta), "2015-01-12");
  EXPECT_EQ(RawColumnText(r, kRenta), "87218.1");
  EXPECT_EQ(RawColumnText(r, kIndrel1mes), "1");
  EXPECT_EQ(RawColumnText(r, kSegmento), "02 - PARTICULARES");
  EXPECT_EQ(RawColumnText(r, kNomprov), "MALAGA");
  EXPECT_EQ(RawColumnText(r, kUltFecCli1t), "");  // missing
  EXPECT_EQ(RawColumnText(RealRecordWith("age", "NA"), kAge), "");
  EXPECT_EQ(RawColumnText(RealRecordWith("age", "x"), kAge), "");  // invalid
  EXPECT_EQ(RawColumnText(r, -1), "");
}

TEST_F(FeaturizerTest, CalendarFeaturesAreMarked) {
  const FeatureSchema& schema = featurizer_->schema();
  for (const FeatureInfo& info : schema.features) {
    EXPECT_EQ(info.follows_calendar, info.name == "fecha_dato_month" ||
                                         info.name == "months_since_first_seen")
        << info.name;
  }
}

TEST_F(FeaturizerTest, AdvanceOneMonthMovesOnlyTheCalendar) {
  // A customer first seen 4 months before 2016-05.
  RawRecord record = RealRecordWith("fecha_dato", "2016-05-28");
  std::vector<float> row = Featurize(
      record, History({{4, kA}, {1, kA | kB}}));
  ASSERT_EQ(Value(row, "fecha_dato_month"), 5.0f);
  ASSERT_EQ(Value(row, "months_since_first_seen"), 4.0f);
  std::vector<float> next = row;
  featurizer_->AdvanceOneMonth(next.data());
  EXPECT_EQ(Value(next, "fecha_dato_month"), 6.0f);
  EXPECT_EQ(Value(next, "months_since_first_seen"), 5.0f);
  for (size_t f = 0; f < row.size(); ++f) {
    const std::string& name = featurizer_->feature_names()[f];
    if (name == "fecha_dato_month" || name == "months_since_first_seen") {
      continue;
    }
    EXPECT_TRUE(std::memcmp(&row[f], &next[f], sizeof(float)) == 0) << name;
  }

  // December becomes January; a missing value stays missing.
  std::vector<float> december =
      Featurize(RealRecordWith("fecha_dato", "2015-12-28"), HistoryView());
  ASSERT_TRUE(std::isnan(Value(december, "months_since_first_seen")));
  featurizer_->AdvanceOneMonth(december.data());
  EXPECT_EQ(Value(december, "fecha_dato_month"), 1.0f);
  EXPECT_TRUE(std::isnan(Value(december, "months_since_first_seen")));
}

TEST(Featurizer, MissingVocabularyIsRejected) {
  auto spec = ParseFeatureSpec(
      R"({"features": [{"kind": "categorical", "column": "sexo"}]})");
  auto f = Featurizer::Create(*spec, Vocabularies());
  EXPECT_EQ(f.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(f.status().message(), ::testing::HasSubstr("sexo"));
}

// The training loop over months with the builder: features before the
// month, labels from the same view.
TEST_F(FeaturizerTest, TrainingLoopOverMonths) {
  auto builder = *ProductHistoryBuilder::Create({});
  const int jan = Month(2015, 1);
  std::vector<std::optional<ProductMask>> labels;
  std::vector<float> feb_row;
  for (auto [month, owned] : std::vector<std::pair<int, ProductMask>>{
           {jan, kA}, {jan + 1, kA | kC}}) {
    RawRecord r = RealRecordWith("fecha_dato", MonthName(month) + "-28");
    HistoryView before = *builder->Lookup(r.ncodpers.value, month);
    if (month == jan + 1) feb_row = Featurize(r, before);
    labels.push_back(AddedProducts(owned, before));
    ASSERT_TRUE(builder->Observe(month, r.ncodpers.value, owned).ok());
  }
  EXPECT_EQ(labels[0], std::nullopt);  // first month: no labels
  EXPECT_EQ(labels[1], kC);
  EXPECT_EQ(Lag(feb_row, 2, 1), 1.0f);
  EXPECT_TRUE(std::isnan(Lag(feb_row, 2, 2)));
  EXPECT_EQ(Value(feb_row, "fecha_dato_month"), 2.0f);
  EXPECT_EQ(Value(feb_row, "months_since_first_seen"), 1.0f);
}

}  // namespace
}  // namespace recsys
