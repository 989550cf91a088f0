#include "training/trainer.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/date.h"
#include "common/products.h"
#include "common/ranking.h"
#include "common/status_macros.h"
#include "featurizer/feature_spec.h"
#include "training/default_feature_spec.h"
#include "featurizer/featurizer.h"
#include "featurizer/reference.h"
#include "featurizer/vocabulary.h"
#include "model_store/booster.h"
#include "training/dataset.h"
#include "training/evaluation.h"

namespace recsys {
namespace {

using json = nlohmann::json;
using Params = std::map<std::string, std::string>;

// One training row per added product, from the months in `months`.
absl::StatusOr<std::unique_ptr<DMatrix>> BuildMatrix(
    const Dataset& data, const std::vector<const MonthData*>& months) {
  const int nf = data.num_features;
  std::vector<float> rows;
  std::vector<float> labels;
  for (const MonthData* m : months) {
    for (int64_t c = 0; c < m->adders(); ++c) {
      for (int p = 0; p < kNumProducts; ++p) {
        if (!(m->added[c] & ProductBit(p))) continue;
        rows.insert(rows.end(), m->features.begin() + c * nf,
                    m->features.begin() + (c + 1) * nf);
        labels.push_back(static_cast<float>(p));
      }
    }
  }
  if (labels.empty()) {
    return absl::InvalidArgumentError(
        "no training rows: no customer added a product in the "
        "training months");
  }
  return DMatrix::Create(rows.data(), static_cast<int64_t>(labels.size()), nf,
                         labels);
}

Params XgbParams(const TrainConfig& config, const Params& overrides) {
  Params params = config.xgboost;
  for (const auto& [k, v] : overrides) params[k] = v;
  params["objective"] = "multi:softprob";
  params["num_class"] = std::to_string(kNumProducts);
  params["eval_metric"] = "mlogloss";
  if (config.nthread > 0) params["nthread"] = std::to_string(config.nthread);
  return params;
}

struct Fit {
  std::unique_ptr<Booster> booster;
  int rounds = 0;
  double map7 = 0;
  double popularity_map7 = 0;
  double ceiling_map7 = 0;
};

class Pipeline {
 public:
  Pipeline(const TrainRunOptions& options, const Dataset& data)
      : options_(options), config_(options.config), data_(data) {}

  void Log(const std::string& line) const {
    if (options_.log) options_.log(line);
  }

  // Labeled months in [first, last] (month indexes).
  std::vector<const MonthData*> Months(int first, int last) const {
    std::vector<const MonthData*> out;
    for (const MonthData& m : data_.months) {
      if (m.labeled && m.month >= first && m.month <= last) out.push_back(&m);
    }
    return out;
  }

  // Trains on labeled months in [first, validation) with early stopping on
  // `validation` and scores MAP@7 there.
  // `phase` names the progress phase ("validation", "grid 2/4", ...).
  absl::StatusOr<Fit> FitAndScore(const Params& params, int first,
                                  const MonthData& validation,
                                  const std::string& phase) {
    std::vector<const MonthData*> train_months =
        Months(first, validation.month - 1);
    RECSYS_ASSIGN_OR_RETURN(std::unique_ptr<DMatrix> train,
                            BuildMatrix(data_, train_months));
    RECSYS_ASSIGN_OR_RETURN(std::unique_ptr<DMatrix> valid,
                            BuildMatrix(data_, {&validation}));
    TrainOptions train_options;
    train_options.params = params;
    train_options.max_rounds = config_.max_rounds;
    train_options.early_stopping_rounds = config_.early_stopping_rounds;
    train_options.log = [this](int round, std::optional<double>,
                               absl::string_view line) {
      if (round % 10 == 0 || round + 1 == config_.max_rounds)
        Log(absl::StrCat("    ", line));
      if (options_.progress) options_.progress->Update(round + 1);
    };
    Log(absl::StrFormat(
        "  training on %d months (%s..%s, %d rows), validating on %s (%d rows)",
        train_months.size(), MonthName(train_months.front()->month),
        MonthName(train_months.back()->month), train->num_rows(),
        MonthName(validation.month), valid->num_rows()));
    if (options_.progress)
      options_.progress->Start(phase, config_.max_rounds, "rounds");
    RECSYS_ASSIGN_OR_RETURN(TrainResult result,
                            Train(train_options, *train, valid.get()));
    if (options_.progress) options_.progress->Finish();
    Fit fit;
    fit.rounds = result.best_iteration + 1;
    fit.booster = std::move(result.booster);
    RECSYS_ASSIGN_OR_RETURN(fit.map7, ModelMap7(*fit.booster, validation));
    const MonthData* previous = data_.Find(validation.month - 1);
    fit.popularity_map7 =
        previous != nullptr ? PopularityMap7(*previous, validation) : 0;
    fit.ceiling_map7 = CeilingMap7(validation);
    return fit;
  }

