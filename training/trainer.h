// The training pipeline behind `recsys-train`: learn vocabularies, build the
// dataset, train XGBoost (multi:softprob over the 24 products) with early
// stopping on the validation month, evaluate MAP@7 against the popularity
// baseline and the ceiling, optionally cross-validate and grid-search, retrain
// on every month, and publish a model bundle with the product-history
// snapshot for the month after the data.
//
//   TrainRunOptions options;
//   options.train_csv = "data/train_ver2.csv";
//   options.store_dir = "models";
//   RECSYS_ASSIGN_OR_RETURN(TrainRunResult result, RunTraining(options));
//   std::cout << result.metrics.model_map7;
#ifndef RECSYS_TRAINING_TRAINER_H_
#define RECSYS_TRAINING_TRAINER_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "common/progress.h"
#include "model_store/bundle.h"
#include "nlohmann/json.hpp"
#include "training/train_config.h"

namespace recsys {

struct TrainRunOptions {
  // The rows: a train_ver2.csv layout file, or (when records_db is set) the
  // records database's months up to `through` ("YYYY-MM"; "" = the newest
  // with products). One of the two is required.
  std::string train_csv;
  std::string records_db;
  std::string through;
  std::string store_dir;  // Required when publish is true.
  TrainConfig config;     // Default: TrainConfig{}.
  bool publish = true;    // Write a bundle. Default true.
  // Progress lines. Default: none.
  std::function<void(const std::string&)> log;
  // Phases and their progress: "pass 1/2: vocabularies" and "pass 2/2:
  // features" (bytes of the file), "grid I/N", "cv fold YYYY-MM",
  // "validation", "final retrain" (rounds), "references" (golden rows).
  // Borrowed; must outlive the call. Default none.
  Progress* progress = nullptr;
};

struct TrainRunResult {
  ValidationMetrics metrics;  // of the model before retraining on all months
  int num_rounds = 0;         // rounds of the published model
  std::map<std::string, std::string> params;  // XGBoost parameters used
  nlohmann::json evaluation;  // cross-validation and grid-search reports
  int64_t version = 0;        // published version (0 when not published)
  std::string bundle_dir;     // published directory ("" when not published)
  std::string model_bytes;    // the final model (UBJ)
};

// Runs the pipeline. Returns INVALID_ARGUMENT for an unusable config or file
// (e.g. a validation month that is not in the data, or no training rows),
// the underlying error otherwise.
absl::StatusOr<TrainRunResult> RunTraining(const TrainRunOptions& options);

}  // namespace recsys

#endif  // RECSYS_TRAINING_TRAINER_H_
