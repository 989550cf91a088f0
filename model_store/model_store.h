// The versioned model store: watches STORE/<model>/ for bundle versions,
// loads and validates each new one off the serving path, and swaps it in
// atomically. In-flight requests keep the version they started with (they
// hold a std::shared_ptr<const ModelVersion>); a version that fails any
// loading step is marked failed with its reason and the serving version stays.
//
// Version policy: "latest" (default) serves the largest version that loads;
// Pin(v) serves v until Unpin(); Rollback() returns to the version served
// before the current one and pins it (so the watcher does not move forward
// again until Unpin()). The policy is saved atomically in
// STORE/<model>/serving_policy.json and read again at each scan, so it
// survives a restart (even kill -9) and reaches every server sharing the
// store; a file that does not parse is reported and ignored. If the pinned
// version cannot be loaded and nothing serves, the newest loadable version
// serves meanwhile (the pin stays).
//
// Challenger: besides the serving version (the champion), one other version
// may be loaded as the challenger, with the share of customers it answers
// (SetChallenger; routing by customer is common/traffic_split.h, done by the
// server). Setting it never changes the champion; a version that is not on
// disk, fails to load, or is the champion itself is refused with an error
// naming it. Like a pin, the challenger is saved in serving_policy.json, so
// it survives a restart and reaches every server sharing the store; if its
// version cannot be loaded at a later scan, the champion answers everybody
// meanwhile (OnNotice says so) and the challenger stays in the policy. When
// the challenger becomes the champion (pinned, or the newest under
// "latest"), it is promoted: the challenger slot is cleared. Under "latest"
// a newer version published on disk becomes the champion at once: pin the
// champion before publishing a challenger (docs/monthly.md).
//
// Versions in memory: besides the champion and the challenger (always
// kept), the store keeps other versions it loaded (a version served before,
// for an instant rollback), newest first, up to max_loaded_versions in all;
// an older one beyond the bound is unloaded (its in-flight requests keep
// it). Loaded() finds a version in memory by number or label, for a request
// that names the version that should answer it (version_selector.h); the
// store never loads a version for such a request. Memory: each loaded
// version holds its XGBoost model, our forest and its product-history
// snapshot, and a new version is loaded before the oldest is unloaded, so
//   RSS ~= base + (max_loaded_versions + 1) x per_version
// Measured on the demo's synthetic bundle (20,000 customers, model.ubj 2.2
// MB, history.bin 0.6 MB; bench/version_memory_main.cc and
// scripts/version-memory.sh, README.md "Model versions in requests and in
// memory"): per_version 4.8 MiB of heap (about 1.7 x the two files), base
// about 32 MiB; the server measured 37 MiB RSS with 1 version, at most 53
// MiB with 3.
//
// Loading is bounded: each load runs on its own thread, and a load that has
// not finished after load_timeout (a FIFO, a hung network file system) marks
// the version FAILED and is abandoned: its thread is left to return whenever
// the file system lets it (counted as stuck meanwhile), and Reload, Pin and
// shutdown go on. CancelLoads() stops every wait at once (shutdown).
//
// A FAILED version is tried again when its files change (names, sizes and
// modification times; e.g. a version directory created before its files were
// copied in), at most once per retry_backoff, doubling after each failure.
// Each scan also reports a serving version whose directory was deleted (the
// loaded copy keeps serving) and removes `.staging-*` directories older than
// staging_max_age (left by a publisher that was killed).
//
//   ModelStoreOptions options;
//   options.store_dir = "models";
//   RECSYS_ASSIGN_OR_RETURN(auto store,
//       ModelStore::Create(options, LoadModelVersion, &observer));
//   store->Reload();            // first load (NOT_FOUND if nothing to serve)
//   store->StartWatching();     // inotify + polling in a background thread
//   std::shared_ptr<const ModelVersion> model = store->Current();
//
// Thread-safe: every method may be called from any thread. Loads and swaps
// are serialized; Current() never waits for a load.
#ifndef RECSYS_MODEL_STORE_MODEL_STORE_H_
#define RECSYS_MODEL_STORE_MODEL_STORE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "model_store/dir_watcher.h"
#include "model_store/model_version.h"
#include "model_store/version_selector.h"