  // Every combination of the grid, as parameter overrides.
  std::vector<Params> GridCombinations() const {
    std::vector<Params> combos = {{}};
    for (const auto& [param, values] : config_.grid) {
      std::vector<Params> next;
      for (const Params& c : combos) {
        for (const std::string& v : values) {
          Params p = c;
          p[param] = v;
          next.push_back(std::move(p));
        }
      }
      combos = std::move(next);
    }
    return combos;
  }

 private:
  const TrainRunOptions& options_;
  const TrainConfig& config_;
  const Dataset& data_;
};

std::string ParamsText(const Params& p) {
  return absl::StrJoin(p, ",", absl::PairFormatter("="));
}

absl::StatusOr<int> ParseMonthText(const std::string& text, const char* what) {
  absl::StatusOr<int> month = ParseMonthIndex(text);
  if (!month.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, " must be YYYY-MM, \"last\" or \"none\"; got \"", text, "\""));
  }
  return *month;
}

// The prediction reference: the top-1 product (owned-last-month products
// excluded) the model gives the last month's reference sample with its
// calendar features advanced to the month the model will serve
// (Featurizer::AdvanceOneMonth). Product adoption is seasonal (in the real
// data, June's additions are dominated by the tax product), so the mix the
// model predicts for the last month itself is not what it should predict
// next month; measured on a 12,000-customer generated month, the PSI of an
// ordinary test month against it was 0.120, and against the advanced sample
// 0.004.
absl::StatusOr<PredictionReference> BuildPredictionReference(
    const Booster& booster, const Featurizer& featurizer, const Dataset& data) {
  std::vector<float> rows = data.reference_rows;
  const size_t nf = static_cast<size_t>(data.num_features);
  for (size_t i = 0; i + nf <= rows.size(); i += nf) {
    featurizer.AdvanceOneMonth(&rows[i]);
  }
  const std::vector<ProductMask>& owned_last = data.reference_owned_last;
  const int64_t n = static_cast<int64_t>(owned_last.size());
  std::vector<float> scores(static_cast<size_t>(n) * kNumProducts);
  RECSYS_RETURN_IF_ERROR(
      booster.Predict(rows.data(), n, data.num_features, scores.data()));
  std::vector<int> top1;
  std::vector<float> top1_scores;
  for (int64_t i = 0; i < n; ++i) {
    TopKResult top = TopK(&scores[i * kNumProducts], owned_last[i], 1);
    if (top.size == 0) continue;
    top1.push_back(top.items[0].product);
    top1_scores.push_back(top.items[0].score);
  }
  return PredictionReference::Build(top1, top1_scores);
}

// One run of the pipeline, step by step (RunTraining calls them in order):
// each step reads what the steps before it set, and returns a Status.
class TrainingRun {
 public:
  explicit TrainingRun(const TrainRunOptions& options)
      : options_(options), config_(options.config) {}
  TrainingRun(const TrainingRun&) = delete;
  TrainingRun& operator=(const TrainingRun&) = delete;

  // The feature spec, the vocabularies (pass 1) and the featurized months
  // (pass 2).
  absl::Status ReadData();
  // Which months train (from first_train_month) and which one validates.
  absl::Status ChooseMonths();
  // With a grid and a validation month: the best parameter overrides.
  // Sets the parameters every later step trains with.
  absl::Status SearchGrid();
  // With cv_folds > 0: MAP@7 of each of the last months, trained on the
  // months before it.
  absl::Status CrossValidate();
  // The final model: early stopping on the validation month (its MAP@7 is
  // the run's metrics), then, unless told otherwise, retrained on every
  // month for the rounds found.
  absl::Status TrainFinalModel();
  // Writes the bundle: manifest, drift references, golden rows, history.
  absl::Status Publish();

  TrainRunResult TakeResult() { return std::move(result_); }

