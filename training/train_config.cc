#include "training/train_config.h"

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "common/file_util.h"
#include "common/status_macros.h"

namespace recsys {
namespace {

using json = nlohmann::json;

absl::Status WrongType(const std::string& key, const json& value,
                       const char* want) {
  return absl::InvalidArgumentError(absl::StrCat(
      "train config: '", key, "' must be ", want, ", got ", value.dump()));
}

// XGBoost takes every parameter as a string; accept JSON numbers too.
absl::StatusOr<std::string> ParamText(const std::string& key,
                                      const json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_number_integer()) return std::to_string(value.get<int64_t>());
  if (value.is_number()) return json(value.get<double>()).dump();
  return WrongType(key, value, "a number or a string");
}

}  // namespace

absl::StatusOr<TrainConfig> TrainConfigFromJson(const json& j) {
  if (!j.is_object())
    return absl::InvalidArgumentError("train config: not a JSON object");
  TrainConfig c;
  for (const auto& [key, value] : j.items()) {
    if (key == "model_name" || key == "feature_spec" ||
        key == "validation_month" || key == "first_train_month") {
      if (!value.is_string()) return WrongType(key, value, "a string");
      std::string* field = key == "model_name"         ? &c.model_name
                           : key == "feature_spec"     ? &c.feature_spec
                           : key == "validation_month" ? &c.validation_month
                                                       : &c.first_train_month;
      *field = value.get<std::string>();
    } else if (key == "max_rounds" || key == "early_stopping_rounds" ||
               key == "cv_folds" || key == "reference_sample" ||
               key == "golden_rows" || key == "nthread") {
      if (!value.is_number_integer() || value.get<int64_t>() < 0) {
        return WrongType(key, value, "a non-negative integer");
      }
      int* field = key == "max_rounds"              ? &c.max_rounds
                   : key == "early_stopping_rounds" ? &c.early_stopping_rounds
                   : key == "cv_folds"              ? &c.cv_folds
                   : key == "reference_sample"      ? &c.reference_sample
                   : key == "golden_rows"           ? &c.golden_rows
                                                    : &c.nthread;
      *field = value.get<int>();
    } else if (key == "seed") {
      if (!value.is_number_unsigned())
        return WrongType(key, value, "a non-negative integer");
      c.seed = value.get<uint64_t>();
    } else if (key == "retrain_on_all" || key == "allow_partial_months") {
      if (!value.is_boolean()) return WrongType(key, value, "true or false");
      (key == "retrain_on_all" ? c.retrain_on_all : c.allow_partial_months) =
          value.get<bool>();
    } else if (key == "xgboost") {
      if (!value.is_object()) return WrongType(key, value, "an object");
      for (const auto& [param, v] : value.items()) {
        RECSYS_ASSIGN_OR_RETURN(c.xgboost[param],
                                ParamText("xgboost." + param, v));
      }
    } else if (key == "grid") {
      if (!value.is_object())
        return WrongType(key, value, "an object of lists");
      c.grid.clear();
      for (const auto& [param, values] : value.items()) {
        if (!values.is_array() || values.empty()) {
          return WrongType("grid." + param, values, "a non-empty list");
        }
        for (const json& v : values) {
          RECSYS_ASSIGN_OR_RETURN(std::string text,
                                  ParamText("grid." + param, v));
          c.grid[param].push_back(std::move(text));
        }
      }
    } else if (key == "description") {
      // Free text for humans.
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("train config: unknown key '", key, "'"));
    }
  }
  if (c.max_rounds < 1)
    return absl::InvalidArgumentError("train config: max_rounds must be >= 1");
  return c;
}

absl::StatusOr<TrainConfig> LoadTrainConfig(const std::string& path) {
  RECSYS_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded())
    return absl::InvalidArgumentError(absl::StrCat(path, ": not valid JSON"));
  absl::StatusOr<TrainConfig> config = TrainConfigFromJson(j);
  if (!config.ok()) {
    return absl::Status(config.status().code(),
                        absl::StrCat(path, ": ", config.status().message()));
  }
  const std::filesystem::path spec(config->feature_spec);
  if (!spec.empty() && spec.is_relative()) {
    config->feature_spec =
        (std::filesystem::path(path).parent_path() / spec).string();
  }
  return config;
}

json TrainConfigToJson(const TrainConfig& c) {
  return json{{"model_name", c.model_name},
              {"feature_spec", c.feature_spec},
              {"xgboost", c.xgboost},
              {"max_rounds", c.max_rounds},
              {"early_stopping_rounds", c.early_stopping_rounds},
              {"validation_month", c.validation_month},
              {"first_train_month", c.first_train_month},
              {"retrain_on_all", c.retrain_on_all},
              {"cv_folds", c.cv_folds},
              {"grid", c.grid},
              {"reference_sample", c.reference_sample},
              {"golden_rows", c.golden_rows},
              {"nthread", c.nthread},
              {"seed", c.seed},
              {"allow_partial_months", c.allow_partial_months}};
}

}  // namespace recsys
