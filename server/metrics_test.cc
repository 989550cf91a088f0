// ServerMetrics with model versions: model info, reference bins and ratios,
// swaps, observed batches and the drift PSI. The series that need no model are
// in metrics_rpc_test.cc.
#include "server/metrics.h"

#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "featurizer/feature_spec.h"
#include "featurizer/featurizer.h"
#include "featurizer/reference.h"
#include "featurizer/vocabulary.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/metrics_testing.h"

namespace recsys {
namespace {

using metrics_testing::Exposition;
using metrics_testing::ParseExposition;
using ::testing::DoubleEq;
using ::testing::HasSubstr;
using ::testing::Optional;
using Labels = std::map<std::string, std::string>;

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr char kService[] = "santander.recsys.v1.Recommender";
constexpr int kAccounts = 2;  // ind_cco_fin_ult1
constexpr int kDebits = 23;   // ind_recibo_ult1

// Features of model version 1: age, renta (numeric) and sexo (categorical:
// H = 0, V = 1, unknown = 2). Version 2 drops renta and adds antiguedad.
constexpr char kSpecV1[] = R"({"format_version": 1, "features": [
    {"kind": "numeric", "column": "age"}, {"kind": "numeric", "column": "renta"},
    {"kind": "categorical", "column": "sexo", "min_count": 1}]})";
constexpr char kSpecV2[] = R"({"format_version": 1, "features": [
    {"kind": "numeric", "column": "age"},
    {"kind": "categorical", "column": "sexo", "min_count": 1},
    {"kind": "numeric", "column": "antiguedad"}]})";

// A ModelVersion with what the metrics read (featurizer, references,
// manifest identity) and no booster or history. Reference rows: age 20..79
// evenly, renta missing in 10% of rows, sexo 60% H / 40% V; top-1 product
// 60% current accounts, 40% direct debits.
std::shared_ptr<const ModelVersion> TestModel(int64_t version,
                                              const char* spec_json) {
  absl::StatusOr<FeatureSpec> spec = ParseFeatureSpec(spec_json);
  EXPECT_TRUE(spec.ok()) << spec.status();
  Vocabularies vocabularies;
  vocabularies.Set("sexo", Vocabulary::FromCounts({{"H", 60}, {"V", 40}}, 1));
  absl::StatusOr<std::unique_ptr<const Featurizer>> featurizer =
      Featurizer::Create(*spec, vocabularies);
  EXPECT_TRUE(featurizer.ok()) << featurizer.status();
  const FeatureSchema& schema = (*featurizer)->schema();
  std::vector<float> rows;
  std::vector<int> top1;
  for (int i = 0; i < 1000; ++i) {
    for (const FeatureInfo& info : schema.features) {
      if (info.name == "age") rows.push_back(20 + i % 60);
      if (info.name == "renta")
        rows.push_back(i % 10 == 0 ? kNaN : 1000.0f * (i % 50));
      if (info.name == "sexo") rows.push_back(i % 5 < 3 ? 0 : 1);
      if (info.name == "antiguedad") rows.push_back(i % 100);
    }
    top1.push_back(i % 5 < 3 ? kAccounts : kDebits);
  }
  ModelVersion::Parts parts;
  parts.manifest.model_name = "santander";
  parts.manifest.version = version;
  parts.manifest.feature_spec_hash = spec->SpecHash();
  parts.reference = *ReferenceDistributions::Build(schema, rows, {});
  parts.prediction_reference = *PredictionReference::Build(top1, {});
  parts.featurizer = *std::move(featurizer);
  return std::make_shared<const ModelVersion>(std::move(parts));
}

TopKResult Top(std::vector<int> products, std::vector<float> scores) {
  TopKResult top;
  for (size_t i = 0; i < products.size(); ++i) {
    top.items[i] = {products[i], scores[i]};
  }
  top.size = static_cast<int>(products.size());
  return top;
}

std::unique_ptr<ServerMetrics> Metrics(int window = 100, int min_rows = 50) {
  MetricsOptions options;
  options.port = -1;
  options.drift_window = window;
  options.drift_min_rows = min_rows;
  absl::StatusOr<std::unique_ptr<ServerMetrics>> metrics =
      ServerMetrics::Create(options);
  EXPECT_TRUE(metrics.ok()) << metrics.status();
  return *std::move(metrics);
}

Exposition Scrape(const ServerMetrics& metrics) {
  return ParseExposition(metrics.Scrape());
}

// The month the rows of these tests are scored for (2016-06).
constexpr int kServedMonth = 2016 * 12 + 5;

