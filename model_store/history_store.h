// The history store: the customers' product history, refreshed every month
// as its own versioned artifact beside the models, so that the server can
// serve the next month without a retrained model.
//
//   STORE/history/<YYYY-MM>/     the month the snapshot serves (the month
//                                after the newest month of data in it)
//     history.bin     ProductHistorySnapshot (featurizer/product_history.h),
//                     the same format as a model bundle's history.bin
//     manifest.json   HistoryManifest: month, customers, depth, size,
//                     FNV-1a 64 checksum, source, created_at
//
// Publishing is atomic (a `.staging-*` directory, synced, then renamed into
// place); publishing a month again replaces it (the old directory is moved
// aside first, so a reader sees the old version, then the new one).
//
//   RECSYS_ASSIGN_OR_RETURN(std::string dir,
//       PublishHistory("models", *snapshot, "csv:data/train_ver2.csv"));
//
// The server follows the store with a HistoryStore: it loads the newest
// month that validates, off the request path (on the watcher thread or the
// caller of Reload), and swaps a std::shared_ptr<const HistoryVersion>
// atomically; a month that fails to load is reported and the loaded one
// keeps serving; a failed month is tried again when its files change.
// ChooseHistory() picks, per batch, the store's snapshot or the model
// bundle's (the fallback).
//
//   RECSYS_ASSIGN_OR_RETURN(auto history,
//       HistoryStore::Create({.store_dir = "models"}, &observer));
//   history->Reload();
//   history->StartWatching();
//   HistoryChoice use = ChooseHistory(*model, history->Current().get());
//
// Unlike model loads, a history load is not bounded by a timeout: a hung
// file system holds the history watcher (never a request, never the model
// store), and Shutdown waits for the load in progress.
//
// Thread-safe: every method may be called from any thread; loads are
// serialized; Current() never waits for a load.
#ifndef RECSYS_MODEL_STORE_HISTORY_STORE_H_
#define RECSYS_MODEL_STORE_HISTORY_STORE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "featurizer/product_history.h"
#include "model_store/bundle.h"
#include "model_store/dir_watcher.h"
#include "model_store/model_version.h"

