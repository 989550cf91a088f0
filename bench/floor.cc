#include "bench/floor.h"

#include <time.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "common/elapsed.h"
#include "common/raw_reader.h"
#include "model_store/scorer.h"

namespace recsys {
namespace {

using Clock = std::chrono::steady_clock;

// CPU seconds the calling thread has used.
double ThreadCpuSeconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

// One thread's share of the work: its timings, and per scored batch where
// the rows went.
struct ThreadState {
  ScoreScratch scratch;
  ScoreTimings timings;
  std::vector<RowScore> out;
  std::vector<ScoreInput> rows;
  double cpu_seconds = 0;
};

}  // namespace

absl::StatusOr<std::vector<RawRecord>> ReadRecords(const std::string& path,
                                                   int64_t max_rows,
                                                   ParseStats* stats) {
  const Clock::time_point start = Clock::now();
  const double cpu_start = ThreadCpuSeconds();
  absl::StatusOr<std::unique_ptr<RawReader>> reader = RawReader::Open(path);
  if (!reader.ok()) return reader.status();
  std::vector<RawRecord> records;
  RawRecord record;
  std::vector<RowError> errors;
  ParseStats s;
  while ((max_rows <= 0 || s.rows < max_rows) &&
         (*reader)->Next(&record, &errors)) {
    if (!errors.empty()) {
      ++s.rows_with_errors;
      continue;
    }
    records.push_back(record);
    ++s.rows;
  }
  if (!(*reader)->status().ok()) return (*reader)->status();
  s.cpu_seconds = ThreadCpuSeconds() - cpu_start;
  s.seconds = SecondsSince(start);
  if (stats != nullptr) *stats = s;
  return records;
}

double FloorReport::rows_per_second() const {
  return wall_seconds > 0 ? rows_scored / wall_seconds : 0;
}

double FloorReport::us_per_row(double seconds) const {
  return rows > 0 ? 1e6 * seconds / rows : 0;
}

double FloorReport::cpu_us_per_row(double stage_seconds) const {
  const double stages = featurize_seconds + predict_seconds + rank_seconds;
  return stages > 0 ? us_per_row(stage_seconds * cpu_seconds / stages) : 0;
}

double FloorReport::parse_cpu_us_per_row() const {
  return parse.rows > 0 ? 1e6 * parse.cpu_seconds / parse.rows : 0;
}

std::string FloorReport::ToText() const {
  std::string text = absl::StrFormat(
      "in-process floor: %d rows scored on %d threads in batches of %d: "
      "%.2f s = %.0f rows/s\n"
      "CPU: %.2f s in the scoring threads = %.2f us per row = %.0f rows/s "
      "per core\n",
      rows_scored, threads, batch_rows, wall_seconds, rows_per_second(),
      cpu_seconds, us_per_row(cpu_seconds),
      cpu_seconds > 0 ? rows_scored / cpu_seconds : 0.0);
  absl::StrAppendFormat(
      &text,
      "CPU per row: parse %.2f us (one reading thread); featurize %.2f us "
      "(of which history lookup %.2f us), predict %.2f us, rank %.2f us\n",
      parse_cpu_us_per_row(), cpu_us_per_row(featurize_seconds),
      us_per_row(lookup_seconds), cpu_us_per_row(predict_seconds),
      cpu_us_per_row(rank_seconds));
  absl::StrAppendFormat(&text, "history: %d found, %d new customers\n",
                        history_hits, history_misses);
  return text;
}

nlohmann::json FloorReport::ToJson() const {
  return {
      {"threads", threads},
      {"batch_rows", batch_rows},
      {"rows", rows},
      {"rows_scored", rows_scored},
      {"wall_seconds", wall_seconds},
      {"rows_per_second", rows_per_second()},
      {"cpu_seconds", cpu_seconds},
      {"cpu_us_per_row", us_per_row(cpu_seconds)},
      {"history_hits", history_hits},
      {"history_misses", history_misses},
      {"parse_rows", parse.rows},
      {"parse_rows_with_errors", parse.rows_with_errors},
      {"parse_seconds", parse.seconds},
      {"parse_cpu_seconds", parse.cpu_seconds},
      {"us_per_row",
       {{"parse", parse_cpu_us_per_row()},
        {"featurize", cpu_us_per_row(featurize_seconds)},
        {"history_lookup", us_per_row(lookup_seconds)},
        {"predict", cpu_us_per_row(predict_seconds)},
        {"rank", cpu_us_per_row(rank_seconds)}}},
      {"stage_wall_us_per_row",
       {{"featurize", us_per_row(featurize_seconds)},
        {"predict", us_per_row(predict_seconds)},
        {"rank", us_per_row(rank_seconds)}}},
  };
}

absl::StatusOr<FloorResult> RunFloor(const ModelVersion& model,
                                     const std::vector<RawRecord>& records,
                                     const FloorOptions& options) {
  if (options.threads < 1 || options.batch_rows < 1 || options.k < 1 ||
      options.k > kNumProducts) {
    return absl::InvalidArgumentError(
        "threads and batch_rows must be >= 1, k in 1..24");
  }
  const size_t n = records.size();
  const size_t nf = static_cast<size_t>(model.num_features());
  const size_t num_batches =
      (n + options.batch_rows - 1) / static_cast<size_t>(options.batch_rows);

  // Outputs per input row, written by whichever thread scored its batch.
  std::vector<RowScore> scores(n);
  std::vector<ProductMask> owned(n, 0);
  std::vector<float> features(options.keep_features ? n * nf : 0);

  std::vector<ThreadState> states(options.threads);
  std::atomic<size_t> next_batch{0};
  absl::Mutex error_mu;
  absl::Status error;
  auto work = [&](ThreadState* s) {
    const double cpu_start = ThreadCpuSeconds();
    while (true) {
      const size_t b = next_batch.fetch_add(1);
      if (b >= num_batches) break;
      const size_t begin = b * options.batch_rows;
      const size_t end = std::min(n, begin + options.batch_rows);
      s->rows.resize(end - begin);
      for (size_t i = begin; i < end; ++i) {
        s->rows[i - begin] = ScoreInput{&records[i], nullptr};
      }
      absl::Status status =
          ScoreBatch(model, s->rows, options.k, &s->scratch,
                     absl::MakeSpan(&scores[begin], end - begin), &s->timings);
      if (!status.ok()) {
        absl::MutexLock lock(&error_mu);
        error.Update(status);
        break;
      }
      for (size_t i = begin; i < end; ++i) {
        const int r = s->scratch.feature_row[i - begin];
        if (r < 0) continue;
        owned[i] = s->scratch.owned_last[r];
        if (options.keep_features) {
          std::copy_n(&s->scratch.features[r * nf], nf, &features[i * nf]);
        }
      }
    }
    s->cpu_seconds = ThreadCpuSeconds() - cpu_start;
  };
  const Clock::time_point start = Clock::now();
  std::vector<std::thread> threads;
  for (ThreadState& s : states) threads.emplace_back(work, &s);
  for (std::thread& t : threads) t.join();
  FloorResult result;
  FloorReport& report = result.report;
  report.wall_seconds = SecondsSince(start);
  if (!error.ok()) return error;

  report.threads = options.threads;
  report.batch_rows = options.batch_rows;
  report.rows = static_cast<int64_t>(n);
  for (const ThreadState& s : states) {
    report.cpu_seconds += s.cpu_seconds;
    report.featurize_seconds += s.timings.featurize_seconds;
    report.predict_seconds += s.timings.predict_seconds;
    report.rank_seconds += s.timings.rank_seconds;
    report.history_hits += s.timings.history_hits;
    report.history_misses += s.timings.history_misses;
  }
  // The lookups alone, on one thread.
  const double lookups = ThreadCpuSeconds();
  int64_t found = 0;
  for (const RawRecord& r : records) {
    const int target = r.fecha_dato.present() ? r.fecha_dato.value.MonthIndex()
                                              : model.history_month();
    absl::StatusOr<HistoryView> view = model.history().Lookup(
        r.ncodpers.present() ? r.ncodpers.value : -1, target);
    found += view.ok() && view->found;
  }
  report.lookup_seconds = ThreadCpuSeconds() - lookups;
  if (found != report.history_hits) {
    return absl::InternalError("the lookup pass found other customers");
  }

  for (size_t i = 0; i < n; ++i) {
    if (!scores[i].status.ok()) continue;
    result.ncodpers.push_back(records[i].ncodpers.value);
    result.tops.push_back(scores[i].top);
    result.owned_last.push_back(owned[i]);
    if (options.keep_features) {
      result.features.insert(result.features.end(), &features[i * nf],
                             &features[(i + 1) * nf]);
    }
  }
  report.rows_scored = static_cast<int64_t>(result.tops.size());
  return result;
}

void WriteSubmission(const FloorResult& result, std::ostream* out) {
  std::string text = "ncodpers,added_products\n";
  for (size_t i = 0; i < result.tops.size(); ++i) {
    absl::StrAppend(&text, result.ncodpers[i], ",");
    bool first = true;
    for (const ScoredProduct& p : result.tops[i]) {
      if (!first) text.push_back(' ');
      first = false;
      absl::StrAppend(&text, kProducts[p.product].column);
    }
    text.push_back('\n');
    if (text.size() > (1 << 20)) {
      out->write(text.data(), static_cast<std::streamsize>(text.size()));
      text.clear();
    }
  }
  out->write(text.data(), static_cast<std::streamsize>(text.size()));
}

}  // namespace recsys
