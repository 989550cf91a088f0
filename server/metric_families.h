// The Prometheus families the server exports, registered in one place with
// their names, help texts and histogram buckets (an implementation detail of
// ServerMetrics; the list of series is in metrics.h and docs/monitoring.md).
//
//   auto registry = std::make_shared<prometheus::Registry>();
//   CoreSeries core = RegisterCoreSeries(*registry);
//   core.rows_scored->Increment(64);
//
// The returned pointers are borrowed from `registry`, which must outlive
// them. Families and series are thread-safe (prometheus-cpp).
#ifndef RECSYS_SERVER_METRIC_FAMILIES_H_
#define RECSYS_SERVER_METRIC_FAMILIES_H_

#include <array>

#include "common/products.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/metric_family.h"
#include "prometheus/registry.h"

namespace recsys {

// Stages of Stage (metrics.h), in enum order.
inline constexpr int kNumStages = 4;

// 10 us .. 10 s in 1-2.5-5 steps (the RecsysHighLatencyP99 threshold, 50 ms,
// is a bucket boundary).
const prometheus::Histogram::BucketBoundaries& LatencyBuckets();
// Model scores (probabilities), 0.001 .. 1.
const prometheus::Histogram::BucketBoundaries& ScoreBuckets();

// Series that exist for the whole life of the server.
struct CoreSeries {
  prometheus::Family<prometheus::Counter>* grpc_started = nullptr;
  prometheus::Family<prometheus::Counter>* grpc_handled = nullptr;
  prometheus::Family<prometheus::Histogram>* grpc_handling = nullptr;
  std::array<prometheus::Histogram*, kNumStages> stages{};  // by Stage
  prometheus::Counter* rows_scored = nullptr;
  prometheus::Histogram* unary_batch = nullptr;
  prometheus::Gauge* inflight = nullptr;
  prometheus::Family<prometheus::Counter>* history = nullptr;
  prometheus::Counter* history_hit = nullptr;
  prometheus::Counter* history_miss = nullptr;
  prometheus::Counter* history_request = nullptr;
  prometheus::Histogram* load_duration = nullptr;
  prometheus::Counter* reload_success = nullptr;
  prometheus::Counter* reload_failure = nullptr;
  prometheus::Gauge* loads_in_progress = nullptr;
  prometheus::Gauge* store_stuck = nullptr;
  prometheus::Gauge* serving_deleted = nullptr;
  prometheus::Family<prometheus::Counter>* recommended = nullptr;
  std::array<prometheus::Histogram*, kNumProducts> scores{};  // by product
  std::array<prometheus::Counter*, kNumProducts> prediction_bins{};
};

// The families whose series depend on the serving version (ServingSeries).
struct ModelFamilies {
  prometheus::Family<prometheus::Gauge>* model_info = nullptr;
  prometheus::Family<prometheus::Counter>* feature_bins = nullptr;
  prometheus::Family<prometheus::Gauge>* feature_reference_ratio = nullptr;
  prometheus::Family<prometheus::Counter>* feature_missing = nullptr;
  prometheus::Family<prometheus::Counter>* feature_unknown = nullptr;
  prometheus::Family<prometheus::Gauge>* prediction_reference_ratio = nullptr;
};

// The history store's series (model_store/history_store.h).
struct HistorySeries {
  // recsys_history_info{month}: 1 for the history version serving.
  prometheus::Family<prometheus::Gauge>* info = nullptr;
  prometheus::Counter* load_success = nullptr;  // recsys_history_loads_total
  prometheus::Counter* load_failure = nullptr;
  prometheus::Counter* stale_requests = nullptr;
};

// Registers the core families and creates their label-free and fixed-label
// series at 0 (stages, history results, reload results, the 24 products'
// score histograms and top-1 bins).
CoreSeries RegisterCoreSeries(prometheus::Registry& registry);
ModelFamilies RegisterModelFamilies(prometheus::Registry& registry);
HistorySeries RegisterHistorySeries(prometheus::Registry& registry);

// Empty recsys_feature_psi / recsys_prediction_psi gauge families (filled on
// scrape from the drift window, not held in the registry).
prometheus::MetricFamily FeaturePsiFamily();
prometheus::MetricFamily PredictionPsiFamily();

}  // namespace recsys

#endif  // RECSYS_SERVER_METRIC_FAMILIES_H_