namespace recsys {

struct ModelStoreOptions {
  // Root of the model store; versions live in <store_dir>/<model_name>/<N>/.
  // Required.
  std::string store_dir;
  // Name of the model to serve. Default "santander".
  std::string model_name = "santander";
  // How often the watcher rescans even without a file-system event.
  // Default 10 s.
  absl::Duration poll_interval = absl::Seconds(10);
  // Also react to inotify events on the model directory. Default true.
  bool use_inotify = true;
  // A load not finished after this long is abandoned and its version
  // FAILED. Default 60 s.
  absl::Duration load_timeout = absl::Seconds(60);
  // Least delay before a FAILED version whose files changed is tried again;
  // doubled after each further failure, up to 64 times. Default 2 s.
  absl::Duration retry_backoff = absl::Seconds(2);
  // `.staging-*` directories older than this are removed at each scan.
  // Default 1 h.
  absl::Duration staging_max_age = absl::Hours(1);
  // Save Pin/Unpin/Rollback in serving_policy.json and follow that file.
  // Default true.
  bool persist_policy = true;
  // Most versions kept in memory, >= 1 (see the file comment): the champion
  // and the challenger always, then the newest other loaded versions up to
  // this many in all; older ones are unloaded. Each costs a whole loaded
  // bundle of memory. Default 3.
  int max_loaded_versions = 3;
};

// The file, in <store_dir>/<model_name>/, that keeps the serving policy:
// {"policy": "latest"} or {"policy": "pinned", "version": 3, "set_by":
// "pin" | "rollback", "updated_at": "2026-01-01T00:00:00Z"}, either with an
// optional "challenger": {"version": 4, "share": 0.1} (share in (0, 1]).
inline constexpr char kServingPolicyFile[] = "serving_policy.json";

enum class VersionState {
  kLoading,   // being loaded and validated
  kReady,     // loaded and valid, kept for an instant rollback
  kServing,   // answering requests
  kFailed,    // a loading step failed; see reason
  kUnloaded,  // on disk, not in memory
  kChallenger,  // answering the challenger's share of the customers
};

// "LOADING", "READY", "SERVING", "FAILED", "UNLOADED", "CHALLENGER".
const char* VersionStateName(VersionState state);

struct VersionStatus {
  int64_t version = 0;
  VersionState state = VersionState::kUnloaded;
  std::string reason;    // why it failed; empty otherwise
  absl::Time loaded_at;  // when it was loaded (InfinitePast if never)
  bool pinned = false;   // the policy pins this version
};

// What one Reload() did.
struct ReloadReport {
  int64_t serving_version = 0;   // 0 when nothing serves
  int64_t previous_version = 0;  // serving before the reload (0 if none)
  std::vector<int64_t> loaded;   // versions newly loaded
  std::vector<std::pair<int64_t, std::string>> failed;  // newly failed
  // FAILED versions tried again because their files changed.
  std::vector<int64_t> retried;
  // The serving version's directory is gone (the loaded copy serves on).
  bool serving_deleted = false;
};

// What answers requests now: the champion (null before the first load) and
// the challenger with its share (null and 0 when there is none).
struct ServingModels {
  std::shared_ptr<const ModelVersion> champion;
  std::shared_ptr<const ModelVersion> challenger;
  double challenger_share = 0;
};

// Receives store events, e.g. for logs and metrics. Called from the thread
// that loads; implementations must be thread-safe and quick.
class ModelStoreObserver {
 public:
  virtual ~ModelStoreObserver() = default;
  virtual void OnLoaded(const ModelVersion& version, absl::Duration took) {}
  virtual void OnLoadFailed(int64_t version, const absl::Status& status,
                            absl::Duration took) {}
  // `previous` is 0 when nothing served before.
  virtual void OnServing(const ModelVersion& version, int64_t previous) {}
  // Loads running now, and how many of them are past load_timeout and
  // abandoned (their threads not returned). Called on every change, from
  // any thread (also an abandoned load's), never after the store is gone.
  virtual void OnLoadThreads(int in_progress, int stuck) {}
  // The challenger is now `version` with `share` of the customers, or
  // (null, 0) there is none any more.
  virtual void OnChallenger(const ModelVersion* version, double share) {}
  // The directory of the serving `version` was deleted (true), or serves
  // again / another version serves (false).
  virtual void OnServingDeleted(int64_t version, bool deleted) {}
  // Something an operator should read: a stale staging directory removed, a
  // policy file ignored or not saved, a failed version retried.
  virtual void OnNotice(const std::string& text) {}
};

// Loads the bundle in `dir` as version `version`; see LoadModelVersion().
using VersionLoader =
    std::function<absl::StatusOr<std::shared_ptr<const ModelVersion>>(
        const std::string& dir, int64_t version)>;

class ModelStore {
 public:
  // Returns INVALID_ARGUMENT when store_dir or model_name is empty or a
  // duration is not positive. Loads nothing yet. `observer` may be null; if set it must outlive the store.
  static absl::StatusOr<std::unique_ptr<ModelStore>> Create(
      const ModelStoreOptions& options, VersionLoader loader,
      ModelStoreObserver* observer);
  ~ModelStore();  // Stops the watcher.
  ModelStore(const ModelStore&) = delete;
  ModelStore& operator=(const ModelStore&) = delete;

