// ModelVersion: one loaded, validated and warmed model bundle — everything a
// request needs to be answered: the featurizer (spec + vocabularies), the
// XGBoost booster, the product-history snapshot and the drift references.
//
//   RECSYS_ASSIGN_OR_RETURN(std::shared_ptr<const ModelVersion> model,
//                           LoadModelVersion("models/santander/3", 3));
//   model->featurizer().Featurize(record, view, row);
//   model->Predict(row, 1, scores);   // the forest or XGBoost, see below
//
// Loading checks, in order, and fails with the first problem:
//   each file a regular file within the size limits (see LoadModelVersion);
//   manifest complete (INVALID_ARGUMENT naming the field); the feature spec
//   parses with this featurizer and hashes to the manifest's
//   feature_spec_hash (FAILED_PRECONDITION otherwise: the bundle was built for
//   other feature logic); vocabularies and references parse; model.ubj and
//   history.bin match their checksums (DATA_LOSS: truncated or altered); the
//   model loads, expects num_features() inputs and 24 classes
//   (FAILED_PRECONDITION); the golden set replays within kGoldenTolerance
//   (FAILED_PRECONDITION naming the row and the difference); then one warm-up
//   prediction on the loading thread.
//
// The predictor (ModelLoadOptions::predictor): unless it is kXgboost, the
// loader builds our forest evaluator (forest.h) from model.ubj and compares
// it byte for byte (memcmp) with XGBoost on the golden rows, the golden rows
// with NaN in each feature position in turn, and verify_rows rows drawn from
// the reference bins and the model's own split points (on, just below and
// just above each threshold, and NaN). Any difference, or a model the forest
// cannot compute: with kAuto the version predicts with XGBoost and
// predictor_note() says why; with kForest the load fails
// (FAILED_PRECONDITION). Nothing serves an answer XGBoost would not give.
//
// Immutable after loading: thread-safe to share as
// std::shared_ptr<const ModelVersion>; requests keep the version they started
// with for as long as they hold the pointer.
#ifndef RECSYS_MODEL_STORE_MODEL_VERSION_H_
#define RECSYS_MODEL_STORE_MODEL_VERSION_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "featurizer/featurizer.h"
#include "featurizer/product_history.h"
#include "featurizer/reference.h"
#include "model_store/booster.h"
#include "model_store/bundle.h"
#include "model_store/forest.h"

namespace recsys {

// Which evaluator predicts for a loaded version (recsys-server --predictor).
enum class PredictorChoice {
  kAuto,     // the forest when it matched XGBoost at load, else XGBoost
  kForest,   // the forest; a version whose forest does not match fails
  kXgboost,  // XGBoost; no forest is built
};
// "auto", "forest", "xgboost".
const char* PredictorChoiceName(PredictorChoice choice);
// The inverse of PredictorChoiceName; INVALID_ARGUMENT naming the value.
absl::StatusOr<PredictorChoice> ParsePredictorChoice(absl::string_view text);

struct ModelLoadOptions {
  // Default kAuto.
  PredictorChoice predictor = PredictorChoice::kAuto;
  // Rows drawn from the reference bins and split points that the forest is
  // compared with XGBoost on (besides the golden rows). Default 3000.
  int verify_rows = 3000;
  // Test hook: called on the forest once built, before the comparison (e.g.
  // Forest::TamperLeavesForTesting). Default none.
  std::function<void(Forest*)> tamper_forest_for_testing;
  // Checks on the bundle's files before they are read (size caps, file
  // types, symlinks). Default BundleReadLimits().
  BundleReadLimits limits;
};

// Largest absolute difference allowed between a golden score and its replay.
inline constexpr float kGoldenTolerance = 1e-5f;

class ModelVersion {
 public:
  // Use LoadModelVersion(); public for std::make_shared.
  struct Parts {
    BundleManifest manifest;
    std::unique_ptr<const Featurizer> featurizer;
    std::unique_ptr<const Booster> booster;
    std::shared_ptr<const ProductHistorySnapshot> history;
    std::optional<ReferenceDistributions> reference;  // set by the loader
    std::optional<PredictionReference>
        prediction_reference;  // set by the loader
    int history_month = 0;     // month index the snapshot serves
    std::unique_ptr<const Forest> forest;  // null: XGBoost predicts
    std::string predictor_note;            // set by the loader
  };
  explicit ModelVersion(Parts parts);

