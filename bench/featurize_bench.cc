// Featurizer speed with the default spec (config/feature_spec.json) on the real
// train rows: per row, per block of rows, and with a product-history snapshot
// lookup over 950,000 customers.
//
//   build/bench/featurize_bench --benchmark_counters_tabular=true
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include "benchmark/benchmark.h"
#include "common/raw_reader.h"
#include "featurizer/feature_spec.h"
#include "featurizer/featurizer.h"
#include "featurizer/product_history.h"
#include "featurizer/vocabulary.h"

namespace recsys {
namespace {

constexpr int kCustomers = 950000;

struct Fixture {
  std::vector<RawRecord> records;
  std::vector<HistoryView> histories;  // one per record
  std::unique_ptr<const Featurizer> featurizer;
  std::shared_ptr<const ProductHistorySnapshot> snapshot;
  std::vector<int64_t> ids;  // customers in the snapshot, shuffled

  Fixture() {
    auto spec = LoadFeatureSpec(RECSYS_SOURCE_DIR "/config/feature_spec.json");
    Check(spec.status());
    auto reader =
        RawReader::Open(RECSYS_SHARED_DIR "/data/real/train_ver2_first999.csv");
    Check(reader.status());
    RawRecord r;
    std::vector<RowError> errors;
    while ((*reader)->Next(&r, &errors)) records.push_back(r);
    VocabularyLearner learner(*spec);
    for (const RawRecord& rec : records) learner.Add(rec);
    auto f = Featurizer::Create(*spec, learner.Finish());
    Check(f.status());
    featurizer = *std::move(f);

    std::mt19937 rng(1);
    auto builder = *ProductHistoryBuilder::Create({});
    for (int month = 0; month < 4; ++month) {
      for (int i = 0; i < kCustomers; ++i) {
        if (rng() % 20 == 0) continue;  // absent this month
        const ProductMask owned = (rng() & rng() & rng()) & kAllProducts;
        Check(builder->Observe(24000 + month, 15889 + i, owned));
      }
    }
    snapshot = *builder->Snapshot();
    for (int i = 0; i < kCustomers; ++i) ids.push_back(15889 + i);
    std::shuffle(ids.begin(), ids.end(), rng);
    for (size_t i = 0; i < records.size(); ++i) {
      histories.push_back(*snapshot->Lookup(ids[i], snapshot->target_month()));
    }
  }

  static void Check(const absl::Status& s) {
    if (!s.ok()) {
      std::fprintf(stderr, "featurize_bench setup: %s\n", s.ToString().c_str());
      std::exit(1);
    }
  }
};

const Fixture& GetFixture() {
  static const Fixture* fixture = new Fixture();
  return *fixture;
}

void BM_FeaturizeRow(benchmark::State& state) {
  const Fixture& f = GetFixture();
  std::vector<float> row(f.featurizer->num_features());
  size_t i = 0;
  for (auto _ : state) {
    f.featurizer->Featurize(f.records[i], f.histories[i], row.data());
    benchmark::DoNotOptimize(row.data());
    if (++i == f.records.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["features"] = f.featurizer->num_features();
}
BENCHMARK(BM_FeaturizeRow);

// A block of rows into one row-major matrix, as a batch request is scored.
void BM_FeaturizeBlock(benchmark::State& state) {
  const Fixture& f = GetFixture();
  const size_t block = static_cast<size_t>(state.range(0));
  const int n = f.featurizer->num_features();
  std::vector<float> matrix(block * n);
  size_t start = 0;
  for (auto _ : state) {
    for (size_t k = 0; k < block; ++k) {
      const size_t i = (start + k) % f.records.size();
      f.featurizer->Featurize(f.records[i], f.histories[i], &matrix[k * n]);
    }
    benchmark::DoNotOptimize(matrix.data());
    start = (start + block) % f.records.size();
  }
  state.SetItemsProcessed(state.iterations() * block);
}
BENCHMARK(BM_FeaturizeBlock)->Arg(64)->Arg(1024);

// Snapshot lookup of a random customer among 950,000 (binary search).
void BM_SnapshotLookup(benchmark::State& state) {
  const Fixture& f = GetFixture();
  size_t i = 0;
  const int target = f.snapshot->target_month();
  for (auto _ : state) {
    auto view = f.snapshot->Lookup(f.ids[i], target);
    benchmark::DoNotOptimize(view);
    if (++i == f.ids.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["snapshot_MB"] = f.snapshot->MemoryBytes() / 1e6;
}
BENCHMARK(BM_SnapshotLookup);

// What the server does per customer: lookup, then featurize.
void BM_LookupAndFeaturize(benchmark::State& state) {
  const Fixture& f = GetFixture();
  std::vector<float> row(f.featurizer->num_features());
  const int target = f.snapshot->target_month();
  size_t i = 0, j = 0;
  for (auto _ : state) {
    auto view = f.snapshot->Lookup(f.ids[j], target);
    f.featurizer->Featurize(f.records[i], *view, row.data());
    benchmark::DoNotOptimize(row.data());
    if (++i == f.records.size()) i = 0;
    if (++j == f.ids.size()) j = 0;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_LookupAndFeaturize);

}  // namespace
}  // namespace recsys
