// recsys-train: trains the product-recommendation model on a train_ver2.csv
// (or the records database) and publishes it as a new version in a model
// store. See Command().
#include <unistd.h>

#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/command_line.h"
#include "common/progress.h"
#include "training/train_config.h"
#include "training/trainer.h"

ABSL_FLAG(std::string, data, "",
          "Folder holding train_ver2.csv (the Kaggle file or one written by "
          "`recsys-data "
          "generate`). Required unless --train is given.");
ABSL_FLAG(std::string, train, "",
          "Path of the training file itself (instead of --data).");
ABSL_FLAG(std::string, db, "",
          "Train from a records database (made by `recsys-data ingest`) "
          "instead of --data/--train: its months up to --through.");
ABSL_FLAG(std::string, through, "",
          "With --db: the last month to train on, YYYY-MM. Default: the "
          "newest month ingested with products.");
ABSL_FLAG(std::string, store, "",
          "Model store folder; the model is published as "
          "STORE/<model-name>/<version>/. "
          "Required unless --dry-run.");
ABSL_FLAG(std::string, config, "",
          "Training config JSON (see config/train.json); relative paths inside "
          "it are relative to the config file's folder. Default: "
          "config/train.json under the working directory when it exists, else "
          "built-in defaults.");
ABSL_FLAG(std::string, feature_spec, "",
          "Feature spec JSON; overrides the config's \"feature_spec\". "
          "Default: the config's, else the built-in spec (the "
          "config/feature_spec.json this program was built with).");
ABSL_FLAG(bool, allow_partial_months, false,
          "Train even when the file ends inside a row (cut short) or a month "
          "has fewer than half the rows of its neighbours; without it such a "
          "file is refused (exit status 1). Overrides the config.");
ABSL_FLAG(std::string, model_name, "",
          "Model name in the store; overrides the config.");
ABSL_FLAG(std::string, validation_month, "",
          "Month held out for early stopping and MAP@7: \"last\", \"YYYY-MM\" "
          "or \"none\"; "
          "overrides the config.");
ABSL_FLAG(int, max_rounds, 0,
          "Upper bound on boosting rounds; overrides the config.");
ABSL_FLAG(
    int, cv_folds, -1,
    "Cross-validate on each of the last N months and report MAP@7 per fold; "
    "overrides the config.");
ABSL_FLAG(std::string, grid, "",
          "Grid search, e.g. \"max_depth=4,6;eta=0.1,0.2\": every combination "
          "is scored by "
          "MAP@7 on the validation month and the best is published; overrides "
          "the config.");
ABSL_FLAG(int, nthread, -1,
          "Training threads (0 = all cores); overrides the config.");
ABSL_FLAG(bool, dry_run, false, "Train and evaluate, but publish nothing.");
ABSL_FLAG(double, progress_seconds, recsys::kDefaultProgressSeconds,
          recsys::kProgressSecondsHelp);

namespace {

const recsys::CommandSpec& Command() {
  static const auto* const kCommand = new recsys::CommandSpec{
      .name = "recsys-train",
      .summary =
          "trains the Santander product-recommendation model and "
          "publishes it.",
      .usage = {"recsys-train --data DIR --store STORE [--config FILE] "
                "[flags]",
                "recsys-train --db records.db [--through YYYY-MM] --store "
                "STORE [flags]"},
      .description =
          "Streams train_ver2.csv month by month through the same cleaning "
          "and feature code the server uses, builds one training row per "
          "product a customer added (owned this month, not the month "
          "before), trains XGBoost (multi:softprob over the 24 products) "
          "with early stopping on the validation month, and prints MAP@7 of "
          "the model beside a popularity baseline and the ceiling of a "
          "perfect ranking. It then retrains on every month (by default) and "
          "publishes a model bundle (model, feature spec, vocabularies, drift "
          "references, golden rows, metrics) and the product-history "
          "snapshot the server needs for the month after the data.\n\n"
          "The rows come from train_ver2.csv (--data DIR or --train FILE) "
          "or from the records database that `recsys-data ingest` fills "
          "(--db, months up to --through): the same rows give the same model "
          "either way.\n\n"
          "Progress goes to stderr phase by phase (the two passes over the "
          "file, each grid setting and cross-validation fold, validation, the "
          "final retrain, the drift references) with done/total, rate and "
          "ETA: one line redrawn in place on a terminal, else a plain line "
          "every --progress-seconds (10) for logs.\n\n"
          "It works from any directory: the default feature spec is built "
          "in, and paths inside --config are relative to the config file. A "
          "file that ends inside a row, or a month with fewer than half the "
          "rows of its neighbours, is refused as cut short unless "
          "--allow-partial-months.\n\n"
          "Examples:\n"
          "  recsys-train --data data --store models\n"
          "  recsys-train --data data --store models --cv-folds 3\n"
          "  recsys-train --data data --dry-run --grid "
          "\"max_depth=4,6;eta=0.1,0.2\"",
      .flags = {{"Input and output flags",
                 {"data", "train", "db", "through", "store", "dry_run",
                  "allow_partial_months", "progress_seconds"}},
                {"Training flags (override the config)",
                 {"config", "feature_spec", "model_name", "validation_month",
                  "max_rounds", "cv_folds", "grid", "nthread"}}},
      .exit_status =
          "0 published (or evaluated with --dry-run); 1 training failed (or "
          "the file is cut short); 2 usage error (unknown flag, bad value) or "
          "a bad config."};
  return *kCommand;
}

int Fail(int code, const std::string& message) {
  std::cerr << "recsys-train: " << message << "\n";
  return code;
}

// "max_depth=4,6;eta=0.1,0.2" -> {max_depth: [4, 6], eta: [0.1, 0.2]}.
absl::StatusOr<std::map<std::string, std::vector<std::string>>> ParseGrid(
    const std::string& text) {
  std::map<std::string, std::vector<std::string>> grid;
  for (absl::string_view part :
       absl::StrSplit(text, ';', absl::SkipWhitespace())) {
    std::vector<std::string> kv = absl::StrSplit(part, absl::MaxSplits('=', 1));
    if (kv.size() != 2 || kv[0].empty() || kv[1].empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--grid: expected name=value,value;... but got \"", part, "\""));
    }
    grid[kv[0]] = absl::StrSplit(kv[1], ',', absl::SkipWhitespace());
  }
  return grid;
}

}  // namespace