  int64_t version() const { return parts_.manifest.version; }
  const std::string& name() const { return parts_.manifest.model_name; }
  const BundleManifest& manifest() const { return parts_.manifest; }
  const Featurizer& featurizer() const { return *parts_.featurizer; }
  const Booster& booster() const { return *parts_.booster; }
  const ProductHistorySnapshot& history() const { return *parts_.history; }
  const ReferenceDistributions& reference() const { return *parts_.reference; }
  const PredictionReference& prediction_reference() const {
    return *parts_.prediction_reference;
  }
  int num_features() const { return parts_.featurizer->num_features(); }
  // The month (Date::MonthIndex) requests without fecha_dato are scored for.
  int history_month() const { return parts_.history_month; }
  absl::Time loaded_at() const { return loaded_at_; }

  // Writes n_rows * 24 probabilities of the row-major n_rows x
  // num_features() matrix `rows` (NaN = missing) to `out`, with the forest
  // when it serves, else with XGBoost: the same bytes either way. Errors as
  // Booster::Predict. Thread-safe.
  absl::Status Predict(const float* rows, int64_t n_rows, float* out) const;
  // "forest" or "xgboost": what Predict() uses.
  const char* predictor() const {
    return parts_.forest != nullptr ? "forest" : "xgboost";
  }
  // One sentence on why, e.g. "forest (avx512 kernel) matched XGBoost byte
  // for byte on 3424 rows" or "forest differs from XGBoost on golden row 3
  // (...); serving with XGBoost".
  const std::string& predictor_note() const { return parts_.predictor_note; }
  // The forest when it serves, else null.
  const Forest* forest() const { return parts_.forest.get(); }

 private:
  const Parts parts_;
  const absl::Time loaded_at_;
};

// Loads, validates and warms the bundle in `dir` (see the file comment).
// `version` must equal the manifest's version (FAILED_PRECONDITION otherwise:
// a directory renamed by hand). The booster predicts with one thread.
// Every file is read through ReadBundleFile with `limits` (default: 2 GiB cap,
// symlinks must stay inside `dir`): a FIFO, a device, a file over the cap or
// of another size than the manifest records fails before it is read.
absl::StatusOr<std::shared_ptr<const ModelVersion>> LoadModelVersion(
    const std::string& dir, int64_t version);
absl::StatusOr<std::shared_ptr<const ModelVersion>> LoadModelVersion(
    const std::string& dir, int64_t version, const BundleReadLimits& limits);
// The same with options (the predictor). A separate name so that
// LoadModelVersion stays usable as a VersionLoader.
absl::StatusOr<std::shared_ptr<const ModelVersion>> LoadModelVersionWith(
    const std::string& dir, int64_t version, const ModelLoadOptions& options);

// What one version is, for a reader that does not load it (GetModelInfo):
// the manifest's facts, typed, without its JSON.
struct VersionDescription {
  std::string model_name;
  int64_t version = 0;
  std::string created_at;  // RFC 3339 UTC, as the manifest says
  std::string feature_spec_hash;
  int num_features = 0;                   // of the manifest's feature spec
  std::vector<std::string> train_months;  // "YYYY-MM", as in the manifest
  std::string history_month;              // "YYYY-MM", as in the manifest
  ValidationMetrics metrics;
  // When the version was loaded; absl::InfinitePast() when it is not.
  absl::Time loaded_at = absl::InfinitePast();
  // For a loaded version: ModelVersion::predictor() and predictor_note();
  // empty otherwise.
  std::string predictor;
  std::string predictor_note;
};

// The description of a loaded version (reads nothing).
VersionDescription DescribeVersion(const ModelVersion& version);

// The description of the version `manifest` describes, loaded at
// `loaded_at` (absl::InfinitePast(): not loaded). INVALID_ARGUMENT
// ("manifest.json: feature_spec: ...") when its feature spec does not parse.
absl::StatusOr<VersionDescription> DescribeManifest(
    const BundleManifest& manifest, absl::Time loaded_at);

}  // namespace recsys

#endif  // RECSYS_MODEL_STORE_MODEL_VERSION_H_
