// A model bundle: everything the server needs to answer with one model
// version, as one directory of a model store.
//
//   STORE/<model-name>/<version>/      version = 1, 2, 3, ... (latest =
//   largest)
//     manifest.json   what the model is and how to feed it (BundleManifest)
//     model.ubj       the XGBoost model (UBJ)
//     history.bin     product-history snapshot for the month the bundle serves
//
// Bundles are published atomically: written into a hidden staging directory
// beside the versions, synced, then renamed into place, so a watcher never
// sees a half-written version.
//
//   BundleManifest manifest = ...;   // filled by the training pipeline
//   RECSYS_ASSIGN_OR_RETURN(std::string dir,
//       PublishBundle("models", manifest, model_bytes, history_path));
//
//   RECSYS_ASSIGN_OR_RETURN(BundleManifest m, ReadManifest(dir));
#ifndef RECSYS_MODEL_STORE_BUNDLE_H_
#define RECSYS_MODEL_STORE_BUNDLE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/fnv.h"  // Fnv1a64: the checksums of the bundle files
#include "nlohmann/json.hpp"

namespace recsys {

inline constexpr char kManifestFile[] = "manifest.json";
inline constexpr char kModelFile[] = "model.ubj";
inline constexpr char kHistoryFile[] = "history.bin";
inline constexpr int kBundleFormatVersion = 1;

// MAP@7 on the validation month, side by side with the baselines.
struct ValidationMetrics {
  std::string month;             // "2016-05", or "" when none was held out
  double model_map7 = 0;         // the model
  double popularity_map7 = 0;    // last month's most-added products
  double ceiling_map7 = 0;       // a perfect ranking
  int64_t customers = 0;         // customers in the month (denominator)
  int64_t customers_adding = 0;  // customers who added at least one product
};

// One replayable check: a feature vector and the scores the model gave it
// when it was trained. A loader predicts `features` and compares.
struct GoldenRow {
  int64_t ncodpers = 0;
  std::vector<float> features;  // NaN = missing
  std::vector<float> scores;    // one per product, in `products` order
};

struct BundleManifest {
  int format_version = kBundleFormatVersion;
  std::string model_name;  // e.g. "santander"
  int64_t version = 0;     // set by PublishBundle
  std::string created_at;  // RFC 3339 UTC, set by PublishBundle if empty
  std::vector<std::string>
      train_months;             // "YYYY-MM" months whose rows trained it
  std::string history_month;    // "YYYY-MM": the month the snapshot serves
  nlohmann::json feature_spec;  // the featurizer's spec JSON
  std::string feature_spec_hash;
  nlohmann::json vocabularies;        // the featurizer's vocabularies JSON
  std::vector<std::string> products;  // output order, Kaggle column names
  nlohmann::json params;              // XGBoost parameters used
  int num_rounds = 0;                 // boosting rounds in model.ubj
  ValidationMetrics metrics;
  nlohmann::json
      evaluation;  // extra reports (cross-validation, grid), may be null
  nlohmann::json reference;  // reference distributions for drift
  std::vector<GoldenRow> golden;
  uint64_t model_checksum = 0;    // FNV-1a 64 of model.ubj
  uint64_t history_checksum = 0;  // FNV-1a 64 of history.bin
  // Sizes in bytes of model.ubj and history.bin, set by PublishBundle; -1 in
  // bundles written before sizes were recorded (then only the cap applies).
  int64_t model_size = -1;
  int64_t history_size = -1;
};

// Largest bundle file read by default (BundleReadLimits::max_file_bytes).
inline constexpr int64_t kDefaultMaxBundleFileBytes = int64_t{2} << 30;

// What a bundle reader accepts. A bundle file must be a regular file (a FIFO,
// a device or a directory is refused before it is opened, so it cannot block
// or stream forever), at most max_file_bytes long and no longer than its
// manifest says, and a symbolic link must resolve inside `root`.
struct BundleReadLimits {
  // Largest file accepted, in bytes. Default 2 GiB.
  int64_t max_file_bytes = kDefaultMaxBundleFileBytes;
  // Directory that symlinked bundle files must resolve into, e.g. the store
  // root (so versions may share a file). Empty: the bundle directory itself.
  // Default empty.
  std::string root;
};

// Reads one bundle file with the checks of BundleReadLimits. `expected_size`
// is the size the manifest records (-1: unknown). Returns the bytes, or
// FAILED_PRECONDITION naming the file for a non-regular file or a symlink
// leaving `root`, RESOURCE_EXHAUSTED naming the file and both sizes for one
// over the cap, DATA_LOSS naming the file and both sizes for a size other
// than the manifest's, and the errno's canonical code (NOT_FOUND,
// PERMISSION_DENIED, ...) when it cannot be read.
absl::StatusOr<std::string> ReadBundleFile(const std::string& path,
                                           int64_t expected_size,
                                           const BundleReadLimits& limits);

nlohmann::json ManifestToJson(const BundleManifest& manifest);

// Parses and checks a manifest. Returns INVALID_ARGUMENT naming the first
// missing or ill-typed field (e.g. "manifest.json: field 'golden' missing"),
// FAILED_PRECONDITION for an unsupported format_version.
absl::StatusOr<BundleManifest> ManifestFromJson(const nlohmann::json& json);

// Reads `<bundle_dir>/manifest.json` through ReadBundleFile (capped at
// limits.max_file_bytes). NOT_FOUND if absent; errors as above.
absl::StatusOr<BundleManifest> ReadManifest(
    const std::string& bundle_dir, const BundleReadLimits& limits = {});

// Publishes a new version of `manifest.model_name` under `store_dir`: the
// version is one more than the largest existing one, created_at is set when
// empty, checksums and file sizes are computed. Returns the new bundle directory. Returns
// INTERNAL on I/O errors (leaving no partial version behind).
absl::StatusOr<std::string> PublishBundle(const std::string& store_dir,
                                          BundleManifest manifest,
                                          absl::string_view model_bytes,
                                          absl::string_view history_bytes);

// The version numbers present under `<store_dir>/<model_name>/`, ascending.
// Directories whose name is not a positive integer are ignored. NOT_FOUND
// when the model directory does not exist.
absl::StatusOr<std::vector<int64_t>> ListVersions(
    const std::string& store_dir, const std::string& model_name);

// Removes the `.staging-*` directories under `<store_dir>/<model_name>/` last
// modified more than `max_age` ago (left by a publisher killed half-way;
// PublishBundle renames or removes its own). Returns the paths removed.
std::vector<std::string> RemoveStaleStaging(const std::string& store_dir,
                                            const std::string& model_name,
                                            absl::Duration max_age);

// A fingerprint of the files in `dir`: names, sizes and modification times
// (sorted), to notice that a version directory changed. "" if it cannot be
// listed.
std::string DirectoryFingerprint(const std::string& dir);

}  // namespace recsys

#endif  // RECSYS_MODEL_STORE_BUNDLE_H_