// Observes `n` rows of version v1 (age, renta, sexo) all equal to `row`, each
// with the ranking `top`.
void ObserveRows(ServerMetrics& metrics, const ModelVersion& model,
                 std::vector<float> row, int n, const TopKResult& top,
                 int month = kServedMonth) {
  std::vector<float> features;
  std::vector<TopKResult> tops(n, top);
  const std::vector<int> months(n, month);
  for (int i = 0; i < n; ++i)
    features.insert(features.end(), row.begin(), row.end());
  metrics.ObserveBatch(model, features.data(), n, tops.data(), months.data());
}

TEST(ServerMetricsTest, ModelInfoIsOneOnlyForTheServingVersion) {
  auto metrics = Metrics();
  auto v1 = TestModel(1, kSpecV1);
  auto v2 = TestModel(2, kSpecV2);
  EXPECT_TRUE(Scrape(*metrics).Find("recsys_model_info").empty());
  metrics->ModelServing(*v1);
  metrics->ModelServing(*v2);
  const std::vector<metrics_testing::Sample> info =
      Scrape(*metrics).Find("recsys_model_info");
  ASSERT_EQ(info.size(), 1u);
  EXPECT_EQ(info[0].labels.at("model"), "santander");
  EXPECT_EQ(info[0].labels.at("version"), "2");
  EXPECT_EQ(info[0].labels.at("feature_spec_hash"),
            v2->manifest().feature_spec_hash);
  EXPECT_EQ(info[0].value, 1.0);
}

TEST(ServerMetricsTest, ServingCreatesEveryReferenceBinAtZeroWithItsRatio) {
  auto metrics = Metrics();
  auto v1 = TestModel(1, kSpecV1);
  metrics->ModelServing(*v1);
  const Exposition e = Scrape(*metrics);
  const ReferenceDistributions& ref = v1->reference();
  for (int f = 0; f < ref.num_features(); ++f) {
    for (int b = 0; b < ref.num_bins(f); ++b) {
      const Labels labels = {{"feature", ref.name(f)},
                             {"bin", ref.labels(f)[b]}};
      EXPECT_THAT(e.Value("recsys_feature_bin_total", labels), Optional(0.0));
      EXPECT_THAT(e.Value("recsys_feature_reference_ratio", labels),
                  Optional(DoubleEq(ref.shares(f)[b])));
    }
    EXPECT_EQ(
        e.Find("recsys_feature_bin_total", {{"feature", ref.name(f)}}).size(),
        static_cast<size_t>(ref.num_bins(f)));
    EXPECT_THAT(
        e.Value("recsys_feature_missing_total", {{"feature", ref.name(f)}}),
        Optional(0.0));
  }
  EXPECT_THAT(e.Value("recsys_feature_reference_ratio",
                      {{"feature", "sexo"}, {"bin", "H"}}),
              Optional(DoubleEq(0.6)));
  // Unknown categories only exist for categorical features.
  EXPECT_EQ(e.Find("recsys_feature_unknown_category_total").size(), 1u);
  EXPECT_THAT(e.Value("recsys_prediction_reference_ratio",
                      {{"bin", "ind_cco_fin_ult1"}}),
              Optional(DoubleEq(0.6)));
  EXPECT_EQ(e.Find("recsys_prediction_reference_ratio").size(), 24u);
  EXPECT_EQ(e.Find("recsys_prediction_bin_total").size(), 24u);
}

TEST(ServerMetricsTest, ASwapRemovesTheSeriesOfFeaturesNoLongerInTheReference) {
  auto metrics = Metrics();
  auto v1 = TestModel(1, kSpecV1);
  auto v2 = TestModel(2, kSpecV2);
  metrics->ModelServing(*v1);
  ObserveRows(*metrics, *v1, {30, 5000, 0}, 10, Top({kAccounts}, {0.5}));
  metrics->ModelServing(*v2);
  const Exposition e = Scrape(*metrics);
  for (const char* family :
       {"recsys_feature_bin_total", "recsys_feature_reference_ratio",
        "recsys_feature_missing_total"}) {
    EXPECT_TRUE(e.Find(family, {{"feature", "renta"}}).empty()) << family;
    EXPECT_FALSE(e.Find(family, {{"feature", "antiguedad"}}).empty()) << family;
  }
  // A bin that stays keeps counting; the new feature's bins start at 0.
  EXPECT_EQ(e.Sum("recsys_feature_bin_total", {{"feature", "age"}}), 10);
  EXPECT_EQ(e.Sum("recsys_feature_bin_total", {{"feature", "antiguedad"}}), 0);
}

