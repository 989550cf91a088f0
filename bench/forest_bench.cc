// Our forest evaluator (model_store/forest.h) against XGBoost 1.7.4's
// in-place prediction (nthread=1) on the same model and rows, in one run:
//   - the default shape: 24 classes, 100 features, 60 rounds, depth 6;
//   - a deeper model: 24 classes, 100 features, 150 rounds, depth 8
//     (synthetic perfect trees, see SyntheticBytes).
// For each: 1 row per call (latency) and blocks of 256 rows (rows/s), the
// forest with each kernel (0 = auto, 1 = scalar, 2 = AVX2, 3 = AVX-512; a
// kernel this CPU cannot run reports an error).
//
//   forest_bench [--benchmark_filter=Default]
// items_per_second is rows per CPU second of the calling thread. The models
// are trained once and cached in $TMPDIR (or /tmp) as
// forest_bench_<shape>.ubj; delete them to retrain.
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "model_store/booster.h"
#include "model_store/forest.h"
#include "nlohmann/json.hpp"

namespace recsys {
namespace {

constexpr int kFeatures = 100;
constexpr int kClasses = 24;
// Half of booster_bench's 20,000 rows: training time on the shared machine.
constexpr int kTrainRows = 10000;

// Random features (10% missing) with labels that depend on a few of them, so
// the trees are full-depth trees rather than stumps (as booster_bench.cc).
std::vector<float> RandomRows(int rows, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  std::vector<float> x(static_cast<size_t>(rows) * kFeatures);
  for (float& v : x) v = rng() % 10 == 0 ? NAN : normal(rng);
  return x;
}

// Resident set size of this process (/proc/self/statm), in bytes.
long RssBytes() {
  long pages = 0, resident = 0;
  if (FILE* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
    std::fclose(f);
  }
  return resident * 4096;
}

// Peak resident set size of this process so far (getrusage), in bytes.
long PeakRssBytes() {
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss * 1024L;
}

struct Model {
  std::unique_ptr<Booster> booster;
  std::unique_ptr<Forest> forest;
};

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "forest_bench: %s\n", what.c_str());
  std::abort();
}

std::string TrainBytes(int depth, int rounds) {
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
  if (!train.ok()) Die(train.status().ToString());
  TrainOptions options;
  options.params = {{"objective", "multi:softprob"},
                    {"num_class", std::to_string(kClasses)},
                    {"max_depth", std::to_string(depth)},
                    {"eta", "0.1"},
                    {"min_child_weight", "1"},
                    {"nthread", "1"}};  // no OpenMP spinning on a busy CPU
  options.max_rounds = rounds;
  auto trained = Train(options, **train);
  if (!trained.ok()) Die(trained.status().ToString());
  return *trained->booster->SaveToBuffer();
}

// The deep model is synthetic: training 3,600 depth-8 trees takes most of an
// hour on the shared 2-core machine. A 1-round model gives XGBoost's JSON
// schema; its trees are replaced by perfect trees of depth `depth` (random
// split features, N(0,1) thresholds, random default directions, small
// leaves), loaded by XGBoost from JSON and saved back as UBJ. Every path has
// `depth` splits, so this is the deep shape's worst case for both
// evaluators.
std::string SyntheticBytes(int depth, int rounds) {
  std::string skeleton = TrainBytes(1, 1);
  nlohmann::json j = nlohmann::json::from_ubjson(skeleton);
  nlohmann::json& model = j["learner"]["gradient_booster"]["model"];
  const nlohmann::json tmpl = model["trees"][0];
  std::mt19937 rng(5);
  std::normal_distribution<float> normal;
  const int internal = (1 << depth) - 1;
  const int nodes = (1 << (depth + 1)) - 1;
  nlohmann::json trees = nlohmann::json::array();
  nlohmann::json info = nlohmann::json::array();
  for (int t = 0; t < rounds * kClasses; ++t) {
    nlohmann::json tree = tmpl;
    std::vector<int> left(nodes, -1), right(nodes, -1), parents(nodes),
        split(nodes, 0), dl(nodes, 0), type(nodes, 0);
    std::vector<double> cond(nodes), zero(nodes, 0.0), one(nodes, 1.0);
    for (int i = 0; i < nodes; ++i) {
      parents[i] = i == 0 ? 2147483647 : (i - 1) / 2;
      if (i < internal) {
        left[i] = 2 * i + 1;
        right[i] = 2 * i + 2;
        split[i] = static_cast<int>(rng() % kFeatures);
        dl[i] = static_cast<int>(rng() % 2);
        cond[i] = normal(rng);
      } else {
        cond[i] = static_cast<float>(normal(rng) * 0.05f);
      }
    }
    tree["left_children"] = left;
    tree["right_children"] = right;
    tree["parents"] = parents;
    tree["split_indices"] = split;
    tree["split_conditions"] = cond;
    tree["default_left"] = dl;
    tree["split_type"] = type;
    tree["base_weights"] = cond;
    tree["loss_changes"] = zero;
    tree["sum_hessian"] = one;
    tree["id"] = t;
    tree["tree_param"]["num_nodes"] = std::to_string(nodes);
    trees.push_back(std::move(tree));
    info.push_back(t % kClasses);
  }
  model["trees"] = std::move(trees);
  model["tree_info"] = std::move(info);
  model["gbtree_model_param"]["num_trees"] = std::to_string(rounds * kClasses);
  auto booster = Booster::LoadFromBuffer(j.dump());
  if (!booster.ok()) Die(booster.status().ToString());
  return *(*booster)->SaveToBuffer();
}