 private:
  void Log(const std::string& line) const {
    if (options_.log) options_.log(line);
  }
  // The manifest's description of the run (everything but the references
  // and golden rows).
  BundleManifest DescribeRun() const;
  // The drift references and golden rows, computed with the final model as
  // saved (`saved`).
  absl::Status AddReferences(const Booster& saved,
                             BundleManifest* manifest) const;
  absl::Status AddGoldenRows(const Booster& saved,
                             BundleManifest* manifest) const;

  const TrainRunOptions& options_;
  const TrainConfig& config_;
  std::optional<FeatureSpec> spec_;
  Vocabularies vocabularies_;
  std::unique_ptr<const Featurizer> featurizer_;
  Dataset data_;
  Pipeline pipeline_{options_, data_};  // reads data_ when it is filled
  int first_train_ = 0;
  int last_month_ = 0;
  const MonthData* validation_ = nullptr;  // in data_; null: none
  Params params_;
  std::unique_ptr<Booster> final_model_;
  TrainRunResult result_;
};

absl::Status TrainingRun::ReadData() {
  RECSYS_ASSIGN_OR_RETURN(
      spec_, config_.feature_spec.empty()
                 ? ParseFeatureSpec(DefaultFeatureSpecJson())
                 : LoadFeatureSpec(config_.feature_spec));
  Log(absl::StrCat("feature spec ",
                   config_.feature_spec.empty() ? "(built in)"
                                                : config_.feature_spec,
                   ": ", spec_->num_features(), " features, hash ",
                   spec_->SpecHash()));

  TrainingRows rows = TrainingRows::FromCsv(options_.train_csv);
  if (!options_.records_db.empty()) {
    RECSYS_ASSIGN_OR_RETURN(rows, TrainingRows::FromRecordsDb(
                                      options_.records_db, options_.through));
  }
  Log(absl::StrCat("pass 1/2: learning vocabularies from ", rows.name()));
  RECSYS_ASSIGN_OR_RETURN(vocabularies_,
                          LearnVocabularies(rows, *spec_, options_.progress));
  RECSYS_ASSIGN_OR_RETURN(featurizer_,
                          Featurizer::Create(*spec_, vocabularies_));

  Log("pass 2/2: featurizing month by month");
  DatasetOptions dataset_options;
  dataset_options.reference_sample = config_.reference_sample;
  dataset_options.seed = config_.seed;
  dataset_options.allow_partial_months = config_.allow_partial_months;
  dataset_options.log = options_.log;
  dataset_options.progress = options_.progress;
  RECSYS_ASSIGN_OR_RETURN(
      data_, BuildDataset(rows, *featurizer_, dataset_options));
  Log(absl::StrFormat(
      "read %d rows in %d months; %d rows had errors (invalid fields cleaned "
      "as "
      "missing), %d skipped",
      data_.rows, data_.months.size(), data_.rows_with_errors,
      data_.rows_skipped));
  return absl::OkStatus();
}

absl::Status TrainingRun::ChooseMonths() {
  last_month_ = data_.months.back().month;
  std::optional<int> validation_month;
  if (config_.validation_month == "last") {
    validation_month = last_month_;
  } else if (config_.validation_month != "none") {
    RECSYS_ASSIGN_OR_RETURN(
        validation_month,
        ParseMonthText(config_.validation_month, "validation_month"));
  }
  first_train_ = data_.months.front().month;
  if (!config_.first_train_month.empty()) {
    RECSYS_ASSIGN_OR_RETURN(
        first_train_,
        ParseMonthText(config_.first_train_month, "first_train_month"));
  }
  if (validation_month.has_value()) {
    validation_ = data_.Find(*validation_month);
    if (validation_ == nullptr || !validation_->labeled) {
      return absl::InvalidArgumentError(absl::StrCat(
          "validation month ", MonthName(*validation_month),
          " is not a month of the file with a previous month (the file has ",
          MonthName(data_.months.front().month), "..", MonthName(last_month_),
          ")"));
    }
  }
  result_.evaluation = json::object();
  return absl::OkStatus();
}