  // The serving version, or null before the first successful load.
  std::shared_ptr<const ModelVersion> Current() const ABSL_LOCKS_EXCLUDED(mu_);

  // The champion and the challenger, read together under one lock (so a
  // batch never sees half of a change).
  ServingModels Serving() const ABSL_LOCKS_EXCLUDED(mu_);

  // Makes `version` the challenger answering `share` of the customers
  // (loading it if needed) and saves it in the policy; replaces a previous
  // challenger. INVALID_ARGUMENT for a share outside (0, 1]; NOT_FOUND
  // ("challenger version 9 of 'santander' is not in models") for a version
  // not on disk; FAILED_PRECONDITION naming the version when it is the
  // champion or fails to load (with the load error). On error nothing
  // changes.
  absl::Status SetChallenger(int64_t version, double share)
      ABSL_LOCKS_EXCLUDED(reload_mu_, mu_);

  // Removes the challenger (everybody gets the champion) and saves that.
  // Returns the version that was the challenger (0 if none).
  int64_t ClearChallenger() ABSL_LOCKS_EXCLUDED(reload_mu_, mu_);

  // Scans the model directory now and applies the policy: loads the newest
  // version not yet tried (latest), or the pinned one. Returns what changed;
  // NOT_FOUND when nothing serves afterwards (no version on disk, or none
  // loads), with the failures in the message. A failure of one version is
  // not an error of Reload() while another version serves.
  absl::StatusOr<ReloadReport> Reload() ABSL_LOCKS_EXCLUDED(reload_mu_, mu_);

  // Serves `version` (loading it if needed) and keeps it until Unpin(), also
  // across restarts (serving_policy.json; should saving fail, the pin holds
  // in memory and OnNotice says so). NOT_FOUND if it is not on disk; the load
  // error if it fails to load (the serving version stays).
  absl::Status Pin(int64_t version) ABSL_LOCKS_EXCLUDED(reload_mu_, mu_);

  // Returns to the "latest" policy and reloads.
  absl::StatusOr<ReloadReport> Unpin() ABSL_LOCKS_EXCLUDED(reload_mu_, mu_);

  // Serves the version served before the current one and pins it.
  // FAILED_PRECONDITION when there is none.
  absl::StatusOr<int64_t> Rollback() ABSL_LOCKS_EXCLUDED(reload_mu_, mu_);

