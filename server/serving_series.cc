#include "server/serving_series.h"

#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"

namespace recsys {
namespace {

// Removes the series of `old_metrics` that are not among `new_metrics`.
template <typename T, typename Container1, typename Container2>
void RemoveStale(const Container1& old_metrics, const Container2& new_metrics,
                 prometheus::Family<T>* family) {
  absl::flat_hash_set<const T*> keep(new_metrics.begin(), new_metrics.end());
  absl::flat_hash_set<const T*> removed;
  for (T* metric : old_metrics) {
    if (metric == nullptr || keep.contains(metric)) continue;
    if (removed.insert(metric).second) family->Remove(metric);
  }
}

}  // namespace

ModelIdentity ModelIdentity::Of(const ModelVersion& version) {
  return ModelIdentity{version.name(), version.version(),
                       version.manifest().feature_spec_hash};
}

std::unique_ptr<ServingSeries> ServingSeries::Create(
    const ModelVersion& version, const ModelFamilies& families,
    const DriftMonitorOptions& drift) {
  auto s = std::make_unique<ServingSeries>();
  s->identity = ModelIdentity::Of(version);
  s->info = &families.model_info->Add(
      {{"model", s->identity.model},
       {"version", absl::StrCat(s->identity.version)},
       {"feature_spec_hash", s->identity.feature_spec_hash},
       {"predictor", version.predictor()}});
  s->info->Set(1);

  const ReferenceDistributions& ref = version.reference();
  const FeatureSchema& schema = version.featurizer().schema();
  std::vector<std::vector<double>> drift_shares;
  s->bin_offsets.push_back(0);
  for (int f = 0; f < ref.num_features(); ++f) {
    const std::string& name = ref.name(f);
    s->feature_names.push_back(name);
    // A feature drift monitoring skips gets no bins: no bin counters, no
    // reference ratios (so the fleet PSI recording rules skip it too), no PSI.
    const std::vector<std::string>& labels = ref.labels(f);
    const std::vector<double>& shares = ref.shares(f);
    const size_t bins = ref.monitored(f) ? labels.size() : 0;
    for (size_t b = 0; b < bins; ++b) {
      const prometheus::Labels series_labels = {{"feature", name},
                                                {"bin", labels[b]}};
      s->bins.push_back(&families.feature_bins->Add(series_labels));
      prometheus::Gauge* ratio =
          &families.feature_reference_ratio->Add(series_labels);
      ratio->Set(b < shares.size() ? shares[b] : 0.0);
      s->reference_ratios.push_back(ratio);
    }
    s->bin_offsets.push_back(static_cast<int>(s->bins.size()));
    s->missing.push_back(&families.feature_missing->Add({{"feature", name}}));
    const bool categorical =
        f < schema.num_features() &&
        schema.features[f].kind == FeatureKind::kCategorical;
    s->unknown.push_back(
        categorical ? &families.feature_unknown->Add({{"feature", name}})
                    : nullptr);
    const bool has_drift = bins > 0 && !shares.empty() &&
                           shares.size() <= static_cast<size_t>(kMaxDriftBins);
    s->has_drift.push_back(has_drift);
    drift_shares.push_back(has_drift ? shares : std::vector<double>{1.0});
  }

  const PredictionReference& pred = version.prediction_reference();
  for (int p = 0; p < kNumProducts; ++p) {
    const prometheus::Labels series_labels = {
        {"bin", std::string(kProducts[p].column)}};
    s->prediction_ratios[p] =
        &families.prediction_reference_ratio->Add(series_labels);
    s->prediction_ratios[p]->Set(
        static_cast<size_t>(p) < pred.shares().size() ? pred.shares()[p] : 0.0);
  }
  drift_shares.push_back(pred.shares().size() == kNumProducts
                             ? pred.shares()
                             : std::vector<double>(kNumProducts, 0.0));

  absl::StatusOr<std::unique_ptr<DriftMonitor>> monitor =
      DriftMonitor::Create(std::move(drift_shares), drift);
  // Only invalid options can fail, and ServerMetrics::Create checked them.
  if (monitor.ok()) s->drift = *std::move(monitor);
  return s;
}

void RetireSeries(const ServingSeries& old_series,
                  const ServingSeries& new_series,
                  const ModelFamilies& families) {
  RemoveStale(std::vector<prometheus::Gauge*>{old_series.info},
              std::vector<prometheus::Gauge*>{new_series.info},
              families.model_info);
  RemoveStale(old_series.bins, new_series.bins, families.feature_bins);
  RemoveStale(old_series.reference_ratios, new_series.reference_ratios,
              families.feature_reference_ratio);
  RemoveStale(old_series.missing, new_series.missing, families.feature_missing);
  RemoveStale(old_series.unknown, new_series.unknown, families.feature_unknown);
  RemoveStale(old_series.prediction_ratios, new_series.prediction_ratios,
              families.prediction_reference_ratio);
}

}  // namespace recsys