Model Load(int depth, int rounds) {
  const char* tmp = std::getenv("TMPDIR");
  const std::string path = std::string(tmp ? tmp : "/tmp") + "/forest_bench_d" +
                           std::to_string(depth) + "_r" +
                           std::to_string(rounds) + ".ubj";
  std::string bytes;
  if (std::ifstream in(path, std::ios::binary); in) {
    std::stringstream s;
    s << in.rdbuf();
    bytes = s.str();
  }
  if (bytes.empty()) {
    bytes =
        depth > 6 ? SyntheticBytes(depth, rounds) : TrainBytes(depth, rounds);
    std::ofstream(path, std::ios::binary) << bytes;
  }
  Model m;
  const long rss0 = RssBytes();
  auto booster = Booster::LoadFromBuffer(bytes);
  if (!booster.ok()) Die(booster.status().ToString());
  if (!(*booster)->SetParam("nthread", "1").ok() ||
      !(*booster)->Warmup().ok()) {
    Die("warmup");
  }
  const long rss1 = RssBytes();
  const long peak1 = PeakRssBytes();
  const auto start = std::chrono::steady_clock::now();
  auto forest = Forest::FromModel(bytes);
  const double build_ms = std::chrono::duration<double, std::milli>(
                              std::chrono::steady_clock::now() - start)
                              .count();
  if (!forest.ok()) Die(forest.status().ToString());
  std::fprintf(stderr,
               "resident memory: XGBoost booster +%ld KB after load and "
               "warm-up, forest +%ld KB (includes allocator noise)\n",
               (rss1 - rss0) / 1024, (RssBytes() - rss1) / 1024);
  std::fprintf(stderr,
               "Forest::FromModel: %.0f ms wall; the process's peak resident "
               "set grew by %ld KB during it (from %ld KB)\n",
               build_ms, (PeakRssBytes() - peak1) / 1024, peak1 / 1024);
  std::fprintf(stderr,
               "model depth %d rounds %d: %d trees, forest depth %d, "
               "%zu bytes UBJ, forest arrays %zu bytes, kernel %s\n",
               depth, rounds, (*forest)->num_trees(), (*forest)->depth(),
               bytes.size(), (*forest)->memory_bytes(),
               ForestKernelName((*forest)->best_kernel()));
  // The bench is only meaningful if the answers are the same.
  const std::vector<float> x = RandomRows(1000, 9);
  std::vector<float> a(1000 * kClasses), b(1000 * kClasses);
  if (!(*booster)->Predict(x.data(), 1000, kFeatures, a.data()).ok() ||
      !(*forest)->Predict(x.data(), 1000, kFeatures, b.data()).ok() ||
      std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) != 0) {
    Die("forest and XGBoost differ");
  }
  m.booster = *std::move(booster);
  m.forest = *std::move(forest);
  return m;
}

const Model& DefaultModel() {
  static const Model* m = new Model(Load(6, 60));
  return *m;
}
const Model& DeepModel() {
  static const Model* m = new Model(Load(8, 150));
  return *m;
}

// Args: rows per call.
void Xgboost(benchmark::State& state, const Model& (*model)()) {
  const Booster& booster = *model().booster;
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
  state.SetItemsProcessed(state.iterations() * rows);
}

// Args: rows per call, kernel (ForestKernel as int).
void Ours(benchmark::State& state, const Model& (*model)()) {
  const Forest& forest = *model().forest;
  const int rows = static_cast<int>(state.range(0));
  const auto kernel = static_cast<ForestKernel>(state.range(1));
  if (!ForestKernelSupported(kernel)) {
    state.SkipWithError("kernel not supported on this CPU");
    return;
  }
  state.SetLabel(kernel == ForestKernel::kAuto
                     ? std::string("auto=") +
                           ForestKernelName(forest.best_kernel())
                     : ForestKernelName(kernel));
  const std::vector<float> x = RandomRows(rows, 3);
  std::vector<float> out(static_cast<size_t>(rows) * kClasses);
  for (auto _ : state) {
    if (!forest.Predict(x.data(), rows, kFeatures, out.data(), kernel).ok()) {
      state.SkipWithError("predict failed");
      break;
    }
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * rows);
}

void Register() {
  struct Shape {
    const char* name;
    const Model& (*model)();
  };
  for (const Shape& s : {Shape{"Default_d6_r60", &DefaultModel},
                         Shape{"Deep_d8_r150", &DeepModel}}) {
    benchmark::RegisterBenchmark(
        (std::string("BM_Xgboost/") + s.name).c_str(),
        [s](benchmark::State& st) { Xgboost(st, s.model); })
        ->Arg(1)
        ->Arg(256);
    auto* b = benchmark::RegisterBenchmark(
        (std::string("BM_Forest/") + s.name).c_str(),
        [s](benchmark::State& st) { Ours(st, s.model); });
    b->ArgNames({"rows", "kernel"});
    for (int rows : {1, 256}) {
      for (int kernel : {0, 1, 2, 3}) b->Args({rows, kernel});
    }
  }
}

}  // namespace
}  // namespace recsys

int main(int argc, char** argv) {
  recsys::Register();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
