// Cost of the server's metrics bookkeeping per scored row: ServerMetrics::
// ObserveBatch (reference bins of every feature, missing / unknown counts,
// recommended mix, score histograms, the drift window) with the default
// feature spec (100 features) and a reference built from featurized real rows,
// and the cost of a scrape (PSI of every feature + the text format).
//
//   build/bench/metrics_bench --benchmark_counters_tabular=true
//
// Compare with XGBoost's prediction, about 70 us per row (booster_bench).
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include "benchmark/benchmark.h"
#include "common/products.h"
#include "common/ranking.h"
#include "common/raw_reader.h"
#include "featurizer/feature_spec.h"
#include "featurizer/featurizer.h"
#include "featurizer/product_history.h"
#include "featurizer/reference.h"
#include "featurizer/vocabulary.h"
#include "model_store/model_version.h"
#include "server/metrics.h"

namespace recsys {
namespace {

constexpr int kMonths = 4;

void Check(const absl::Status& s) {
  if (!s.ok()) {
    std::fprintf(stderr, "metrics_bench setup: %s\n", s.ToString().c_str());
    std::exit(1);
  }
}

std::vector<RawRecord> ReadAll(const std::string& path) {
  absl::StatusOr<std::unique_ptr<RawReader>> reader = RawReader::Open(path);
  Check(reader.status());
  std::vector<RawRecord> out;
  RawRecord r;
  std::vector<RowError> errors;
  while ((*reader)->Next(&r, &errors)) out.push_back(r);
  return out;
}

// Real train rows (reference) and test rows (observed), featurized with the
// default spec and random product histories; random 24-product scores ranked
// into top-7 lists.
struct Fixture {
  std::shared_ptr<const ModelVersion> model;
  std::vector<float> rows;  // observed feature rows, row-major
  std::vector<TopKResult> tops;
  std::vector<int> months;  // per row: the month scored for (all 2016-06)
  int64_t num_rows = 0;

  Fixture() {
    absl::StatusOr<FeatureSpec> spec =
        LoadFeatureSpec(RECSYS_SOURCE_DIR "/config/feature_spec.json");
    Check(spec.status());
    const std::vector<RawRecord> train =
        ReadAll(RECSYS_SHARED_DIR "/data/real/train_ver2_first999.csv");
    std::vector<RawRecord> test =
        ReadAll(RECSYS_SHARED_DIR "/data/real/test_ver2_first38171_excel.csv");
    test.resize(std::min<size_t>(test.size(), 8192));
    VocabularyLearner learner(*spec);
    for (const RawRecord& r : train) learner.Add(r);
    absl::StatusOr<std::unique_ptr<const Featurizer>> featurizer =
        Featurizer::Create(*spec, learner.Finish());
    Check(featurizer.status());
    const int nf = (*featurizer)->num_features();

    std::mt19937 rng(1);
    auto builder = *ProductHistoryBuilder::Create({.depth = 6});
    const std::vector<RawRecord>* const sources[] = {&train, &test};
    for (int month = 0; month < kMonths; ++month) {
      for (const std::vector<RawRecord>* records : sources) {
        for (const RawRecord& r : *records) {
          if (rng() % 20 == 0) continue;  // absent that month
          const ProductMask owned = (rng() & rng() & rng()) & kAllProducts;
          (void)builder->Observe(24000 + month, r.ncodpers.value, owned);
        }
      }
    }
    std::shared_ptr<const ProductHistorySnapshot> snapshot =
        *builder->Snapshot();
    auto featurize = [&](const std::vector<RawRecord>& records) {
      std::vector<float> out(records.size() * nf);
      for (size_t i = 0; i < records.size(); ++i) {
        absl::StatusOr<HistoryView> view = snapshot->Lookup(
            records[i].ncodpers.value, snapshot->target_month());
        (*featurizer)
            ->Featurize(records[i], view.ok() ? *view : HistoryView(),
                        &out[i * nf]);
      }
      return out;
    };
    const std::vector<float> reference_rows = featurize(train);
    rows = featurize(test);
    num_rows = static_cast<int64_t>(test.size());
    months.assign(test.size(), 2016 * 12 + 5);

    std::uniform_real_distribution<float> score(0, 1);
    std::vector<int> top1;
    for (int64_t i = 0; i < num_rows; ++i) {
      float scores[kNumProducts];
      for (float& s : scores) s = score(rng) * score(rng);
      tops.push_back(TopK(scores, rng() & kAllProducts & rng(), 7));
      top1.push_back(tops.back().items[0].product);
    }

    ModelVersion::Parts parts;
    parts.manifest.model_name = "santander";
    parts.manifest.version = 1;
    parts.manifest.feature_spec_hash = spec->SpecHash();
    absl::StatusOr<ReferenceDistributions> ref = ReferenceDistributions::Build(
        (*featurizer)->schema(), reference_rows, {});
    Check(ref.status());
    parts.reference = *std::move(ref);
    parts.prediction_reference = *PredictionReference::Build(top1, {});
    parts.featurizer = *std::move(featurizer);
    model = std::make_shared<const ModelVersion>(std::move(parts));
  }
};

const Fixture& GetFixture() {
  static const Fixture* fixture = new Fixture();
  return *fixture;
}

std::unique_ptr<ServerMetrics> NewMetrics(const ModelVersion& model) {
  MetricsOptions options;
  options.port = -1;  // no HTTP endpoint: Scrape() directly
  absl::StatusOr<std::unique_ptr<ServerMetrics>> metrics =
      ServerMetrics::Create(options);
  Check(metrics.status());
  (*metrics)->ModelServing(model);
  return *std::move(metrics);
}

// ObserveBatch per row, for batches of state.range(0) rows, on 1 or 2 threads
// sharing one ServerMetrics (the lock is taken once per batch).
void BM_ObserveBatch(benchmark::State& state) {
  const Fixture& f = GetFixture();
  static ServerMetrics* const shared = NewMetrics(*f.model).release();
  const int64_t batch = state.range(0);
  const int nf = f.model->num_features();
  int64_t start = (state.thread_index() * 997) % (f.num_rows - batch);
  for (auto _ : state) {
    shared->ObserveBatch(*f.model, &f.rows[start * nf], batch, &f.tops[start],
                         &f.months[start]);
    start += batch;
    if (start + batch > f.num_rows) start = 0;
  }
  state.SetItemsProcessed(state.iterations() * batch);
  // Seconds per row (wall clock; summed over threads, then inverted).
  state.counters["per_row"] = benchmark::Counter(
      static_cast<double>(state.iterations() * batch),
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["features"] =
      benchmark::Counter(nf, benchmark::Counter::kAvgThreads);
}
BENCHMARK(BM_ObserveBatch)
    ->Arg(1)
    ->Arg(16)
    ->Arg(256)
    ->Threads(1)
    ->Threads(2)
    ->UseRealTime();

// A scrape of everything: PSI of the 100 features over a full 5000-row window
// and the text format of every series.
void BM_Scrape(benchmark::State& state) {
  const Fixture& f = GetFixture();
  std::unique_ptr<ServerMetrics> metrics = NewMetrics(*f.model);
  metrics->ObserveBatch(*f.model, f.rows.data(), f.num_rows, f.tops.data(),
                        f.months.data());
  size_t bytes = 0;
  for (auto _ : state) {
    std::string text = metrics->Scrape();
    bytes = text.size();
    benchmark::DoNotOptimize(text.data());
  }
  state.counters["bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_Scrape)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace recsys
