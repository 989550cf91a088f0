// End to end: a real server (tiny real bundle) answers real traffic from the
// client library; its /metrics page passes `promtool check metrics` and holds
// every documented series with values that agree with the traffic sent.
#include <map>
#include <set>
#include <string>
#include <vector>

#include "client/record_codec.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/metrics_e2e_util.h"

namespace recsys {
namespace {

using metrics_e2e::LiveServer;
using metrics_e2e::TinyStore;
using metrics_testing::Exposition;
using metrics_testing::Sample;
using ::testing::Optional;

constexpr char kRecommender[] = "santander.recsys.v1.Recommender";
constexpr int kUnaryCalls = 5;

// Sends the first kUnaryCalls rows of `csv` as unary Recommend calls.
void RecommendFirstRows(LiveServer& live, const std::string& csv) {
  absl::StatusOr<std::unique_ptr<RawReader>> reader = RawReader::Open(csv);
  ASSERT_TRUE(reader.ok()) << reader.status();
  RawRecord record;
  std::vector<RowError> errors;
  for (int i = 0; i < kUnaryCalls && (*reader)->Next(&record, &errors); ++i) {
    v1::RecommendRequest request;
    absl::StatusOr<v1::CustomerRecord> customer = EncodeCustomer(record);
    ASSERT_TRUE(customer.ok()) << customer.status();
    *request.mutable_customer() = *customer;
    absl::StatusOr<v1::RecommendResponse> response =
        live.client->Recommend(request);
    ASSERT_TRUE(response.ok()) << response.status();
  }
}

std::map<std::string, std::string> Method(const std::string& method,
                                          const std::string& type) {
  return {{"grpc_service", kRecommender},
          {"grpc_method", method},
          {"grpc_type", type},
          {"protocol", "grpc"}};
}

std::map<std::string, std::string> WithCode(
    std::map<std::string, std::string> labels, absl::StatusCode code) {
  labels["grpc_code"] = std::string(GrpcCodeName(code));
  return labels;
}

// The distinct values of `label` among the samples of `name`.
std::set<std::string> LabelValues(const Exposition& e, const std::string& name,
                                  const std::string& label) {
  std::set<std::string> out;
  for (const Sample& s : e.Find(name)) out.insert(s.labels.at(label));
  return out;
}

TEST(MetricsEndToEndTest,
     ScrapeAfterRealTrafficIsCleanAndAgreesWithTheTraffic) {
  const TinyStore store =
      metrics_e2e::MakeTinyStore("metrics_e2e", /*with_drift_month=*/false);
  MetricsOptions options;
  options.drift_window = 5000;
  options.drift_min_rows = 2000;
  std::unique_ptr<LiveServer> live =
      metrics_e2e::StartServer(store.store_dir, options);
  ASSERT_NE(live->client, nullptr);

  const BatchScoreSummary summary =
      metrics_e2e::ScoreFile(*live, store.test_csv);
  ASSERT_TRUE(summary.all_scored()) << summary.ToString();
  ASSERT_GT(summary.rows_scored, 10000);
  RecommendFirstRows(*live, store.test_csv);
  absl::StatusOr<v1::RecommendResponse> refused = live->client->Recommend({});
  ASSERT_FALSE(refused.ok());
  const double rows = static_cast<double>(summary.rows_scored + kUnaryCalls);

  const std::string text = metrics_e2e::ScrapeText(*live);
  ASSERT_FALSE(text.empty());
  if (metrics_testing::PromtoolPath().empty()) {
    ADD_FAILURE() << "promtool is not installed (Debian package prometheus): "
                     "cannot lint the scrape";
  } else {
    EXPECT_EQ(metrics_testing::PromtoolCheckMetrics(text), "");
  }
  const Exposition e = metrics_testing::ParseExposition(text);

  // gRPC, as go-grpc-prometheus names it.
  EXPECT_THAT(
      e.Value("grpc_server_started_total", Method("Recommend", "unary")),
      Optional(kUnaryCalls + 1.0));
  EXPECT_THAT(
      e.Value("grpc_server_handled_total",
              WithCode(Method("Recommend", "unary"), absl::StatusCode::kOk)),
      Optional(static_cast<double>(kUnaryCalls)));
  EXPECT_THAT(
      e.Value("grpc_server_handled_total",
              WithCode(Method("Recommend", "unary"), refused.status().code())),
      Optional(1.0));
  EXPECT_THAT(e.Value("grpc_server_handled_total",
                      WithCode(Method("RecommendStream", "bidi_stream"),
                               absl::StatusCode::kOk)),
              Optional(testing::Ge(1.0)));
  EXPECT_THAT(e.Value("grpc_server_handling_seconds_count",
                      Method("Recommend", "unary")),
              Optional(kUnaryCalls + 1.0));
  // Methods never called exist at 0 from start-up, every code included (as
  // go-grpc-prometheus registers them), so that increase() sees a first call.
  const std::map<std::string, std::string> rollback = {
      {"grpc_service", "santander.recsys.v1.ModelAdmin"},
      {"grpc_method", "Rollback"},
      {"grpc_type", "unary"},
      {"protocol", "grpc"}};
  EXPECT_THAT(e.Value("grpc_server_started_total", rollback), Optional(0.0));
  EXPECT_THAT(e.Value("grpc_server_handled_total",
                      WithCode(rollback, absl::StatusCode::kUnavailable)),
              Optional(0.0));

  // Work.
  EXPECT_THAT(e.Value("recsys_rows_scored_total"), Optional(rows));
  EXPECT_THAT(e.Value("recsys_inflight_requests"), Optional(0.0));
  EXPECT_EQ(e.Sum("recsys_history_lookups_total"), rows);
  for (const char* stage : {"featurize", "predict", "rank"}) {
    EXPECT_THAT(
        e.Value("recsys_stage_duration_seconds_count", {{"stage", stage}}),
        Optional(testing::Gt(0.0)))
        << stage;
  }

  // Model.
  const std::vector<Sample> info = e.Find("recsys_model_info");
  ASSERT_EQ(info.size(), 1u);
  EXPECT_EQ(info[0].value, 1.0);
  EXPECT_EQ(info[0].labels.at("model"), "santander");
  EXPECT_EQ(info[0].labels.at("version"), "1");
  EXPECT_EQ(info[0].labels.at("feature_spec_hash"), store.feature_spec_hash);
  EXPECT_THAT(e.Value("recsys_model_reloads_total", {{"result", "success"}}),
              Optional(1.0));
  EXPECT_THAT(e.Value("recsys_model_reloads_total", {{"result", "failure"}}),
              Optional(0.0));
  EXPECT_THAT(e.Value("recsys_model_load_duration_seconds_count"),
              Optional(1.0));

  // Predictions: one top-1 per row that got a recommendation.
  const double top1 = e.Sum("recsys_prediction_bin_total");
  EXPECT_LE(top1, rows);
  EXPECT_GE(top1, 0.99 * rows);
  EXPECT_EQ(e.Sum("recsys_recommended_total", {{"rank", "1"}}), top1);
  EXPECT_NEAR(e.Sum("recsys_prediction_reference_ratio"), 1.0, 1e-6);
  EXPECT_EQ(LabelValues(e, "recsys_prediction_bin_total", "bin").size(), 24u);
  EXPECT_GT(e.Sum("recsys_prediction_score_count"), top1);  // up to 7 per row

  // Input data: every monitored feature's bins hold every row; counters and
  // ratios have the same bins; ratios sum to 1. The two calendar features
  // (FeatureInfo::follows_calendar) are not monitored and have no bins.
  const std::set<std::string> features =
      LabelValues(e, "recsys_feature_reference_ratio", "feature");
  EXPECT_EQ(features.size(), 98u);
  EXPECT_FALSE(features.contains("fecha_dato_month"));
  EXPECT_FALSE(features.contains("months_since_first_seen"));
  EXPECT_EQ(LabelValues(e, "recsys_feature_missing_total", "feature").size(),
            100u);
  EXPECT_EQ(LabelValues(e, "recsys_feature_bin_total", "feature"), features);
  for (const std::string& f : features) {
    EXPECT_EQ(e.Sum("recsys_feature_bin_total", {{"feature", f}}), rows) << f;
    EXPECT_NEAR(e.Sum("recsys_feature_reference_ratio", {{"feature", f}}), 1.0,
                1e-6)
        << f;
    std::set<std::string> bins, ratio_bins;
    for (const Sample& s :
         e.Find("recsys_feature_bin_total", {{"feature", f}})) {
      bins.insert(s.labels.at("bin"));
    }
    for (const Sample& s :
         e.Find("recsys_feature_reference_ratio", {{"feature", f}})) {
      ratio_bins.insert(s.labels.at("bin"));
    }
    EXPECT_EQ(bins, ratio_bins) << f;
    EXPECT_THAT(e.Value("recsys_feature_missing_total", {{"feature", f}}),
                Optional(testing::AllOf(testing::Ge(0.0), testing::Le(rows))))
        << f;
  }
  EXPECT_EQ(e.Sum("recsys_feature_missing_total", {{"feature", "renta"}}),
            e.Sum("recsys_feature_bin_total",
                  {{"feature", "renta"}, {"bin", "missing"}}));
  EXPECT_FALSE(
      e.Find("recsys_feature_unknown_category_total", {{"feature", "segmento"}})
          .empty());

  // Drift: the window holds more than drift_min_rows rows.
  EXPECT_EQ(LabelValues(e, "recsys_feature_psi", "feature"), features);
  EXPECT_TRUE(e.Value("recsys_prediction_psi").has_value());
}

}  // namespace
}  // namespace recsys
