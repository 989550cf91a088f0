// The batch path of the server without gRPC: ScoreBatch (history lookup +
// featurize + predict + rank) on a real bundle for batches of 1..1024 rows,
// with the per-row time of each stage as counters; the same plus an
// explanation of every row (BM_ScoreAndExplain); XGBoost prediction alone
// with the same model; and top-k ranking alone.
//
//   RECSYS_BENCH_BUNDLE=models/santander/1
//   RECSYS_BENCH_INPUT=test_ver2.csv build/bench/scoring_bench
//
// Without RECSYS_BENCH_BUNDLE the ScoreBatch benchmarks are skipped (scripts/
// bench.sh sets it); RECSYS_BENCH_INPUT defaults to the real test rows in
// shared/data/real. items_per_second is rows per second of one thread.
#include <benchmark/benchmark.h>
#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "bench/floor.h"
#include "common/ranking.h"
#include "model_store/bundle.h"
#include "model_store/explainer.h"
#include "model_store/scorer.h"

namespace recsys {
namespace {

struct Fixture {
  std::shared_ptr<const ModelVersion> model;
  std::vector<RawRecord> records;
  std::vector<float> features;  // of every record, row-major
  std::string error;            // why the ScoreBatch benchmarks are skipped

  Fixture() {
    const char* bundle = std::getenv("RECSYS_BENCH_BUNDLE");
    if (bundle == nullptr || *bundle == '\0') {
      error = "set RECSYS_BENCH_BUNDLE to a model bundle directory";
      return;
    }
    const char* input = std::getenv("RECSYS_BENCH_INPUT");
    const std::string path = input != nullptr && *input != '\0'
                                 ? input
                                 : RECSYS_SHARED_DIR
                                 "/data/real/test_ver2_first38171_excel.csv";
    absl::StatusOr<BundleManifest> manifest = ReadManifest(bundle);
    absl::StatusOr<std::shared_ptr<const ModelVersion>> loaded =
        manifest.ok() ? LoadModelVersion(bundle, manifest->version)
                      : manifest.status();
    absl::StatusOr<std::vector<RawRecord>> read =
        ReadRecords(path, 65536, nullptr);
    if (!loaded.ok() || !read.ok() || read->empty()) {
      error = !loaded.ok() ? loaded.status().ToString()
              : read.ok()  ? "no rows"
                           : read.status().ToString();
      return;
    }
    model = *loaded;
    records = *std::move(read);
    const int nf = model->num_features();
    features.resize(records.size() * nf);
    for (size_t i = 0; i < records.size(); ++i) {
      absl::StatusOr<HistoryView> view = model->history().Lookup(
          records[i].ncodpers.value, model->history_month());
      model->featurizer().Featurize(
          records[i], view.ok() ? *view : HistoryView(), &features[i * nf]);
    }
  }
};

// CPU time of the calling thread, in seconds.
double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) +
         1e-9 * static_cast<double>(ts.tv_nsec);
}

const Fixture& GetFixture() {
  static const Fixture* fixture = new Fixture();
  return *fixture;
}

void BM_ScoreBatch(benchmark::State& state) {
  const Fixture& f = GetFixture();
  if (f.model == nullptr) {
    state.SkipWithError(f.error.c_str());
    return;
  }
  const size_t batch = static_cast<size_t>(state.range(0));
  std::vector<ScoreInput> rows(batch);
  std::vector<RowScore> out(batch);
  ScoreScratch scratch;
  ScoreTimings timings;
  size_t start = 0;
  for (auto _ : state) {
    for (size_t i = 0; i < batch; ++i) {
      rows[i] = {&f.records[(start + i) % f.records.size()], nullptr};
    }
    if (!ScoreBatch(*f.model, rows, 7, &scratch, absl::MakeSpan(out), &timings)
             .ok()) {
      state.SkipWithError("ScoreBatch failed");
      return;
    }
    benchmark::DoNotOptimize(out.data());
    start = (start + batch) % f.records.size();
  }
  const double rows_done = static_cast<double>(state.iterations() * batch);
  state.SetItemsProcessed(state.iterations() * batch);
  state.counters["featurize_us"] = 1e6 * timings.featurize_seconds / rows_done;
  state.counters["predict_us"] = 1e6 * timings.predict_seconds / rows_done;
  state.counters["rank_us"] = 1e6 * timings.rank_seconds / rows_done;
}
BENCHMARK(BM_ScoreBatch)->Arg(1)->Arg(64)->Arg(256)->Arg(1024);

