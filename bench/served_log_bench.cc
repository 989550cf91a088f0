// The served log's cost per answered row on the scoring threads
// (ServedLog::Record: intern the version, pack the top 7, queue the row under
// one lock per batch), against the ~32 µs/row XGBoost predict (BENCHMARKS.md),
// for a unary call (1 row) and a stream message (256 rows), with the writer
// thread running as in the server (appends, fdatasync per drain) into a
// temporary directory; and the writer's durable throughput (rows written and
// synced per second).
#include <benchmark/benchmark.h>

#include <filesystem>
#include <memory>
#include <random>
#include <vector>

#include "common/date.h"
#include "server/served_log.h"

namespace recsys {
namespace {

// Batches of `rows` answered rows of one version for June, random customers.
struct Answers {
  explicit Answers(int rows) : requests(rows), scores(rows) {
    ModelVersion::Parts parts;
    parts.manifest.model_name = "santander";
    parts.manifest.version = 3;
    model = std::make_unique<ModelVersion>(std::move(parts));
    for (int i = 0; i < rows; ++i) {
      scores[i].target_month = Date{2016, 6, 28}.MonthIndex();
      for (int p = 0; p < kKaggleMapK; ++p)
        scores[i].top.items[scores[i].top.size++].product = (p * 5 + i) % 24;
    }
  }
  ScoredRows Next() {
    for (DecodedRequest& r : requests)
      r.record.ncodpers.Set(static_cast<int64_t>(rng() % 950000));
    return {.model = model.get(),
            .history_month = "2016-06",
            .requests = requests,
            .scores = scores,
            .row_models = {},
            .challenger_history_month = {},
            .explanations = {}};
  }
  std::unique_ptr<ModelVersion> model;
  std::vector<DecodedRequest> requests;
  std::vector<RowScore> scores;
  std::mt19937 rng{1};
};

std::unique_ptr<ServedLog> OpenLog(const std::string& dir, int64_t queue) {
  std::filesystem::remove_all(dir);
  auto log = ServedLog::Create(
      {.dir = dir, .max_months = 3, .max_customers_per_month = 2'000'000,
       .queue_rows = queue});
  return log.ok() ? *std::move(log) : nullptr;
}

// What a scoring thread pays per answered row: Record() (CPU time of the
// calling thread; the writer thread drains meanwhile). `dropped` counts rows
// the queue could not take (0 means the writer kept up).
void BM_ServedLogRecord(benchmark::State& state) {
  const std::string dir =
      (std::filesystem::temp_directory_path() / "served_log_bench").string();
  auto log = OpenLog(dir, 1 << 20);
  if (log == nullptr) return state.SkipWithError("cannot open the log");
  Answers answers(static_cast<int>(state.range(0)));
  for (auto _ : state) log->Record(answers.Next());
  state.SetItemsProcessed(state.iterations() * state.range(0));
  log->Flush();
  state.counters["dropped"] = static_cast<double>(log->dropped_rows());
  log.reset();
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_ServedLogRecord)->Arg(1)->Arg(256);

// Durable throughput: each batch recorded and waited for (written and
// fdatasynced), wall time per row.
void BM_ServedLogDurable(benchmark::State& state) {
  const std::string dir =
      (std::filesystem::temp_directory_path() / "served_log_bench").string();
  auto log = OpenLog(dir, 1 << 20);
  if (log == nullptr) return state.SkipWithError("cannot open the log");
  Answers answers(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    log->Record(answers.Next());
    log->Flush();
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
  log.reset();
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_ServedLogDurable)->Arg(256)->Arg(4096)->UseRealTime();

}  // namespace
}  // namespace recsys