TEST(ServerMetricsTest, ObservedRowsFallInTheirReferenceBins) {
  auto metrics = Metrics();
  auto v1 = TestModel(1, kSpecV1);
  metrics->ModelServing(*v1);
  ObserveRows(*metrics, *v1, {25, kNaN, 0}, 3,
              Top({kAccounts, kDebits}, {0.4, 0.02}));
  ObserveRows(*metrics, *v1, {70, 1000, 2}, 2, Top({kDebits}, {0.3}));
  const Exposition e = Scrape(*metrics);
  const ReferenceDistributions& ref = v1->reference();
  for (const char* feature : {"age", "renta", "sexo"}) {
    EXPECT_EQ(e.Sum("recsys_feature_bin_total", {{"feature", feature}}), 5)
        << feature;
  }
  EXPECT_THAT(
      e.Value("recsys_feature_bin_total",
              {{"feature", "age"}, {"bin", ref.labels(0)[ref.Bin(0, 25)]}}),
      Optional(3.0));
  EXPECT_THAT(e.Value("recsys_feature_bin_total",
                      {{"feature", "renta"}, {"bin", "missing"}}),
              Optional(3.0));
  EXPECT_THAT(e.Value("recsys_feature_bin_total",
                      {{"feature", "sexo"}, {"bin", "unknown"}}),
              Optional(2.0));
  EXPECT_THAT(e.Value("recsys_feature_missing_total", {{"feature", "renta"}}),
              Optional(3.0));
  EXPECT_THAT(
      e.Value("recsys_feature_unknown_category_total", {{"feature", "sexo"}}),
      Optional(2.0));
  EXPECT_THAT(
      e.Value("recsys_prediction_bin_total", {{"bin", "ind_cco_fin_ult1"}}),
      Optional(3.0));
  EXPECT_THAT(
      e.Value("recsys_prediction_bin_total", {{"bin", "ind_recibo_ult1"}}),
      Optional(2.0));
  EXPECT_THAT(e.Value("recsys_recommended_total",
                      {{"product", "ind_recibo_ult1"}, {"rank", "2"}}),
              Optional(3.0));
  EXPECT_THAT(e.Value("recsys_recommended_total",
                      {{"product", "ind_recibo_ult1"}, {"rank", "1"}}),
              Optional(2.0));
  EXPECT_THAT(e.Value("recsys_prediction_score_count",
                      {{"product", "ind_recibo_ult1"}}),
              Optional(5.0));
  EXPECT_THAT(
      e.Value("recsys_prediction_score_sum", {{"product", "ind_recibo_ult1"}}),
      Optional(testing::DoubleNear(0.66, 1e-6)));
  EXPECT_THAT(e.Value("recsys_prediction_score_bucket",
                      {{"product", "ind_recibo_ult1"}, {"le", "0.025"}}),
              Optional(3.0));
}

TEST(ServerMetricsTest, PsiAppearsOnlyOnceTheWindowHoldsMinRows) {
  auto metrics = Metrics(/*window=*/100, /*min_rows=*/50);
  auto v1 = TestModel(1, kSpecV1);
  metrics->ModelServing(*v1);
  ObserveRows(*metrics, *v1, {25, 1000, 0}, 49, Top({kAccounts}, {0.5}));
  EXPECT_TRUE(Scrape(*metrics).Find("recsys_feature_psi").empty());
  EXPECT_FALSE(Scrape(*metrics).Value("recsys_prediction_psi").has_value());
  ObserveRows(*metrics, *v1, {25, 1000, 0}, 1, Top({kAccounts}, {0.5}));
  const Exposition e = Scrape(*metrics);
  EXPECT_EQ(e.Find("recsys_feature_psi").size(), 3u);
  // Every row in one age bin of ten: far from the reference.
  EXPECT_THAT(e.Value("recsys_feature_psi", {{"feature", "age"}}),
              Optional(testing::Gt(1.0)));
  EXPECT_TRUE(e.Value("recsys_prediction_psi").has_value());
}

TEST(ServerMetricsTest, RowsLikeTheReferenceGiveALowPsi) {
  auto metrics = Metrics(/*window=*/1000, /*min_rows=*/1000);
  auto v1 = TestModel(1, kSpecV1);
  metrics->ModelServing(*v1);
  for (int i = 0; i < 1000; ++i) {
    const float renta = i % 10 == 0 ? kNaN : 1000.0f * (i % 50);
    ObserveRows(*metrics, *v1, {20.0f + i % 60, renta, i % 5 < 3 ? 0.0f : 1.0f},
                1, Top({i % 5 < 3 ? kAccounts : kDebits}, {0.5}));
  }
  const Exposition e = Scrape(*metrics);
  for (const char* feature : {"age", "renta", "sexo"}) {
    EXPECT_THAT(e.Value("recsys_feature_psi", {{"feature", feature}}),
                Optional(testing::Lt(0.01)))
        << feature;
  }
  EXPECT_THAT(e.Value("recsys_prediction_psi"), Optional(testing::Lt(0.01)));
}

