// ServerMetrics without a model: the gRPC, work and model-load series and the
// HTTP endpoint. The series of the serving model are in metrics_test.cc.
#include <map>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/metrics.h"
#include "server/metrics_testing.h"

namespace recsys {
namespace {

using metrics_testing::Exposition;
using metrics_testing::ParseExposition;
using ::testing::HasSubstr;
using ::testing::Optional;
using Labels = std::map<std::string, std::string>;

constexpr char kService[] = "santander.recsys.v1.Recommender";

std::unique_ptr<ServerMetrics> Metrics() {
  MetricsOptions options;
  options.port = -1;
  absl::StatusOr<std::unique_ptr<ServerMetrics>> metrics =
      ServerMetrics::Create(options);
  EXPECT_TRUE(metrics.ok()) << metrics.status();
  return *std::move(metrics);
}

Exposition Scrape(const ServerMetrics& metrics) {
  return ParseExposition(metrics.Scrape());
}

TEST(GrpcCodeNameTest, SpellsCodesAsGoGrpcPrometheus) {
  EXPECT_EQ(GrpcCodeName(absl::StatusCode::kOk), "OK");
  EXPECT_EQ(GrpcCodeName(absl::StatusCode::kCancelled), "Canceled");
  EXPECT_EQ(GrpcCodeName(absl::StatusCode::kUnknown), "Unknown");
  EXPECT_EQ(GrpcCodeName(absl::StatusCode::kInvalidArgument),
            "InvalidArgument");
  EXPECT_EQ(GrpcCodeName(absl::StatusCode::kDeadlineExceeded),
            "DeadlineExceeded");
  EXPECT_EQ(GrpcCodeName(absl::StatusCode::kNotFound), "NotFound");
  EXPECT_EQ(GrpcCodeName(absl::StatusCode::kAlreadyExists), "AlreadyExists");
  EXPECT_EQ(GrpcCodeName(absl::StatusCode::kPermissionDenied),
            "PermissionDenied");
  EXPECT_EQ(GrpcCodeName(absl::StatusCode::kResourceExhausted),
            "ResourceExhausted");
  EXPECT_EQ(GrpcCodeName(absl::StatusCode::kFailedPrecondition),
            "FailedPrecondition");
  EXPECT_EQ(GrpcCodeName(absl::StatusCode::kAborted), "Aborted");
  EXPECT_EQ(GrpcCodeName(absl::StatusCode::kOutOfRange), "OutOfRange");
  EXPECT_EQ(GrpcCodeName(absl::StatusCode::kUnimplemented), "Unimplemented");
  EXPECT_EQ(GrpcCodeName(absl::StatusCode::kInternal), "Internal");
  EXPECT_EQ(GrpcCodeName(absl::StatusCode::kUnavailable), "Unavailable");
  EXPECT_EQ(GrpcCodeName(absl::StatusCode::kDataLoss), "DataLoss");
  EXPECT_EQ(GrpcCodeName(absl::StatusCode::kUnauthenticated),
            "Unauthenticated");
  EXPECT_EQ(GrpcCodeName(static_cast<absl::StatusCode>(99)), "Unknown");
}

TEST(ServerMetricsTest, CountsRpcsAsGoGrpcPrometheus) {
  auto metrics = Metrics();
  metrics->RpcStarted(kService, "Recommend", "unary", Protocol::kGrpc);
  metrics->RpcHandled(kService, "Recommend", "unary", Protocol::kGrpc,
                      absl::StatusCode::kInvalidArgument, 0.003);
  const Exposition e = Scrape(*metrics);
  const Labels method = {{"grpc_service", kService},
                         {"grpc_method", "Recommend"},
                         {"grpc_type", "unary"},
                         {"protocol", "grpc"}};
  Labels invalid = method, ok = method;
  invalid["grpc_code"] = "InvalidArgument";
  ok["grpc_code"] = "OK";
  EXPECT_THAT(e.Value("grpc_server_started_total", method), Optional(1.0));
  EXPECT_THAT(e.Value("grpc_server_handled_total", invalid), Optional(1.0));
  // Every code exists from the first call on, at 0 (rate() sees the first
  // error).
  EXPECT_THAT(e.Value("grpc_server_handled_total", ok), Optional(0.0));
  EXPECT_EQ(e.Find("grpc_server_handled_total", method).size(), 17u);
  EXPECT_THAT(e.Value("grpc_server_handling_seconds_count", method),
              Optional(1.0));
  Labels le = method;
  le["le"] = "0.005";
  EXPECT_THAT(e.Value("grpc_server_handling_seconds_bucket", le),
              Optional(1.0));
}

TEST(ServerMetricsTest, RegisteredMethodsStartAtZero) {
  auto metrics = Metrics();
  metrics->RegisterRpcMethod(kService, "RecommendStream", "bidi_stream",
                             Protocol::kGrpc);
  const Exposition e = Scrape(*metrics);
  EXPECT_THAT(
      e.Value("grpc_server_started_total", {{"grpc_service", kService},
                                            {"grpc_method", "RecommendStream"},
                                            {"grpc_type", "bidi_stream"},
                                            {"protocol", "grpc"}}),
      Optional(0.0));
}

TEST(ServerMetricsTest, TheProtocolLabelKeepsHttpCallsApart) {
  auto metrics = Metrics();
  metrics->RpcStarted(kService, "Recommend", "unary", Protocol::kHttp);
  metrics->RpcHandled(kService, "Recommend", "unary", Protocol::kHttp,
                      absl::StatusCode::kNotFound, 0.001);
  metrics->RpcStarted(kService, "Recommend", "unary", Protocol::kGrpc);
  const Exposition e = Scrape(*metrics);
  const Labels method = {{"grpc_service", kService},
                         {"grpc_method", "Recommend"},
                         {"grpc_type", "unary"}};
  Labels http = method, grpc = method;
  http["protocol"] = "http";
  grpc["protocol"] = "grpc";
  EXPECT_THAT(e.Value("grpc_server_started_total", http), Optional(1.0));
  EXPECT_THAT(e.Value("grpc_server_started_total", grpc), Optional(1.0));
  http["grpc_code"] = "NotFound";
  grpc["grpc_code"] = "NotFound";
  EXPECT_THAT(e.Value("grpc_server_handled_total", http), Optional(1.0));
  EXPECT_THAT(e.Value("grpc_server_handled_total", grpc), Optional(0.0));
}

TEST(ServerMetricsTest, WorkSeriesHaveTheDocumentedLabels) {
  auto metrics = Metrics();
  metrics->StageDuration(Stage::kPredict, 0.0001);
  metrics->RowsScored(5);
  metrics->InflightRequests(2);
  metrics->InflightRequests(-1);
  metrics->HistoryLookups(HistorySourceKind::kStore, 4);
  metrics->HistoryLookups(HistorySourceKind::kNotFound, 1);
  const Exposition e = Scrape(*metrics);
  for (const char* stage : {"parse", "featurize", "predict", "rank"}) {
    EXPECT_TRUE(
        e.Value("recsys_stage_duration_seconds_count", {{"stage", stage}})
            .has_value())
        << stage;
  }
  EXPECT_THAT(
      e.Value("recsys_stage_duration_seconds_count", {{"stage", "predict"}}),
      Optional(1.0));
  EXPECT_THAT(e.Value("recsys_rows_scored_total"), Optional(5.0));
  EXPECT_THAT(e.Value("recsys_inflight_requests"), Optional(1.0));
  EXPECT_THAT(e.Value("recsys_history_lookups_total", {{"result", "hit"}}),
              Optional(4.0));
  EXPECT_THAT(e.Value("recsys_history_lookups_total", {{"result", "miss"}}),
              Optional(1.0));
  EXPECT_THAT(e.Value("recsys_history_lookups_total", {{"result", "request"}}),
              Optional(0.0));
}

TEST(ServerMetricsTest, ReloadFailuresExistAtZeroBeforeTheFirstOne) {
  auto metrics = Metrics();
  EXPECT_THAT(Scrape(*metrics).Value("recsys_model_reloads_total",
                                     {{"result", "failure"}}),
              Optional(0.0));
  metrics->ModelLoad(false, 0.2);
  metrics->ModelLoad(true, 1.5);
  const Exposition e = Scrape(*metrics);
  EXPECT_THAT(e.Value("recsys_model_reloads_total", {{"result", "failure"}}),
              Optional(1.0));
  EXPECT_THAT(e.Value("recsys_model_reloads_total", {{"result", "success"}}),
              Optional(1.0));
  EXPECT_THAT(e.Value("recsys_model_load_duration_seconds_count"),
              Optional(2.0));
}

TEST(ServerMetricsTest, CreateRejectsBadDriftOptions) {
  MetricsOptions options;
  options.port = -1;
  options.drift_window = 10;
  options.drift_min_rows = 20;
  EXPECT_EQ(ServerMetrics::Create(options).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ServerMetricsTest, ServesTheScrapeOverHttpOnAFreePort) {
  MetricsOptions options;
  options.port = 0;
  absl::StatusOr<std::unique_ptr<ServerMetrics>> metrics =
      ServerMetrics::Create(options);
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  ASSERT_GT((*metrics)->port(), 0);
  (*metrics)->RowsScored(7);
  absl::StatusOr<std::string> body =
      metrics_testing::HttpGet((*metrics)->port(), "/metrics");
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_THAT(*body, HasSubstr("recsys_rows_scored_total 7"));
}

// A metrics port in use: metrics_exposer_test.cc.

}  // namespace
}  // namespace recsys
