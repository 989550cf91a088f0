// Train(): the boosting loop with early stopping (declared in booster.h).
#include <cmath>
#include <limits>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/status_macros.h"
#include "model_store/booster.h"

namespace recsys {
namespace {

// As XGBoost's Python package decides the direction of early stopping.
bool HigherIsBetter(absl::string_view metric) {
  for (absl::string_view m : {"auc", "aucpr", "map", "ndcg", "pre"}) {
    if (metric == m || absl::StartsWith(metric, absl::StrCat(m, "@"))) {
      return true;
    }
  }
  return false;
}

}  // namespace

absl::StatusOr<TrainResult> Train(const TrainOptions& options,
                                  const DMatrix& train,
                                  const DMatrix* validation) {
  if (options.max_rounds < 1 || options.early_stopping_rounds < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad rounds: max_rounds=", options.max_rounds,
                     " early_stopping_rounds=", options.early_stopping_rounds));
  }
  if (validation != nullptr &&
      validation->num_features() != train.num_features()) {
    return absl::InvalidArgumentError(
        absl::StrCat("validation has ", validation->num_features(),
                     " features, training has ", train.num_features()));
  }
  std::vector<const DMatrix*> cache = {&train};
  if (validation != nullptr) cache.push_back(validation);
  RECSYS_ASSIGN_OR_RETURN(std::unique_ptr<Booster> booster,
                          Booster::CreateForTraining(cache));

  std::map<std::string, std::string> params = options.params;
  params.emplace("tree_method", "hist");
  params.emplace("seed", "0");
  for (const auto& [name, value] : params) {
    if (name == "eval_metric") {  // XGBoost appends one metric per call.
      for (absl::string_view metric : absl::StrSplit(value, ',')) {
        RECSYS_RETURN_IF_ERROR(booster->SetParam(name, metric));
      }
    } else {
      RECSYS_RETURN_IF_ERROR(booster->SetParam(name, value));
    }
  }

  TrainResult result;
  double best_score = std::numeric_limits<double>::quiet_NaN();
  bool higher_is_better = false;
  for (int round = 0; round < options.max_rounds; ++round) {
    RECSYS_RETURN_IF_ERROR(booster->UpdateOneIter(round, train));
    if (validation == nullptr) {
      result.best_iteration = round;
      if (options.log) options.log(round, std::nullopt, "");
      continue;
    }
    RECSYS_ASSIGN_OR_RETURN(std::vector<EvalMetric> metrics,
                            booster->EvalOneIter(round, *validation, "valid"));
    const EvalMetric& metric = metrics.back();  // XGBoost's convention.
    if (round == 0) {
      result.metric_name = metric.name;
      higher_is_better = HigherIsBetter(metric.name);
    }
    result.validation_history.push_back(metric.value);
    const bool improved = std::isnan(best_score) ||
                          (higher_is_better ? metric.value > best_score
                                            : metric.value < best_score);
    if (improved) {
      best_score = metric.value;
      result.best_iteration = round;
    }
    if (options.log) {
      std::string line = absl::StrCat("[", round, "]");
      for (const EvalMetric& m : metrics) {
        absl::StrAppend(&line, "\tvalid-", m.name, ":", m.value);
      }
      options.log(round, metric.value, line);
    }
    if (options.early_stopping_rounds > 0 &&
        round - result.best_iteration >= options.early_stopping_rounds) {
      break;
    }
  }

  RECSYS_ASSIGN_OR_RETURN(int trained, booster->BoostedRounds());
  if (options.keep_best_rounds_only && result.best_iteration + 1 < trained) {
    RECSYS_ASSIGN_OR_RETURN(booster, booster->Slice(result.best_iteration + 1));
  }
  RECSYS_RETURN_IF_ERROR(
      booster->SetAttr("best_iteration", absl::StrCat(result.best_iteration)));
  if (!std::isnan(best_score)) {
    RECSYS_RETURN_IF_ERROR(
        booster->SetAttr("best_score", absl::StrCat(best_score)));
  }
  result.booster = std::move(booster);
  return result;
}

}  // namespace recsys
