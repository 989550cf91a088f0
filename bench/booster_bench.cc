// Prediction speed of the XGBoost wrapper, the way the server uses it: a
// 24-class multi:softprob model with 100 features and depth-6 trees, loaded
// from its UBJ bytes, nthread=1, predicting 1 row or a block of rows per call.
//
//   booster_bench
// items_per_second is rows per CPU second of the calling thread (nthread=1:
// XGBoost uses no other thread), so it is meaningful on a busy machine too.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <vector>

#include "model_store/booster.h"

namespace recsys {
namespace {

constexpr int kFeatures = 100;
constexpr int kClasses = 24;
constexpr int kTrainRows = 20000;
constexpr int kRounds = 60;

// Random features (10% missing) with labels that depend on a few of them, so
// the trees are full depth-6 trees rather than stumps.
std::vector<float> RandomRows(int rows, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  std::vector<float> x(static_cast<size_t>(rows) * kFeatures);
  for (float& v : x) {
    v = rng() % 10 == 0 ? NAN : normal(rng);
  }
  return x;
}

// Trains once per process (about a minute on 2 cores) and returns the loaded
// serving copy with nthread=1.
const Booster& Model() {
  static const Booster* model = [] {
    const std::vector<float> x = RandomRows(kTrainRows, 1);
    std::vector<float> y(kTrainRows);
    std::mt19937 rng(2);
    for (int r = 0; r < kTrainRows; ++r) {
      const float* row = &x[static_cast<size_t>(r) * kFeatures];
      const float signal = (std::isnan(row[0]) ? 0 : row[0]) * 4 +
                           (std::isnan(row[1]) ? 0 : row[1]) * 2;
      y[r] = static_cast<float>(
          (static_cast<int>(std::fabs(signal) * 3) + rng() % 3) % kClasses);
    }
    auto train = DMatrix::Create(x.data(), kTrainRows, kFeatures, y);
    TrainOptions options;
    options.params = {{"objective", "multi:softprob"},
                      {"num_class", std::to_string(kClasses)},
                      {"max_depth", "6"},
                      {"eta", "0.1"},
                      {"min_child_weight", "1"}};
    options.max_rounds = kRounds;
    auto trained = Train(options, **train);
    if (!trained.ok()) {
      std::fprintf(stderr, "training failed: %s\n",
                   trained.status().ToString().c_str());
      std::abort();
    }
    auto bytes = trained->booster->SaveToBuffer();
    auto loaded = Booster::LoadFromBuffer(*bytes);
    if (!loaded.ok() || !(*loaded)->SetParam("nthread", "1").ok() ||
        !(*loaded)->Warmup().ok()) {
      std::fprintf(stderr, "loading failed\n");
      std::abort();
    }
    std::fprintf(stderr, "model: %d rounds, %d classes, %zu bytes UBJ\n",
                 *(*loaded)->BoostedRounds(), (*loaded)->num_class(),
                 bytes->size());
    return loaded->release();
  }();
  return *model;
}

void BM_Predict(benchmark::State& state) {
  const Booster& booster = Model();
  const int rows = static_cast<int>(state.range(0));
  const std::vector<float> x = RandomRows(rows, 3);
  std::vector<float> out(static_cast<size_t>(rows) * kClasses);
  for (auto _ : state) {
    if (!booster.Predict(x.data(), rows, kFeatures, out.data()).ok()) {
      state.SkipWithError("predict failed");
      break;
    }
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * rows);  // Rows per CPU second.
}
BENCHMARK(BM_Predict)->Arg(1)->Arg(64)->Arg(256)->Arg(1024);

// Loading (validation + XGBoost parse) of the same model from UBJ bytes.
void BM_Load(benchmark::State& state) {
  const std::string bytes = *Model().SaveToBuffer();
  for (auto _ : state) {
    auto loaded = Booster::LoadFromBuffer(bytes);
    if (!loaded.ok()) {
      state.SkipWithError("load failed");
      break;
    }
  }
  state.SetBytesProcessed(state.iterations() * bytes.size());
}
BENCHMARK(BM_Load)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace recsys