// XGBoost alone (the bundle's booster, nthread=1) on featurized real rows.
void BM_Predict(benchmark::State& state) {
  const Fixture& f = GetFixture();
  if (f.model == nullptr) {
    state.SkipWithError(f.error.c_str());
    return;
  }
  const int64_t batch = state.range(0);
  const int nf = f.model->num_features();
  const int64_t rows = static_cast<int64_t>(f.records.size());
  std::vector<float> scores(batch * kNumProducts);
  int64_t start = 0;
  for (auto _ : state) {
    if (start + batch > rows) start = 0;
    if (!f.model->booster()
             .Predict(&f.features[start * nf], batch, nf, scores.data())
             .ok()) {
      state.SkipWithError("Predict failed");
      return;
    }
    benchmark::DoNotOptimize(scores.data());
    start += batch;
  }
  state.SetItemsProcessed(state.iterations() * batch);
}
BENCHMARK(BM_Predict)->Arg(1)->Arg(64)->Arg(256)->Arg(1024);

// The cost of an explanation (RecommendRequest.explain): ScoreBatch of
// `batch` rows with k = 7, then ExplainRow (TreeSHAP, 5 features listed) for
// every scored row, as the server does for rows that ask. Compare
// items_per_second with BM_ScoreBatch of the same batch; explain_cpu_us is
// the explaining alone, CPU time per row of this thread (score_us: the
// scoring stages, wall time per row, as BM_ScoreBatch's counters).
void BM_ScoreAndExplain(benchmark::State& state) {
  const Fixture& f = GetFixture();
  if (f.model == nullptr) {
    state.SkipWithError(f.error.c_str());
    return;
  }
  const size_t batch = static_cast<size_t>(state.range(0));
  const size_t nf = static_cast<size_t>(f.model->num_features());
  std::vector<ScoreInput> rows(batch);
  std::vector<RowScore> out(batch);
  ScoreScratch scratch;
  ScoreTimings timings;
  ExplainScratch explain;
  std::vector<ProductExplanation> why;
  double explain_seconds = 0;
  size_t start = 0;
  for (auto _ : state) {
    for (size_t i = 0; i < batch; ++i) {
      rows[i] = {&f.records[(start + i) % f.records.size()], nullptr};
    }
    if (!ScoreBatch(*f.model, rows, 7, &scratch, absl::MakeSpan(out), &timings)
             .ok()) {
      state.SkipWithError("ScoreBatch failed");
      return;
    }
    const double explain_start = ThreadCpuSeconds();
    for (size_t i = 0; i < batch; ++i) {
      if (!out[i].status.ok()) continue;
      const float* row = &scratch.features[scratch.feature_row[i] * nf];
      if (!ExplainRow(*f.model, row, out[i].top, 5, &explain, &why).ok()) {
        state.SkipWithError("ExplainRow failed");
        return;
      }
      benchmark::DoNotOptimize(why.data());
    }
    explain_seconds += ThreadCpuSeconds() - explain_start;
    start = (start + batch) % f.records.size();
  }
  const double rows_done = static_cast<double>(state.iterations() * batch);
  state.SetItemsProcessed(state.iterations() * batch);
  state.counters["explain_cpu_us"] = 1e6 * explain_seconds / rows_done;
  state.counters["score_us"] =
      1e6 *
      (timings.featurize_seconds + timings.predict_seconds +
       timings.rank_seconds) /
      rows_done;
}
BENCHMARK(BM_ScoreAndExplain)->Arg(1)->Arg(64);

// TopK of 24 random scores excluding a random owned-last-month mask.
void BM_TopK(benchmark::State& state) {
  constexpr int kRows = 4096;
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> score(0, 1);
  std::vector<float> scores(kRows * kNumProducts);
  for (float& s : scores) s = score(rng);
  std::vector<ProductMask> owned(kRows);
  for (ProductMask& m : owned) m = rng() & rng() & kAllProducts;
  const int k = static_cast<int>(state.range(0));
  int i = 0;
  for (auto _ : state) {
    TopKResult top = TopK(&scores[i * kNumProducts], owned[i], k);
    benchmark::DoNotOptimize(top);
    if (++i == kRows) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TopK)->Arg(7)->Arg(24);

}  // namespace
}  // namespace recsys