  // The version in memory that `selector` names: its number, or the
  // champion ("serving", and the routed selector), the newest loaded
  // ("latest"), the pinned one ("pinned"), the challenger ("challenger").
  // Never loads. NOT_FOUND naming the version or label and listing the
  // versions in memory, e.g. "model version 7 of 'santander' is not loaded
  // (loaded: 2, 3)" or "model version \"pinned\" of 'santander': no version
  // is pinned (loaded: 3)". The caller shares ownership of the version.
  absl::StatusOr<std::shared_ptr<const ModelVersion>> Loaded(
      const VersionSelector& selector) const ABSL_LOCKS_EXCLUDED(mu_);
  // The same for a number or label as text (ParseVersionSelector), "" being
  // the champion; INVALID_ARGUMENT for text that is neither, naming
  // "model_version" and the text.
  absl::StatusOr<std::shared_ptr<const ModelVersion>> Loaded(
      absl::string_view version_or_label) const ABSL_LOCKS_EXCLUDED(mu_);

  // The versions in memory, ascending.
  std::vector<int64_t> LoadedVersions() const ABSL_LOCKS_EXCLUDED(mu_);

  // Every version known on disk or in memory, ascending.
  std::vector<VersionStatus> Versions() const ABSL_LOCKS_EXCLUDED(mu_);

  // The pinned version, or nullopt under the "latest" policy.
  std::optional<int64_t> pinned() const ABSL_LOCKS_EXCLUDED(mu_);

  // The options the store was created with.
  const ModelStoreOptions& options() const { return options_; }

  // The directory of `version`: <store_dir>/<model_name>/<version>.
  std::string VersionDir(int64_t version) const;

  // What `version` is: from memory when it is loaded, else from its
  // manifest on disk (a file read: call it off latency-critical threads).
  // NOT_FOUND ("version: no version 9 in the model store") when the store
  // does not know it; ReadManifest's or DescribeManifest's error otherwise.
  absl::StatusOr<VersionDescription> Describe(int64_t version) const
      ABSL_LOCKS_EXCLUDED(mu_);

  // Makes every wait for a load return at once (CANCELLED) and refuses new
  // loads; for shutdown, so that a hung load holds nothing up. Irreversible.
  void CancelLoads();

  // Starts a background thread that calls Reload() on inotify events and
  // every poll_interval. Idempotent.
  void StartWatching() ABSL_LOCKS_EXCLUDED(watch_mu_);
  // Stops and joins it. Idempotent.
  void StopWatching() ABSL_LOCKS_EXCLUDED(watch_mu_);

 private:
  struct Entry {
    VersionState state = VersionState::kUnloaded;
    std::string reason;
    absl::Time loaded_at = absl::InfinitePast();
    std::shared_ptr<const ModelVersion> model;  // set when kReady/kServing
    // When kFailed: the files as they were (DirectoryFingerprint), failures
    // in a row, and the earliest time of the next try.
    std::string fingerprint;
    int failures = 0;
    absl::Time retry_after = absl::InfinitePast();
  };
  struct LoadThreads;  // shared with load threads, which may outlive the store

  ModelStore(const ModelStoreOptions& options, VersionLoader loader,
             ModelStoreObserver* observer);

