// ServingSeries: the Prometheus series that belong to the serving model
// version (its info gauge, the reference-ratio gauges of its features and of
// the top-1 product, the per-bin, missing and unknown-category counters of
// its features) and its drift window. An implementation detail of ServerMetrics
// (metrics.cc).
//
//   ModelFamilies families = ...;          // registered once
//   auto next = ServingSeries::Create(version, families, drift_options);
//   RetireSeries(*current, *next, families);   // drops what `next` lacks
//   current = std::move(next);
//
// Series are created with prometheus::Family::Add, which returns the existing
// series for the same labels: a bin kept across versions keeps its counter.
//
// Thread-compatible: the server creates, swaps and updates it under its
// metrics mutex.
#ifndef RECSYS_SERVER_SERVING_SERIES_H_
#define RECSYS_SERVER_SERVING_SERIES_H_

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/products.h"
#include "model_store/model_version.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "server/drift_monitor.h"
#include "server/metric_families.h"

namespace recsys {

// The model identity recsys_model_info carries.
struct ModelIdentity {
  std::string model;
  int64_t version = 0;
  std::string feature_spec_hash;

  static ModelIdentity Of(const ModelVersion& version);
  // Same as Of(version) == *this, without copying strings.
  bool Matches(const ModelVersion& version) const {
    return version.version() == this->version && version.name() == model &&
           version.manifest().feature_spec_hash == feature_spec_hash;
  }
  friend bool operator==(const ModelIdentity&, const ModelIdentity&) = default;
};

struct ServingSeries {
  // Creates (or finds) every series of `version` and sets the gauges: info = 1,
  // reference ratios = the reference shares. The drift window has one
  // variable per feature, then the top-1 product (variable num_features()).
  // A feature with more than kMaxDriftBins bins gets no PSI (its window
  // variable is a single never-filled bin). Never fails: the drift options
  // are validated by ServerMetrics::Create.
  static std::unique_ptr<ServingSeries> Create(
      const ModelVersion& version, const ModelFamilies& families,
      const DriftMonitorOptions& drift);

  ModelIdentity identity;
  std::vector<std::string> feature_names;
  // Feature f's bins are [bin_offsets[f], bin_offsets[f + 1]) of the
  // flattened per-bin vectors below.
  std::vector<int> bin_offsets;
  std::vector<prometheus::Counter*> bins;
  std::vector<prometheus::Gauge*> reference_ratios;
  std::vector<prometheus::Counter*> missing;  // per feature
  std::vector<prometheus::Counter*>
      unknown;  // per feature; null unless categorical
  std::array<prometheus::Gauge*, kNumProducts> prediction_ratios{};
  prometheus::Gauge* info = nullptr;
  // Whether feature f has a PSI (at most kMaxDriftBins bins).
  std::vector<bool> has_drift;
  std::unique_ptr<DriftMonitor> drift;
};

// Removes from the families every series of `old_series` that `new_series`
// does not have.
void RetireSeries(const ServingSeries& old_series,
                  const ServingSeries& new_series,
                  const ModelFamilies& families);

}  // namespace recsys

#endif  // RECSYS_SERVER_SERVING_SERIES_H_
