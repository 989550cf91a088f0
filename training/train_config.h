// TrainConfig: what `recsys-train` does, loaded from a JSON file
// (config/train.json is the default) and overridable by flags.
//
//   {
//     "model_name": "santander",
//     "feature_spec": "feature_spec.json",  // relative to this file
//     "xgboost": {"eta": 0.15, "max_depth": 6, ...},
//     "max_rounds": 60, "early_stopping_rounds": 10,
//     "validation_month": "last", "retrain_on_all": true,
//     "cv_folds": 0, "grid": {"max_depth": [4, 6], "eta": [0.1, 0.2]}
//   }
//
//   RECSYS_ASSIGN_OR_RETURN(TrainConfig config, LoadTrainConfig(path));
#ifndef RECSYS_TRAINING_TRAIN_CONFIG_H_
#define RECSYS_TRAINING_TRAIN_CONFIG_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace recsys {

struct TrainConfig {
  // Name of the model in the store (STORE/<model_name>/<version>/).
  // Default "santander".
  std::string model_name = "santander";
  // Path of the feature spec JSON; "" = the built-in default spec (the
  // config/feature_spec.json the program was built with). In a config file a
  // relative path is relative to the config file's folder (LoadTrainConfig
  // resolves it). Default "".
  std::string feature_spec;
  // XGBoost parameters (strings, as XGBoost takes them). The objective,
  // num_class and eval_metric are always multi:softprob / 24 / mlogloss.
  // Defaults: eta 0.15, max_depth 6, min_child_weight 10, subsample 0.9,
  // colsample_bytree 0.8, tree_method hist, seed 1. The defaults keep
  // serving fast: prediction cost grows with rounds x depth.
  std::map<std::string, std::string> xgboost = {
      {"eta", "0.15"},
      {"max_depth", "6"},
      {"min_child_weight", "10"},
      {"subsample", "0.9"},
      {"colsample_bytree", "0.8"},
      {"tree_method", "hist"},
      {"max_bin", "256"},
      {"seed", "1"},
  };
  // Upper bound on boosting rounds. Default 60.
  int max_rounds = 60;
  // Stop when the validation mlogloss has not improved for this many rounds.
  // Default 10.
  int early_stopping_rounds = 10;
  // The month held out for early stopping and MAP@7: "last" (the last month
  // of the file), "YYYY-MM", or "none" (train max_rounds on everything, report
  // no MAP@7). Default "last".
  std::string validation_month = "last";
  // Train only on months in [first_train_month, validation month), as
  // "YYYY-MM"; "" = from the second month of the file (the first has no
  // previous month, so no additions). Default "".
  std::string first_train_month;
  // After choosing the number of rounds, retrain on all months including the
  // validation month before publishing. Default true.
  bool retrain_on_all = true;
  // Cross-validation: also validate on each of the last `cv_folds` months
  // (training on the months before each) and report MAP@7 per fold. Default 0.
  int cv_folds = 0;
  // Grid search: parameter -> values; every combination is trained on the
  // training months and scored by MAP@7 on the validation month, and the best
  // is published. Default empty.
  std::map<std::string, std::vector<std::string>> grid;
  // Rows of the last month sampled for drift reference distributions.
  // Default 100000.
  int reference_sample = 100000;
  // Rows replayed by a loader to check a bundle. Default 32.
  int golden_rows = 32;
  // Training threads; 0 = all cores. Default 0.
  int nthread = 0;
  // Seed for sampling. Default 1.
  uint64_t seed = 1;
  // Train on a file whose last row has no line end (the file was most likely
  // cut short) or with a month that has fewer than half the rows of its
  // neighbours (a partial month); without it such a file is refused with
  // DATA_LOSS. Default false.
  bool allow_partial_months = false;
};

// Parses a config; keys not given keep their defaults. INVALID_ARGUMENT
// naming an unknown key or a value of the wrong type.
absl::StatusOr<TrainConfig> TrainConfigFromJson(const nlohmann::json& json);

// Reads and parses `path`. NOT_FOUND if it cannot be read. A relative
// "feature_spec" in the file is made relative to the file's folder, so that
// the config works from any working directory.
absl::StatusOr<TrainConfig> LoadTrainConfig(const std::string& path);

nlohmann::json TrainConfigToJson(const TrainConfig& config);

}  // namespace recsys

#endif  // RECSYS_TRAINING_TRAIN_CONFIG_H_
