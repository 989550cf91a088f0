// The in-process floor: the rows of a raw file featurized, predicted and
// ranked inside one process (model_store/scorer.h ScoreBatch on a loaded
// ModelVersion), without gRPC, on a fixed number of threads and in batches
// like a RecommendStream's. Its rows per second is what the server can at
// best approach on the same threads; its per-stage times are the per-row
// cost breakdown of the batch path.
//
//   RECSYS_ASSIGN_OR_RETURN(std::vector<RawRecord> records,
//                           ReadRecords("test_ver2.csv", 0, &parse));
//   FloorOptions options;
//   options.threads = 2;
//   RECSYS_ASSIGN_OR_RETURN(FloorResult floor,
//                           RunFloor(*model, records, options));
//   std::cout << floor.report.ToText();
//
// Thread-compatible: RunFloor starts and joins its own threads.
#ifndef RECSYS_BENCH_FLOOR_H_
#define RECSYS_BENCH_FLOOR_H_

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/ranking.h"
#include "common/raw_record.h"
#include "model_store/model_version.h"
#include "nlohmann/json.hpp"

namespace recsys {

// What reading a raw file cost.
struct ParseStats {
  int64_t rows = 0;  // rows returned (unreadable rows skipped)
  int64_t rows_with_errors = 0;
  double seconds = 0;      // wall time of the single reading thread
  double cpu_seconds = 0;  // its CPU time
};

// Reads up to `max_rows` (0 = all) clean rows of `path` with RawReader.
// Errors: the reader's open or I/O error.
absl::StatusOr<std::vector<RawRecord>> ReadRecords(const std::string& path,
                                                   int64_t max_rows,
                                                   ParseStats* stats);

struct FloorOptions {
  int threads = 2;       // scoring threads (the server's workers). Default 2.
  int batch_rows = 256;  // rows per ScoreBatch call. Default 256.
  int k = 7;             // products per row. Default 7.
  // Keep each scored row's feature vector (for the Python reference).
  // Default false.
  bool keep_features = false;
};

struct FloorReport {
  int threads = 0;
  int batch_rows = 0;
  int64_t rows = 0;         // rows given
  int64_t rows_scored = 0;  // rows ScoreBatch scored (the rest: OUT_OF_RANGE)
  double wall_seconds = 0;  // all threads, first batch to last
  // CPU time of the scoring threads (CLOCK_THREAD_CPUTIME_ID), summed: what
  // the work costs whatever else the machine is running.
  double cpu_seconds = 0;
  // Stage times summed over threads (each thread's wall time in the stage:
  // CPU time on an idle machine, more when threads wait for a core).
  double featurize_seconds = 0;  // includes the history lookups
  double predict_seconds = 0;
  double rank_seconds = 0;
  // CPU time of a separate single-thread pass doing only the snapshot
  // lookups of every row: the history-lookup part of featurize_seconds.
  double lookup_seconds = 0;
  int64_t history_hits = 0;
  int64_t history_misses = 0;
  ParseStats parse;  // filled by the caller when it read the rows

  double rows_per_second() const;
  // 1e6 * seconds / rows.
  double us_per_row(double seconds) const;
  // CPU microseconds per row of a stage: the threads' CPU time apportioned
  // to the stages by their wall times (a thread waiting for a core on a busy
  // machine inflates wall times, not CPU time).
  double cpu_us_per_row(double stage_seconds) const;
  double parse_cpu_us_per_row() const;
  std::string ToText() const;
  nlohmann::json ToJson() const;
};

struct FloorResult {
  FloorReport report;
  // Per scored row, in input order.
  std::vector<int64_t> ncodpers;
  std::vector<TopKResult> tops;
  std::vector<ProductMask> owned_last;  // what TopK excluded
  std::vector<float> features;  // rows * num_features when keep_features
};

// Scores `records` on `model` with options.threads threads, each taking the
// next batch of options.batch_rows rows. INVALID_ARGUMENT for bad options;
// INTERNAL when XGBoost fails.
absl::StatusOr<FloorResult> RunFloor(const ModelVersion& model,
                                     const std::vector<RawRecord>& records,
                                     const FloorOptions& options);

// Writes the Kaggle submission of `result` ("ncodpers,added_products", the
// products of a row separated by spaces, best first) to `out`.
void WriteSubmission(const FloorResult& result, std::ostream* out);

}  // namespace recsys

#endif  // RECSYS_BENCH_FLOOR_H_
