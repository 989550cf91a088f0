// The served log's cost per answered row on the scoring threads
// (ServedLog::Record: intern the version, pack the top 7, queue the row under
// one lock per batch), against the ~32 µs/row XGBoost predict (BENCHMARKS.md),
// for a unary call (1 row) and a stream message (256 rows). The writer thread
// runs as in the server (appends, fdatasync per drain) into a temporary
// directory; the queue is sized so that nothing is dropped: Flush() waits for
// the writer every 64 batches, so the measured time includes waiting for the
// disk whenever the writer falls behind (the server would drop instead).
#include <benchmark/benchmark.h>

#include <filesystem>
#include <random>
#include <vector>

#include "common/date.h"
#include "server/served_log.h"

namespace recsys {
namespace {

void BM_ServedLogRecord(benchmark::State& state) {
  const int rows = static_cast<int>(state.range(0));
  const std::string dir =
      (std::filesystem::temp_directory_path() / "served_log_bench").string();
  std::filesystem::remove_all(dir);
  ModelVersion::Parts parts;
  parts.manifest.model_name = "santander";
  parts.manifest.version = 3;
  ModelVersion model(std::move(parts));
  auto log = ServedLog::Create(
      {.dir = dir, .max_months = 3, .max_customers_per_month = 2'000'000,
       .queue_rows = 1 << 22});
  if (!log.ok()) {
    state.SkipWithError(std::string(log.status().message()).c_str());
    return;
  }
  const int june = Date{2016, 6, 28}.MonthIndex();
  std::mt19937 rng(1);
  std::vector<DecodedRequest> requests(rows);
  std::vector<RowScore> scores(rows);
  for (int i = 0; i < rows; ++i) {
    scores[i].target_month = june;
    for (int p = 0; p < kKaggleMapK; ++p)
      scores[i].top.items[scores[i].top.size++].product = (p * 5 + i) % 24;
  }
  int64_t batches = 0;
  for (auto _ : state) {
    for (int i = 0; i < rows; ++i)
      requests[i].record.ncodpers.Set(static_cast<int64_t>(rng() % 950000));
    (*log)->Record({.model = &model,
                    .history_month = "2016-06",
                    .requests = requests,
                    .scores = scores});
    if (++batches % 64 == 0) (*log)->Flush();
  }
  (*log)->Flush();
  state.SetItemsProcessed(state.iterations() * rows);
  state.counters["dropped"] = static_cast<double>((*log)->dropped_rows());
  log->reset();
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_ServedLogRecord)->Arg(1)->Arg(256)->UseRealTime();

}  // namespace
}  // namespace recsys