namespace recsys {

// The folder under the store root that holds the history versions.
inline constexpr char kHistoryStoreDir[] = "history";
inline constexpr int kHistoryFormatVersion = 1;

struct HistoryManifest {
  int format_version = kHistoryFormatVersion;
  std::string month;       // "YYYY-MM": the month the snapshot serves
  int64_t customers = 0;   // customers in the snapshot
  int depth = 0;           // months of history per customer
  int64_t size = 0;        // bytes of history.bin
  uint64_t checksum = 0;   // FNV-1a 64 of history.bin
  std::string source;      // where the rows came from, e.g. "csv:data/..."
  std::string created_at;  // RFC 3339 UTC
};

// One loaded history version. Immutable.
struct HistoryVersion {
  int month = 0;  // month index the snapshot serves (== snapshot->target_month())
  std::string dir;
  HistoryManifest manifest;
  std::shared_ptr<const ProductHistorySnapshot> snapshot;
  absl::Time loaded_at;
};

nlohmann::json HistoryManifestToJson(const HistoryManifest& manifest);
// INVALID_ARGUMENT naming the first missing or ill-typed field;
// FAILED_PRECONDITION for an unsupported format_version.
absl::StatusOr<HistoryManifest> HistoryManifestFromJson(
    const nlohmann::json& json);

// Writes `snapshot` as STORE/history/<month it serves>/ (replacing that
// month if present) and returns the directory. INTERNAL on an I/O error
// (leaving the previous version of the month, if any, in place).
absl::StatusOr<std::string> PublishHistory(
    const std::string& store_dir, const ProductHistorySnapshot& snapshot,
    const std::string& source);

// The months (indexes) present under STORE/history/, ascending; names that
// are not YYYY-MM are ignored. NOT_FOUND when the folder does not exist.
absl::StatusOr<std::vector<int>> ListHistoryMonths(
    const std::string& store_dir);

// Loads and validates the history version in `dir` (named YYYY-MM): the
// manifest, history.bin (through ReadBundleFile with `limits`), its size and
// checksum (DATA_LOSS), and that the snapshot serves the month of the
// manifest and of the directory name and holds the manifest's customers
// (FAILED_PRECONDITION). Errors name the directory.
absl::StatusOr<std::shared_ptr<const HistoryVersion>> LoadHistoryVersion(
    const std::string& dir, const BundleReadLimits& limits = {});

// Which snapshot a batch is scored with.
struct HistoryChoice {
  const ProductHistorySnapshot* snapshot = nullptr;  // never null
  int month = 0;           // the month it serves
  bool from_store = false;  // false: the model bundle's own history
};

// The store's version when there is one that serves the bundle's month or a
// later one and keeps at least the months the model's features need; else
// the bundle's history. The returned pointer lives as long as `model` and
// `store_version` (the caller holds both shared_ptrs for the batch).
HistoryChoice ChooseHistory(const ModelVersion& model,
                            const HistoryVersion* store_version);

struct HistoryStoreOptions {
  // Root of the store (versions in <store_dir>/history/). Required.
  std::string store_dir;
  // Rescan interval without a file-system event. Default 10 s.
  absl::Duration poll_interval = absl::Seconds(10);
  // Also react to inotify events. Default true.
  bool use_inotify = true;
  // `.staging-*` directories older than this are removed at each scan.
  // Default 1 h.
  absl::Duration staging_max_age = absl::Hours(1);
  // What history.bin may be (size cap, symlinks). Default: as for bundles.
  BundleReadLimits limits;
};

// Receives history events (logs, metrics). Called from the loading thread;
// must be thread-safe and quick.
class HistoryStoreObserver {
 public:
  virtual ~HistoryStoreObserver() = default;
  // `version` serves from now on; `previous` is the month served before (0:
  // none).
  virtual void OnHistoryServing(const HistoryVersion& version, int previous,
                                absl::Duration took) {}
  virtual void OnHistoryLoadFailed(int month, const absl::Status& status) {}
  virtual void OnHistoryNotice(const std::string& text) {}
};

// What one HistoryStore::Reload() did.
struct HistoryReloadReport {
  int serving_month = 0;   // 0: no history version serves
  int previous_month = 0;  // serving before
  std::vector<std::pair<int, std::string>> failed;  // newly failed
};

class HistoryStore {
 public:
  // INVALID_ARGUMENT for an empty store_dir or a non-positive poll_interval.
  // `observer` may be null; if set it must outlive the store.
  static absl::StatusOr<std::unique_ptr<HistoryStore>> Create(
      const HistoryStoreOptions& options, HistoryStoreObserver* observer);
  ~HistoryStore();  // StopWatching()
  HistoryStore(const HistoryStore&) = delete;
  HistoryStore& operator=(const HistoryStore&) = delete;

  // The serving history version, or null when none has loaded.
  std::shared_ptr<const HistoryVersion> Current() const
      ABSL_LOCKS_EXCLUDED(mu_);

  // The last load failure ("2016-07: ..."), "" when the newest attempt
  // succeeded.
  std::string last_error() const ABSL_LOCKS_EXCLUDED(mu_);

  // Scans STORE/history/ and serves the newest month that loads, if it is
  // newer than the serving one or is the serving month with changed files.
  // Months that failed are tried again only when their files change. Never
  // fails: no folder or no loadable month leaves the state as it is.
  HistoryReloadReport Reload() ABSL_LOCKS_EXCLUDED(reload_mu_, mu_);

  // Watches STORE/history/ (DirectoryWatcher) and calls Reload(). Idempotent.
  void StartWatching() ABSL_LOCKS_EXCLUDED(watch_mu_);
  void StopWatching() ABSL_LOCKS_EXCLUDED(watch_mu_);

 private:
  HistoryStore(const HistoryStoreOptions& options,
               HistoryStoreObserver* observer);
  std::string MonthDir(int month) const;

  const HistoryStoreOptions options_;
  HistoryStoreObserver* const observer_;

  absl::Mutex reload_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  // Per month: the files (DirectoryFingerprint) when it failed or loaded.
  std::map<int, std::string> failed_ ABSL_GUARDED_BY(reload_mu_);
  std::string serving_files_ ABSL_GUARDED_BY(reload_mu_);

  mutable absl::Mutex mu_;
  std::shared_ptr<const HistoryVersion> current_ ABSL_GUARDED_BY(mu_);
  std::string last_error_ ABSL_GUARDED_BY(mu_);

  absl::Mutex watch_mu_;
  std::unique_ptr<DirectoryWatcher> watcher_ ABSL_GUARDED_BY(watch_mu_);
};

}  // namespace recsys

#endif  // RECSYS_MODEL_STORE_HISTORY_STORE_H_