int main(int argc, char** argv) {
  const recsys::ParsedCommand command =
      recsys::ParseCommand(Command(), argc, argv);
  if (command.exit_code) return *command.exit_code;

  std::string train = absl::GetFlag(FLAGS_train);
  const std::string db = absl::GetFlag(FLAGS_db);
  if (!db.empty() && (!train.empty() || !absl::GetFlag(FLAGS_data).empty())) {
    return recsys::UsageError(Command().name,
                              "give --db or --data/--train, not both");
  }
  if (db.empty() && !absl::GetFlag(FLAGS_through).empty()) {
    return recsys::UsageError(Command().name,
                              "--through applies to --db only");
  }
  if (train.empty() && db.empty()) {
    if (absl::GetFlag(FLAGS_data).empty()) {
      return recsys::UsageError(
          Command().name,
          "give --data DIR (holding train_ver2.csv), --train FILE or --db "
          "records.db");
    }
    train = absl::GetFlag(FLAGS_data) + "/train_ver2.csv";
  }
  const bool dry_run = absl::GetFlag(FLAGS_dry_run);
  if (!dry_run && absl::GetFlag(FLAGS_store).empty()) {
    return recsys::UsageError(
        Command().name,
        "give --store STORE (where to publish the model) or --dry-run");
  }

  std::string config_path = absl::GetFlag(FLAGS_config);
  if (config_path.empty() && ::access("config/train.json", R_OK) == 0) {
    config_path = "config/train.json";
  }
  recsys::TrainConfig config;
  if (!config_path.empty()) {
    absl::StatusOr<recsys::TrainConfig> loaded =
        recsys::LoadTrainConfig(config_path);
    if (!loaded.ok()) return Fail(2, std::string(loaded.status().message()));
    config = *loaded;
  }
  if (!absl::GetFlag(FLAGS_feature_spec).empty())
    config.feature_spec = absl::GetFlag(FLAGS_feature_spec);
  if (!absl::GetFlag(FLAGS_model_name).empty())
    config.model_name = absl::GetFlag(FLAGS_model_name);
  if (!absl::GetFlag(FLAGS_validation_month).empty()) {
    config.validation_month = absl::GetFlag(FLAGS_validation_month);
  }
  if (absl::GetFlag(FLAGS_max_rounds) > 0)
    config.max_rounds = absl::GetFlag(FLAGS_max_rounds);
  if (absl::GetFlag(FLAGS_cv_folds) >= 0)
    config.cv_folds = absl::GetFlag(FLAGS_cv_folds);
  if (absl::GetFlag(FLAGS_allow_partial_months))
    config.allow_partial_months = true;
  if (absl::GetFlag(FLAGS_nthread) >= 0)
    config.nthread = absl::GetFlag(FLAGS_nthread);
  if (!absl::GetFlag(FLAGS_grid).empty()) {
    auto grid = ParseGrid(absl::GetFlag(FLAGS_grid));
    if (!grid.ok()) return Fail(2, std::string(grid.status().message()));
    config.grid = *grid;
  }

  recsys::TrainRunOptions options;
  options.train_csv = train;
  options.records_db = db;
  options.through = absl::GetFlag(FLAGS_through);
  options.store_dir = absl::GetFlag(FLAGS_store);
  options.config = config;
  options.publish = !dry_run;
  const absl::Time start = absl::Now();
  recsys::Progress progress(
      recsys::StderrProgressOptions(absl::GetFlag(FLAGS_progress_seconds)));
  options.progress = &progress;
  options.log = [start, &progress](const std::string& line) {
    progress.Log(absl::StrCat(
        absl::StrFormat("[%6.1fs] ",
                        absl::ToDoubleSeconds(absl::Now() - start)),
        line));
  };
  absl::StatusOr<recsys::TrainRunResult> result = recsys::RunTraining(options);
  if (!result.ok()) {
    const bool usage =
        result.status().code() == absl::StatusCode::kInvalidArgument;
    return Fail(usage ? 2 : 1, result.status().ToString());
  }
  const recsys::ValidationMetrics& m = result->metrics;
  if (!m.month.empty()) {
    std::cout << absl::StrFormat(
        "MAP@7 on %s (validation month: %d customers, %d added a product)\n"
        "  model        %.5f\n"
        "  popularity   %.5f   (model / popularity = %.2fx)\n"
        "  ceiling      %.5f   (a perfect ranking)\n",
        m.month, m.customers, m.customers_adding, m.model_map7,
        m.popularity_map7,
        m.popularity_map7 > 0 ? m.model_map7 / m.popularity_map7 : 0.0,
        m.ceiling_map7);
  }
  std::cout << absl::StrFormat("rounds: %d\n", result->num_rounds);
  if (!dry_run) {
    std::cout << absl::StrFormat("published %s version %d in %s\n",
                                 config.model_name, result->version,
                                 result->bundle_dir);
  }
  return 0;
}