TEST(ServerMetricsTest, ANewVersionRestartsTheWindowButReannouncingDoesNot) {
  auto metrics = Metrics(/*window=*/100, /*min_rows=*/50);
  auto v1 = TestModel(1, kSpecV1);
  metrics->ModelServing(*v1);
  ObserveRows(*metrics, *v1, {25, 1000, 0}, 60, Top({kAccounts}, {0.5}));
  metrics->ModelServing(*v1);
  EXPECT_FALSE(Scrape(*metrics).Find("recsys_feature_psi").empty());
  metrics->ModelServing(*TestModel(2, kSpecV1));
  EXPECT_TRUE(Scrape(*metrics).Find("recsys_feature_psi").empty());
}

TEST(ServerMetricsTest, RowsOfAnotherVersionDoNotTouchTheServingBins) {
  auto metrics = Metrics();
  auto v1 = TestModel(1, kSpecV1);
  auto v2 = TestModel(2, kSpecV2);
  metrics->ModelServing(*v2);
  ObserveRows(*metrics, *v1, {25, 1000, 0}, 4, Top({kAccounts}, {0.5}));
  const Exposition e = Scrape(*metrics);
  EXPECT_EQ(e.Sum("recsys_feature_bin_total"), 0);
  EXPECT_THAT(e.Value("recsys_recommended_total",
                      {{"product", "ind_cco_fin_ult1"}, {"rank", "1"}}),
              Optional(4.0));
}

TEST(ServerMetricsTest, PsiDescribesTheNewestMonthServed) {
  auto metrics = Metrics(/*window=*/100, /*min_rows=*/50);
  auto v1 = TestModel(1, kSpecV1);
  metrics->ModelServing(*v1);
  ObserveRows(*metrics, *v1, {25, 1000, 0}, 60, Top({kAccounts}, {0.5}));
  EXPECT_FALSE(Scrape(*metrics).Find("recsys_feature_psi").empty());
  // The first rows of the next month: its sample is not full enough yet.
  ObserveRows(*metrics, *v1, {25, 1000, 0}, 10, Top({kAccounts}, {0.5}),
              kServedMonth + 1);
  EXPECT_TRUE(Scrape(*metrics).Find("recsys_feature_psi").empty());
  // Late rows of the month before go to its own sample, not the new one.
  ObserveRows(*metrics, *v1, {25, 1000, 0}, 60, Top({kAccounts}, {0.5}));
  EXPECT_TRUE(Scrape(*metrics).Find("recsys_feature_psi").empty());
  ObserveRows(*metrics, *v1, {25, 1000, 0}, 40, Top({kAccounts}, {0.5}),
              kServedMonth + 1);
  EXPECT_EQ(Scrape(*metrics).Find("recsys_feature_psi").size(), 3u);
}

TEST(ServerMetricsTest, HistorySeriesFollowTheNewestHistory) {
  auto metrics = Metrics();
  Exposition e = Scrape(*metrics);
  EXPECT_THAT(e.Value("recsys_history_loads_total", {{"result", "failure"}}),
              Optional(0.0));
  EXPECT_THAT(e.Value("recsys_history_stale_requests_total"), Optional(0.0));
  EXPECT_TRUE(e.Find("recsys_history_info").empty());
  metrics->HistoryLoad(true);
  metrics->HistoryServing("2016-06");
  metrics->HistoryLoad(false);
  metrics->HistoryLoad(true);
  metrics->HistoryServing("2016-07");
  metrics->HistoryStaleRows(3);
  e = Scrape(*metrics);
  EXPECT_EQ(e.Find("recsys_history_info").size(), 1u);
  EXPECT_THAT(e.Value("recsys_history_info", {{"month", "2016-07"}}),
              Optional(1.0));
  EXPECT_THAT(e.Value("recsys_history_loads_total", {{"result", "success"}}),
              Optional(2.0));
  EXPECT_THAT(e.Value("recsys_history_loads_total", {{"result", "failure"}}),
              Optional(1.0));
  EXPECT_THAT(e.Value("recsys_history_stale_requests_total"), Optional(3.0));
}

TEST(ServerMetricsTest, PromtoolFindsNothingToLint) {
  if (metrics_testing::PromtoolPath().empty())
    GTEST_SKIP() << "promtool is not installed";
  auto metrics = Metrics(/*window=*/10, /*min_rows=*/5);
  auto v1 = TestModel(1, kSpecV1);
  metrics->ModelServing(*v1);
  metrics->RpcStarted(kService, "Recommend", "unary", Protocol::kGrpc);
  metrics->RpcHandled(kService, "Recommend", "unary", Protocol::kGrpc,
                      absl::StatusCode::kOk, 0.01);
  ObserveRows(*metrics, *v1, {25, kNaN, 2}, 10,
              Top({kAccounts, kDebits}, {0.4, 0.02}));
  const std::string text = metrics->Scrape();
  ASSERT_THAT(text, HasSubstr("recsys_feature_psi{"));
  EXPECT_EQ(metrics_testing::PromtoolCheckMetrics(text), "");
}

}  // namespace
}  // namespace recsys