absl::Status TrainingRun::SearchGrid() {
  Params best_overrides;
  if (!config_.grid.empty() && validation_ != nullptr) {
    Log(absl::StrCat("grid search over ", config_.grid.size(), " parameters"));
    json grid = json::array();
    double best = -1;
    const std::vector<Params> combos = pipeline_.GridCombinations();
    for (size_t i = 0; i < combos.size(); ++i) {
      const Params& combo = combos[i];
      RECSYS_ASSIGN_OR_RETURN(
          Fit fit, pipeline_.FitAndScore(
                       XgbParams(config_, combo), first_train_, *validation_,
                       absl::StrCat("grid ", i + 1, "/", combos.size())));
      Log(absl::StrFormat("  grid %-40s rounds %3d  MAP@7 %.5f",
                          ParamsText(combo), fit.rounds, fit.map7));
      grid.push_back(
          {{"params", combo}, {"rounds", fit.rounds}, {"map7", fit.map7}});
      if (fit.map7 > best) {
        best = fit.map7;
        best_overrides = combo;
      }
    }
    result_.evaluation["grid"] = grid;
    result_.evaluation["grid_best"] = best_overrides;
  }
  params_ = XgbParams(config_, best_overrides);
  result_.params = params_;
  return absl::OkStatus();
}

absl::Status TrainingRun::CrossValidate() {
  if (config_.cv_folds <= 0) return absl::OkStatus();
  Log(absl::StrCat("cross-validation over the last ", config_.cv_folds,
                   " months"));
  json folds = json::array();
  double sum = 0;
  int n = 0;
  for (auto it = data_.months.rbegin();
       it != data_.months.rend() && n < config_.cv_folds; ++it) {
    if (!it->labeled || pipeline_.Months(first_train_, it->month - 1).empty())
      continue;
    RECSYS_ASSIGN_OR_RETURN(Fit fit,
                            pipeline_.FitAndScore(
                                params_, first_train_, *it,
                                absl::StrCat("cv fold ", MonthName(it->month))));
    Log(absl::StrFormat("  fold %s: rounds %d  MAP@7 model %.5f  popularity "
                        "%.5f  ceiling %.5f",
                        MonthName(it->month), fit.rounds, fit.map7,
                        fit.popularity_map7, fit.ceiling_map7));
    folds.push_back({{"month", MonthName(it->month)},
                     {"rounds", fit.rounds},
                     {"model_map7", fit.map7},
                     {"popularity_map7", fit.popularity_map7},
                     {"ceiling_map7", fit.ceiling_map7}});
    sum += fit.map7;
    ++n;
  }
  result_.evaluation["cv"] = {{"folds", folds},
                              {"mean_model_map7", n ? sum / n : 0.0}};
  if (n > 0)
    Log(absl::StrFormat("  mean MAP@7 over %d folds: %.5f", n, sum / n));
  return absl::OkStatus();
}

absl::Status TrainingRun::TrainFinalModel() {
  int rounds = config_.max_rounds;
  if (validation_ != nullptr) {
    Log(absl::StrCat("training with early stopping on ",
                     MonthName(validation_->month)));
    RECSYS_ASSIGN_OR_RETURN(
        Fit fit, pipeline_.FitAndScore(params_, first_train_, *validation_,
                                      "validation"));
    rounds = fit.rounds;
    result_.metrics.month = MonthName(validation_->month);
    result_.metrics.model_map7 = fit.map7;
    result_.metrics.popularity_map7 = fit.popularity_map7;
    result_.metrics.ceiling_map7 = fit.ceiling_map7;
    result_.metrics.customers = validation_->customers;
    result_.metrics.customers_adding = validation_->adders();
    Log(absl::StrFormat("best number of rounds: %d", rounds));
    if (!config_.retrain_on_all) final_model_ = std::move(fit.booster);
  }
  if (final_model_ == nullptr) {
    std::vector<const MonthData*> all =
        pipeline_.Months(first_train_, last_month_);
    RECSYS_ASSIGN_OR_RETURN(std::unique_ptr<DMatrix> train,
                            BuildMatrix(data_, all));
    Log(absl::StrFormat(
        "retraining on all %d labeled months (%d rows) for %d rounds",
        all.size(), train->num_rows(), rounds));
    TrainOptions train_options;
    train_options.params = params_;
    train_options.max_rounds = rounds;
    if (options_.progress) {
      options_.progress->Start("final retrain", rounds, "rounds");
      train_options.log = [this](int round, std::optional<double>,
                                 absl::string_view) {
        options_.progress->Update(round + 1);
      };
    }
    RECSYS_ASSIGN_OR_RETURN(TrainResult trained, Train(train_options, *train));
    if (options_.progress) options_.progress->Finish();
    final_model_ = std::move(trained.booster);
  }
  result_.num_rounds = rounds;
  RECSYS_ASSIGN_OR_RETURN(result_.model_bytes, final_model_->SaveToBuffer());
  return absl::OkStatus();
}

