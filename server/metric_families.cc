#include "server/metric_families.h"

#include <string>

#include "server/metrics.h"

namespace recsys {
namespace {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;
using prometheus::Histogram;

// Loading a bundle: tens of milliseconds (tiny) to minutes (950k customers).
const Histogram::BucketBoundaries& LoadBuckets() {
  static const auto* buckets = new Histogram::BucketBoundaries{
      0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 60, 120, 300};
  return *buckets;
}

}  // namespace

const Histogram::BucketBoundaries& LatencyBuckets() {
  static const auto* buckets = new Histogram::BucketBoundaries{
      1e-5,   2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2,
      2.5e-2, 5e-2,   0.1,  0.25, 0.5,    1,    2.5,  5,      10};
  return *buckets;
}

const Histogram::BucketBoundaries& ScoreBuckets() {
  static const auto* buckets = new Histogram::BucketBoundaries{
      0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1};
  return *buckets;
}

CoreSeries RegisterCoreSeries(prometheus::Registry& registry) {
  CoreSeries c;
  c.grpc_started = &BuildCounter()
                        .Name("grpc_server_started_total")
                        .Help("RPCs started on the server.")
                        .Register(registry);
  c.grpc_handled = &BuildCounter()
                        .Name("grpc_server_handled_total")
                        .Help("RPCs completed on the server, by status code.")
                        .Register(registry);
  c.grpc_handling = &BuildHistogram()
                         .Name("grpc_server_handling_seconds")
                         .Help("Time from the start of an RPC to its status.")
                         .Register(registry);
  auto& stage = BuildHistogram()
                    .Name("recsys_stage_duration_seconds")
                    .Help(
                        "Time per stage of scoring a request (parse, "
                        "featurize, predict, rank).")
                    .Register(registry);
  for (int s = 0; s < kNumStages; ++s) {
    c.stages[s] =
        &stage.Add({{"stage", std::string(StageName(static_cast<Stage>(s)))}},
                   LatencyBuckets());
  }
  c.rows_scored = &BuildCounter()
                       .Name("recsys_rows_scored_total")
                       .Help("Customer rows scored.")
                       .Register(registry)
                       .Add({});
  c.unary_batch =
      &BuildHistogram()
           .Name("recsys_unary_batch_calls")
           .Help(
               "Recommend calls scored together in one prediction: calls "
               "that queued behind busy workers are batched (1 = alone).")
           .Register(registry)
           .Add({}, Histogram::BucketBoundaries{1, 2, 4, 8, 16, 32, 64, 128});
  c.inflight = &BuildGauge()
                    .Name("recsys_inflight_requests")
                    .Help("RPCs being handled now.")
                    .Register(registry)
                    .Add({});
  c.history = &BuildCounter()
                   .Name("recsys_history_lookups_total")
                   .Help(
                       "Customer history lookups: hit (in the store), miss "
                       "(new customer), request (given in the request).")
                   .Register(registry);
  c.history_hit = &c.history->Add({{"result", "hit"}});
  c.history_miss = &c.history->Add({{"result", "miss"}});
  c.history_request = &c.history->Add({{"result", "request"}});
  c.load_duration =
      &BuildHistogram()
           .Name("recsys_model_load_duration_seconds")
           .Help("Time to load, validate and warm a model version.")
           .Register(registry)
           .Add({}, LoadBuckets());
  auto& reloads = BuildCounter()
                      .Name("recsys_model_reloads_total")
                      .Help("Model version loads, by result.")
                      .Register(registry);
  c.reload_success = &reloads.Add({{"result", "success"}});
  c.reload_failure = &reloads.Add({{"result", "failure"}});
  c.loads_in_progress =
      &BuildGauge()
           .Name("recsys_model_loads_in_progress")
           .Help("Model version loads running now (including stuck ones).")
           .Register(registry)
           .Add({});
  c.store_stuck =
      &BuildGauge()
           .Name("recsys_model_store_stuck")
           .Help("Model loads past --load-timeout whose threads have not "
                 "returned (a hung file system); 0 when healthy.")
           .Register(registry)
           .Add({});
  c.serving_deleted =
      &BuildGauge()
           .Name("recsys_serving_model_deleted")
           .Help("1 while the directory of the serving model version is "
                 "deleted (its loaded copy keeps serving).")
           .Register(registry)
           .Add({});
  c.recommended = &BuildCounter()
                       .Name("recsys_recommended_total")
                       .Help("Products recommended, by rank (1 = first).")
                       .Register(registry);
  auto& scores =
      BuildHistogram()
          .Name("recsys_prediction_score")
          .Help("Model scores (probabilities) of the recommended products.")
          .Register(registry);
  auto& prediction_bins =
      BuildCounter()
          .Name("recsys_prediction_bin_total")
          .Help("Rows whose top-1 recommended product is `bin`.")
          .Register(registry);
  for (int p = 0; p < kNumProducts; ++p) {
    const std::string product(kProducts[p].column);
    c.scores[p] = &scores.Add({{"product", product}}, ScoreBuckets());
    c.prediction_bins[p] = &prediction_bins.Add({{"bin", product}});
  }
  return c;
}

HistorySeries RegisterHistorySeries(prometheus::Registry& registry) {
  HistorySeries h;
  h.info = &BuildGauge()
                .Name("recsys_history_info")
                .Help("1 for the newest product-history version loaded "
                      "(STORE/history/<month>); batches use it when it serves "
                      "the model's month or later, else the model bundle's own "
                      "history. Absent until one loads.")
                .Register(registry);
  auto& loads = BuildCounter()
                    .Name("recsys_history_loads_total")
                    .Help("History version loads, by result.")
                    .Register(registry);
  h.load_success = &loads.Add({{"result", "success"}});
  h.load_failure = &loads.Add({{"result", "failure"}});
  h.stale_requests =
      &BuildCounter()
           .Name("recsys_history_stale_requests_total")
           .Help("Rows scored for a month more than one month after the month "
                 "the product history serves (their lags are unknown).")
           .Register(registry)
           .Add({});
  return h;
}

ModelFamilies RegisterModelFamilies(prometheus::Registry& registry) {
  ModelFamilies f;
  f.model_info = &BuildGauge()
                      .Name("recsys_model_info")
                      .Help("1 for the model version this replica serves; predictor "
                            "is forest (our evaluator) or xgboost.")
                      .Register(registry);
  f.feature_bins = &BuildCounter()
                        .Name("recsys_feature_bin_total")
                        .Help("Rows per reference bin of each input feature.")
                        .Register(registry);
  f.feature_reference_ratio =
      &BuildGauge()
           .Name("recsys_feature_reference_ratio")
           .Help("Training share of each bin of each input feature.")
           .Register(registry);
  f.feature_missing = &BuildCounter()
                           .Name("recsys_feature_missing_total")
                           .Help("Missing input feature values.")
                           .Register(registry);
  f.feature_unknown = &BuildCounter()
                           .Name("recsys_feature_unknown_category_total")
                           .Help("Categories not seen in training.")
                           .Register(registry);
  f.prediction_reference_ratio =
      &BuildGauge()
           .Name("recsys_prediction_reference_ratio")
           .Help(
               "Expected share of each product as top-1 recommendation: the "
               "model's mix on the training sample, for the month served.")
           .Register(registry);
  return f;
}

prometheus::MetricFamily FeaturePsiFamily() {
  return {"recsys_feature_psi",
          "PSI of each input feature over this replica's sliding window of "
          "recent rows against the serving model's training reference.",
          prometheus::MetricType::Gauge,
          {}};
}

prometheus::MetricFamily PredictionPsiFamily() {
  return {"recsys_prediction_psi",
          "PSI of the top-1 recommended product over this replica's sliding "
          "window against the serving model's training reference.",
          prometheus::MetricType::Gauge,
          {}};
}

}  // namespace recsys