  // Loads `version` (off mu_) and records the outcome in the entry and in
  // For an explicit request (Pin, SetChallenger) of `version`: NOT_FOUND
  // ("<what> N of 'model' is not in DIR") when it is neither loaded nor in
  // the store; otherwise a FAILED version becomes loadable again.
  absl::Status PrepareRequestedLocked(int64_t version, absl::string_view what)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(reload_mu_) ABSL_LOCKS_EXCLUDED(mu_);
  // `*report` (may be null). Returns the model.
  absl::StatusOr<std::shared_ptr<const ModelVersion>> LoadLocked(
      int64_t version, ReloadReport* report)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(reload_mu_) ABSL_LOCKS_EXCLUDED(mu_);
  // Makes `model` the serving version.
  void ServeLocked(std::shared_ptr<const ModelVersion> model,
                   bool record_served) ABSL_EXCLUSIVE_LOCKS_REQUIRED(reload_mu_)
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<ReloadReport> ReloadLocked()
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(reload_mu_);
  // Runs the loader on its own thread and waits up to load_timeout.
  absl::StatusOr<std::shared_ptr<const ModelVersion>> RunLoader(
      int64_t version);
  // Of the FAILED versions in `versions`, those whose files changed since
  // they failed and whose backoff is over.
  std::vector<int64_t> RetryDueLocked(const std::vector<int64_t>& versions)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(reload_mu_) ABSL_LOCKS_EXCLUDED(mu_);
  // Whether `version` may be loaded now: not FAILED, or in `retry`.
  bool MayLoad(int64_t version, const std::vector<int64_t>& retry)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Follows serving_policy.json when it changed since last read or written.
  void ReadPolicyLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(reload_mu_);
  // Saves the policy (nullopt = latest) and the challenger the policy holds;
  // reports a failure through OnNotice.
  void SavePolicyLocked(std::optional<int64_t> pinned, const char* set_by)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(reload_mu_);
  // Loads the challenger the policy names when it is not loaded yet (a
  // failure is reported and leaves no challenger), and promotes (clears) a
  // challenger that became the champion.
  void ApplyChallengerLocked(ReloadReport* report)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(reload_mu_);
  // Sets the loaded challenger (null = none) and tells the observer.
  void SetChallengerModelLocked(std::shared_ptr<const ModelVersion> model,
                                double share)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(reload_mu_) ABSL_LOCKS_EXCLUDED(mu_);
  // Unloads the versions beyond max_loaded_versions (see the file comment);
  // their models go to `*retired`, to be released after mu_.
  void TrimLoadedLocked(
      std::vector<std::shared_ptr<const ModelVersion>>* retired)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The versions in memory, "2, 3" ("none" when there is none).
  std::string LoadedListLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The versions in memory, oldest first.
  std::vector<int64_t> LoadedVersionsLocked() const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::string PolicyPath() const;
  void Notice(const std::string& text);

  const ModelStoreOptions options_;
  const VersionLoader loader_;
  ModelStoreObserver* const observer_;
  const std::shared_ptr<LoadThreads> threads_;

  // Serializes Reload/Pin/Unpin/Rollback; held while waiting for a load
  // (at most load_timeout).
  absl::Mutex reload_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  // serving_policy.json as last read or written ("" = none yet).
  std::string policy_text_ ABSL_GUARDED_BY(reload_mu_);
  bool serving_deleted_ ABSL_GUARDED_BY(reload_mu_) = false;
  // The challenger the policy names (version 0 = none) and its share.
  int64_t wanted_challenger_ ABSL_GUARDED_BY(reload_mu_) = 0;
  double wanted_share_ ABSL_GUARDED_BY(reload_mu_) = 0;
  // The last challenger version that failed to load (reported once).
  int64_t challenger_failed_ ABSL_GUARDED_BY(reload_mu_) = 0;

  mutable absl::Mutex mu_;
  std::shared_ptr<const ModelVersion> current_ ABSL_GUARDED_BY(mu_);
  std::map<int64_t, Entry> entries_ ABSL_GUARDED_BY(mu_);
  std::vector<int64_t> served_
      ABSL_GUARDED_BY(mu_);  // versions served, oldest first
  std::optional<int64_t> pinned_ ABSL_GUARDED_BY(mu_);
  // The loaded challenger (null: none) and its share.
  std::shared_ptr<const ModelVersion> challenger_ ABSL_GUARDED_BY(mu_);
  double challenger_share_ ABSL_GUARDED_BY(mu_) = 0;

  absl::Mutex watch_mu_;
  std::unique_ptr<DirectoryWatcher> watcher_ ABSL_GUARDED_BY(watch_mu_);
};

}  // namespace recsys

#endif  // RECSYS_MODEL_STORE_MODEL_STORE_H_