BundleManifest TrainingRun::DescribeRun() const {
  BundleManifest manifest;
  manifest.model_name = config_.model_name;
  for (const MonthData* m : pipeline_.Months(first_train_, last_month_)) {
    manifest.train_months.push_back(MonthName(m->month));
  }
  manifest.history_month = MonthName(data_.history->target_month());
  manifest.feature_spec = spec_->ToJson();
  manifest.feature_spec_hash = spec_->SpecHash();
  manifest.vocabularies = vocabularies_.ToJson();
  for (const Product& p : kProducts) manifest.products.emplace_back(p.column);
  manifest.params = params_;
  manifest.num_rounds = result_.num_rounds;
  manifest.metrics = result_.metrics;
  manifest.evaluation = result_.evaluation;
  return manifest;
}

absl::Status TrainingRun::AddReferences(const Booster& saved,
                                        BundleManifest* manifest) const {
  RECSYS_ASSIGN_OR_RETURN(ReferenceDistributions reference,
                          ReferenceDistributions::Build(
                              featurizer_->schema(), data_.reference_rows, {}));
  if (options_.progress) options_.progress->Update(1);
  RECSYS_ASSIGN_OR_RETURN(
      PredictionReference prediction_reference,
      BuildPredictionReference(saved, *featurizer_, data_));
  if (options_.progress) options_.progress->Update(2);
  nlohmann::json predictions = prediction_reference.ToJson();
  predictions["month"] = MonthName(last_month_ + 1);
  Log(absl::StrFormat(
      "drift references: %d rows of %s; prediction mix predicted for them as "
      "of %s",
      reference.sample_rows(), MonthName(last_month_),
      MonthName(last_month_ + 1)));
  manifest->reference = {{"features", reference.ToJson()},
                         {"predictions", std::move(predictions)}};
  return absl::OkStatus();
}

absl::Status TrainingRun::AddGoldenRows(const Booster& saved,
                                        BundleManifest* manifest) const {
  const int64_t reference_rows =
      static_cast<int64_t>(data_.reference_owned_last.size());
  const int golden =
      static_cast<int>(std::min<int64_t>(config_.golden_rows, reference_rows));
  std::vector<float> scores(kNumProducts);
  for (int i = 0; i < golden; ++i) {
    GoldenRow row;
    row.features.assign(
        data_.reference_rows.begin() + int64_t{i} * data_.num_features,
        data_.reference_rows.begin() + int64_t{i + 1} * data_.num_features);
    RECSYS_RETURN_IF_ERROR(saved.Predict(row.features.data(), 1,
                                         data_.num_features, scores.data()));
    row.scores = scores;
    manifest->golden.push_back(std::move(row));
  }
  return absl::OkStatus();
}

absl::Status TrainingRun::Publish() {
  BundleManifest manifest = DescribeRun();
  // Reload the saved bytes so that golden scores are those of the file.
  RECSYS_ASSIGN_OR_RETURN(std::unique_ptr<Booster> saved,
                          Booster::LoadFromBuffer(result_.model_bytes));
  RECSYS_RETURN_IF_ERROR(saved->SetParam("nthread", "1"));
  // Three steps: feature references, prediction reference, golden rows.
  if (options_.progress) options_.progress->Start("references", 3, "steps");
  RECSYS_RETURN_IF_ERROR(AddReferences(*saved, &manifest));
  RECSYS_RETURN_IF_ERROR(AddGoldenRows(*saved, &manifest));
  if (options_.progress) {
    options_.progress->Update(3);
    options_.progress->Finish();
  }
  RECSYS_ASSIGN_OR_RETURN(
      result_.bundle_dir,
      PublishBundle(options_.store_dir, manifest, result_.model_bytes,
                    data_.history->Serialize()));
  RECSYS_ASSIGN_OR_RETURN(BundleManifest published,
                          ReadManifest(result_.bundle_dir));
  result_.version = published.version;
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<TrainRunResult> RunTraining(const TrainRunOptions& options) {
  TrainingRun run(options);
  RECSYS_RETURN_IF_ERROR(run.ReadData());
  RECSYS_RETURN_IF_ERROR(run.ChooseMonths());
  RECSYS_RETURN_IF_ERROR(run.SearchGrid());
  RECSYS_RETURN_IF_ERROR(run.CrossValidate());
  RECSYS_RETURN_IF_ERROR(run.TrainFinalModel());
  if (options.publish) RECSYS_RETURN_IF_ERROR(run.Publish());
  return run.TakeResult();
}

}  // namespace recsys
