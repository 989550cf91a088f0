#include "model_store/model_store.h"

#include <algorithm>
#include <ctime>
#include <exception>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/file_util.h"
#include "common/status_macros.h"
#include "model_store/bundle.h"
#include "nlohmann/json.hpp"

namespace recsys {

// Load threads and their bookkeeping. Shared (shared_ptr) by the store and
// every load thread, because an abandoned thread may return after the store
// is gone: it then touches only this.
struct ModelStore::LoadThreads {
  // One load: its outcome, set by the load thread.
  struct Pending {
    bool done = false;
    bool abandoned = false;  // the waiter gave up (timeout or cancel)
    bool timed_out = false;  // ... because of the timeout (counted stuck)
    absl::StatusOr<std::shared_ptr<const ModelVersion>> result =
        absl::UnknownError("not loaded");
  };

  absl::Mutex mu;
  int in_progress ABSL_GUARDED_BY(mu) = 0;
  int stuck ABSL_GUARDED_BY(mu) = 0;
  bool cancelled ABSL_GUARDED_BY(mu) = false;
  // Reports counts to the observer; cleared by ~ModelStore.
  std::function<void(int, int)> notify ABSL_GUARDED_BY(mu);

  void NotifyLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    if (notify) notify(in_progress, stuck);
  }
};

const char* VersionStateName(VersionState state) {
  switch (state) {
    case VersionState::kLoading:
      return "LOADING";
    case VersionState::kReady:
      return "READY";
    case VersionState::kServing:
      return "SERVING";
    case VersionState::kFailed:
      return "FAILED";
    case VersionState::kUnloaded:
      return "UNLOADED";
    case VersionState::kChallenger:
      return "CHALLENGER";
  }
  return "UNKNOWN";
}

absl::StatusOr<std::unique_ptr<ModelStore>> ModelStore::Create(
    const ModelStoreOptions& options, VersionLoader loader,
    ModelStoreObserver* observer) {
  if (options.store_dir.empty()) {
    return absl::InvalidArgumentError("model store: store_dir is empty");
  }
  if (options.model_name.empty()) {
    return absl::InvalidArgumentError("model store: model_name is empty");
  }
  if (!loader) return absl::InvalidArgumentError("model store: no loader");
  if (options.load_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("model store: load_timeout must be positive, got ",
                     absl::FormatDuration(options.load_timeout)));
  }
  if (options.retry_backoff < absl::ZeroDuration() ||
      options.staging_max_age < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "model store: retry_backoff and staging_max_age must be >= 0");
  }
  if (options.max_loaded_versions < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "model store: max_loaded_versions must be at least 1, got ",
        options.max_loaded_versions));
  }
  return std::unique_ptr<ModelStore>(
      new ModelStore(options, std::move(loader), observer));
}

ModelStore::ModelStore(const ModelStoreOptions& options, VersionLoader loader,
                       ModelStoreObserver* observer)
    : options_(options),
      loader_(std::move(loader)),
      observer_(observer),
      threads_(std::make_shared<LoadThreads>()) {
  if (observer_ != nullptr) {
    absl::MutexLock lock(&threads_->mu);
    threads_->notify = [observer = observer_](int in_progress, int stuck) {
      observer->OnLoadThreads(in_progress, stuck);
    };
  }
}

ModelStore::~ModelStore() {
  CancelLoads();
  StopWatching();
  absl::MutexLock lock(&threads_->mu);
  threads_->notify = nullptr;  // abandoned threads must not call the observer
}

void ModelStore::CancelLoads() {
  absl::MutexLock lock(&threads_->mu);
  threads_->cancelled = true;
}

void ModelStore::Notice(const std::string& text) {
  if (observer_ != nullptr) observer_->OnNotice(text);
}

std::string ModelStore::PolicyPath() const {
  return absl::StrCat(options_.store_dir, "/", options_.model_name, "/",
                      kServingPolicyFile);
}

absl::StatusOr<std::shared_ptr<const ModelVersion>> ModelStore::RunLoader(
    int64_t version) {
  using Pending = LoadThreads::Pending;
  auto pending = std::make_shared<Pending>();
  {
    absl::MutexLock lock(&threads_->mu);
    if (threads_->cancelled) {
      return absl::CancelledError(absl::StrCat(
          "version ", version, " not loaded: the server is shutting down"));
    }
    ++threads_->in_progress;
    threads_->NotifyLocked();
  }
  std::thread([threads = threads_, pending, loader = loader_,
               dir = VersionDir(version), version] {
    absl::StatusOr<std::shared_ptr<const ModelVersion>> result;
    try {
      result = loader(dir, version);
    } catch (const std::exception& e) {  // e.g. std::bad_alloc
      result = absl::InternalError(
          absl::StrCat(dir, ": loading threw an exception: ", e.what()));
    }
    absl::MutexLock lock(&threads->mu);
    --threads->in_progress;
    if (pending->timed_out) --threads->stuck;
    pending->result = std::move(result);
    pending->done = true;
    threads->NotifyLocked();
  }).detach();

  struct Wake {
    LoadThreads* threads;
    Pending* pending;
  } wake{threads_.get(), pending.get()};
  absl::MutexLock lock(&threads_->mu);
  threads_->mu.AwaitWithTimeout(
      absl::Condition(
          +[](Wake* w) ABSL_NO_THREAD_SAFETY_ANALYSIS {
            return w->pending->done || w->threads->cancelled;
          },
          &wake),
      options_.load_timeout);
  if (pending->done) return std::move(pending->result);
  pending->abandoned = true;
  if (threads_->cancelled) {
    return absl::CancelledError(absl::StrCat(
        "load of version ", version, " abandoned: the server is shutting down"));
  }
  pending->timed_out = true;
  ++threads_->stuck;
  threads_->NotifyLocked();
  return absl::DeadlineExceededError(absl::StrCat(
      "load timed out after ", absl::FormatDuration(options_.load_timeout),
      "; the file system may be hung (its thread is abandoned and counted in "
      "recsys_model_store_stuck until it returns)"));
}

std::shared_ptr<const ModelVersion> ModelStore::Current() const {
  absl::MutexLock lock(&mu_);
  return current_;
}

ServingModels ModelStore::Serving() const {
  absl::MutexLock lock(&mu_);
  return ServingModels{current_, challenger_, challenger_share_};
}

std::optional<int64_t> ModelStore::pinned() const {
  absl::MutexLock lock(&mu_);
  return pinned_;
}

std::string ModelStore::VersionDir(int64_t version) const {
  return absl::StrCat(options_.store_dir, "/", options_.model_name, "/",
                      version);
}

absl::StatusOr<VersionDescription> ModelStore::Describe(
    int64_t version) const {
  std::shared_ptr<const ModelVersion> loaded;
  absl::Time loaded_at = absl::InfinitePast();
  {
    absl::MutexLock lock(&mu_);
    const auto it = entries_.find(version);
    if (it == entries_.end()) {
      return absl::NotFoundError(
          absl::StrCat("version: no version ", version, " in the model store"));
    }
    loaded = it->second.model;
    loaded_at = it->second.loaded_at;
  }
  if (loaded != nullptr) {
    VersionDescription out = DescribeVersion(*loaded);
    out.loaded_at = loaded_at;  // as Versions() says it
    return out;
  }
  RECSYS_ASSIGN_OR_RETURN(BundleManifest manifest,
                          ReadManifest(VersionDir(version)));
  return DescribeManifest(manifest, loaded_at);
}

void ModelStore::TrimLoadedLocked(
    std::vector<std::shared_ptr<const ModelVersion>>* retired) {
  const int64_t champion = current_ == nullptr ? 0 : current_->version();
  const int64_t challenger =
      challenger_ == nullptr ? 0 : challenger_->version();
  int kept = (champion != 0 ? 1 : 0) + (challenger != 0 ? 1 : 0);
  // Newest first: the others are kept while there is room.
  for (auto it = entries_.rbegin(); it != entries_.rend(); ++it) {
    Entry& entry = it->second;
    if (entry.model == nullptr || it->first == champion ||
        it->first == challenger)
      continue;
    if (kept < options_.max_loaded_versions) {
      ++kept;
      continue;
    }
    retired->push_back(std::move(entry.model));
    entry.state = VersionState::kUnloaded;
  }
}

std::vector<int64_t> ModelStore::LoadedVersionsLocked() const {
  std::vector<int64_t> out;
  for (const auto& [version, entry] : entries_) {
    if (entry.model != nullptr) out.push_back(version);
  }
  return out;
}

std::string ModelStore::LoadedListLocked() const {
  const std::vector<int64_t> loaded = LoadedVersionsLocked();
  return loaded.empty() ? "none" : absl::StrJoin(loaded, ", ");
}

absl::StatusOr<std::shared_ptr<const ModelVersion>> ModelStore::Loaded(
    const VersionSelector& selector) const {
  using Kind = VersionSelector::Kind;
  absl::MutexLock lock(&mu_);
  std::shared_ptr<const ModelVersion> found;
  std::string why;  // when nothing is found
  switch (selector.kind) {
    case Kind::kRouted:
    case Kind::kServing:
      found = current_;
      if (found == nullptr) why = "no version serves";
      break;
    case Kind::kChallenger:
      found = challenger_;
      if (found == nullptr) why = "there is no challenger";
      break;
    case Kind::kLatest:
      for (auto it = entries_.rbegin(); it != entries_.rend(); ++it) {
        if (it->second.model == nullptr) continue;
        found = it->second.model;
        break;
      }
      if (found == nullptr) why = "no version is loaded";
      break;
    case Kind::kPinned:
      if (!pinned_.has_value()) {
        why = "no version is pinned";
      } else if (auto it = entries_.find(*pinned_);
                 it != entries_.end() && it->second.model != nullptr) {
        found = it->second.model;
      } else {
        why = absl::StrCat("the pinned version ", *pinned_, " is not loaded");
      }
      break;
    case Kind::kNumber:
      if (auto it = entries_.find(selector.number);
          it != entries_.end() && it->second.model != nullptr) {
        found = it->second.model;
      } else {
        return absl::NotFoundError(absl::StrCat(
            "model version ", selector.number, " of '", options_.model_name,
            "' is not loaded (loaded: ", LoadedListLocked(), ")"));
      }
      break;
  }
  if (found != nullptr) return found;
  return absl::NotFoundError(absl::StrCat(
      "model version \"", VersionSelectorText(selector), "\" of '",
      options_.model_name, "': ", why, " (loaded: ", LoadedListLocked(), ")"));
}

absl::StatusOr<std::shared_ptr<const ModelVersion>> ModelStore::Loaded(
    absl::string_view version_or_label) const {
  absl::StatusOr<VersionSelector> selector =
      ParseVersionSelector(version_or_label);
  if (!selector.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("model_version: ", selector.status().message()));
  }
  return Loaded(*selector);
}

std::vector<int64_t> ModelStore::LoadedVersions() const {
  absl::MutexLock lock(&mu_);
  return LoadedVersionsLocked();
}

std::vector<VersionStatus> ModelStore::Versions() const {
  absl::MutexLock lock(&mu_);
  std::vector<VersionStatus> out;
  for (const auto& [version, entry] : entries_) {
    out.push_back({version, entry.state, entry.reason, entry.loaded_at,
                   pinned_.has_value() && *pinned_ == version});
  }
  return out;
}

absl::StatusOr<std::shared_ptr<const ModelVersion>> ModelStore::LoadLocked(
    int64_t version, ReloadReport* report) {
  {
    absl::MutexLock lock(&mu_);
    Entry& entry = entries_[version];
    if (entry.model != nullptr) return entry.model;
    entry.state = VersionState::kLoading;
    entry.reason.clear();
  }
  const absl::Time start = absl::Now();
  absl::StatusOr<std::shared_ptr<const ModelVersion>> model =
      RunLoader(version);
  const absl::Duration took = absl::Now() - start;
  // The files as they were when it failed: a change makes it worth a retry.
  const std::string fingerprint =
      model.ok() ? "" : DirectoryFingerprint(VersionDir(version));
  {
    absl::MutexLock lock(&mu_);
    Entry& entry = entries_[version];
    if (model.ok()) {
      entry.state = VersionState::kReady;
      entry.loaded_at = absl::Now();
      entry.model = *model;
      entry.failures = 0;
    } else {
      entry.state = VersionState::kFailed;
      entry.reason = model.status().ToString();
      entry.fingerprint = fingerprint;
      entry.retry_after =
          absl::Now() + options_.retry_backoff * (1 << std::min(entry.failures, 6));
      ++entry.failures;
    }
  }
  if (model.ok()) {
    if (report != nullptr) report->loaded.push_back(version);
    if (observer_ != nullptr) observer_->OnLoaded(**model, took);
  } else {
    if (report != nullptr)
      report->failed.emplace_back(version, model.status().ToString());
    if (observer_ != nullptr)
      observer_->OnLoadFailed(version, model.status(), took);
  }
  return model;
}

void ModelStore::ServeLocked(std::shared_ptr<const ModelVersion> model,
                             bool record_served) {
  int64_t previous = 0;
  std::shared_ptr<const ModelVersion> retired;  // released outside the lock
  std::vector<std::shared_ptr<const ModelVersion>> unloaded;  // likewise
  bool promoted = false;  // the challenger became the champion
  {
    absl::MutexLock lock(&mu_);
    if (current_ == model) return;
    if (challenger_ != nullptr &&
        challenger_->version() == model->version()) {
      promoted = true;
      challenger_.reset();
      challenger_share_ = 0;
    }
    if (current_ != nullptr) {
      previous = current_->version();
      entries_[previous].state = VersionState::kReady;
    }
    retired = std::move(current_);
    current_ = model;
    entries_[model->version()].state = VersionState::kServing;
    if (record_served) served_.push_back(model->version());
    TrimLoadedLocked(&unloaded);
  }
  if (observer_ != nullptr) observer_->OnServing(*model, previous);
  if (promoted) {
    wanted_challenger_ = 0;
    wanted_share_ = 0;
    if (observer_ != nullptr) observer_->OnChallenger(nullptr, 0);
    Notice(absl::StrCat("version ", model->version(),
                        " was the challenger and now serves as the champion: "
                        "the challenger is cleared"));
    SavePolicyLocked(pinned(), "promote");
  }
}

void ModelStore::SetChallengerModelLocked(
    std::shared_ptr<const ModelVersion> model, double share) {
  std::shared_ptr<const ModelVersion> retired;  // released outside the lock
  std::vector<std::shared_ptr<const ModelVersion>> unloaded;  // likewise
  {
    absl::MutexLock lock(&mu_);
    if (challenger_ != nullptr &&
        (model == nullptr || challenger_->version() != model->version())) {
      Entry& old = entries_[challenger_->version()];
      if (old.state == VersionState::kChallenger)
        old.state = old.model != nullptr ? VersionState::kReady
                                         : VersionState::kUnloaded;
    }
    retired = std::move(challenger_);
    challenger_ = model;
    challenger_share_ = model == nullptr ? 0 : share;
    if (model != nullptr)
      entries_[model->version()].state = VersionState::kChallenger;
    TrimLoadedLocked(&unloaded);
  }
  if (observer_ != nullptr) {
    observer_->OnChallenger(model.get(), model == nullptr ? 0 : share);
  }
}

void ModelStore::ApplyChallengerLocked(ReloadReport* report) {
  std::shared_ptr<const ModelVersion> champion;
  std::shared_ptr<const ModelVersion> loaded;
  double share = 0;
  {
    absl::MutexLock lock(&mu_);
    champion = current_;
    loaded = challenger_;
    share = challenger_share_;
  }
  if (wanted_challenger_ == 0) {
    if (loaded != nullptr) SetChallengerModelLocked(nullptr, 0);
    return;
  }
  if (champion != nullptr && champion->version() == wanted_challenger_) {
    Notice(absl::StrCat("version ", wanted_challenger_,
                        " was the challenger and now serves as the champion: "
                        "the challenger is cleared"));
    wanted_challenger_ = 0;
    wanted_share_ = 0;
    if (loaded != nullptr) SetChallengerModelLocked(nullptr, 0);
    SavePolicyLocked(pinned(), "promote");
    return;
  }
  if (loaded != nullptr && loaded->version() == wanted_challenger_) {
    if (share != wanted_share_) SetChallengerModelLocked(loaded, wanted_share_);
    return;
  }
  const int64_t version = wanted_challenger_;
  const std::vector<int64_t> retry = RetryDueLocked({version});
  absl::StatusOr<std::shared_ptr<const ModelVersion>> model =
      MayLoad(version, retry)
          ? LoadLocked(version, report)
          : absl::StatusOr<std::shared_ptr<const ModelVersion>>(
                absl::FailedPreconditionError("it failed to load before"));
  if (!model.ok()) {
    if (challenger_failed_ != version) {
      Notice(absl::StrCat("challenger version ", version,
                          " cannot be loaded (", model.status().message(),
                          "): the champion answers every customer until it "
                          "loads or the challenger is cleared"));
      challenger_failed_ = version;
    }
    if (loaded != nullptr) SetChallengerModelLocked(nullptr, 0);
    return;
  }
  challenger_failed_ = 0;
  SetChallengerModelLocked(*model, wanted_share_);
}

absl::Status ModelStore::PrepareRequestedLocked(int64_t version,
                                                absl::string_view what) {
  absl::StatusOr<std::vector<int64_t>> on_disk =
      ListVersions(options_.store_dir, options_.model_name);
  absl::MutexLock lock(&mu_);
  Entry* entry = nullptr;
  if (auto it = entries_.find(version); it != entries_.end()) {
    entry = &it->second;
  }
  const bool known = entry != nullptr && entry->model != nullptr;
  if (!known &&
      (!on_disk.ok() ||
       !std::binary_search(on_disk->begin(), on_disk->end(), version))) {
    return absl::NotFoundError(absl::StrCat(what, " ", version, " of '",
                                            options_.model_name, "' is not in ",
                                            options_.store_dir));
  }
  // An explicit request (pin, challenger) retries a version that failed
  // before.
  if (entry == nullptr) entry = &entries_[version];
  if (entry->state == VersionState::kFailed)
    entry->state = VersionState::kUnloaded;
  return absl::OkStatus();
}

absl::Status ModelStore::SetChallenger(int64_t version, double share) {
  if (!(share > 0 && share <= 1)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "challenger share must be in (0, 1], got ", share));
  }
  absl::MutexLock reload_lock(&reload_mu_);
  std::shared_ptr<const ModelVersion> champion = Current();
  if (champion != nullptr && champion->version() == version) {
    return absl::FailedPreconditionError(absl::StrCat(
        "version ", version,
        " already serves as the champion; a challenger must be another "
        "version"));
  }
  RECSYS_RETURN_IF_ERROR(PrepareRequestedLocked(version, "challenger version"));
  absl::StatusOr<std::shared_ptr<const ModelVersion>> model =
      LoadLocked(version, nullptr);
  if (!model.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("challenger version ", version,
                     " cannot be loaded: ", model.status().message()));
  }
  wanted_challenger_ = version;
  wanted_share_ = share;
  challenger_failed_ = 0;
  SetChallengerModelLocked(*model, share);
  SavePolicyLocked(pinned(), "challenger");
  return absl::OkStatus();
}

int64_t ModelStore::ClearChallenger() {
  absl::MutexLock reload_lock(&reload_mu_);
  int64_t was = 0;
  {
    absl::MutexLock lock(&mu_);
    if (challenger_ != nullptr) was = challenger_->version();
  }
  if (was == 0) was = wanted_challenger_;
  wanted_challenger_ = 0;
  wanted_share_ = 0;
  challenger_failed_ = 0;
  SetChallengerModelLocked(nullptr, 0);
  SavePolicyLocked(pinned(), "challenger-clear");
  return was;
}

absl::StatusOr<ReloadReport> ModelStore::Reload() {
  absl::MutexLock reload_lock(&reload_mu_);
  return ReloadLocked();
}

std::vector<int64_t> ModelStore::RetryDueLocked(
    const std::vector<int64_t>& versions) {
  std::vector<std::pair<int64_t, std::string>> failed;
  const absl::Time now = absl::Now();
  {
    absl::MutexLock lock(&mu_);
    for (int64_t v : versions) {
      auto it = entries_.find(v);
      if (it != entries_.end() && it->second.state == VersionState::kFailed &&
          now >= it->second.retry_after)
        failed.emplace_back(v, it->second.fingerprint);
    }
  }
  std::vector<int64_t> due;
  for (const auto& [v, fingerprint] : failed) {
    const std::string files = DirectoryFingerprint(VersionDir(v));
    if (!files.empty() && files != fingerprint) due.push_back(v);
  }
  return due;
}

bool ModelStore::MayLoad(int64_t version, const std::vector<int64_t>& retry) {
  if (std::find(retry.begin(), retry.end(), version) != retry.end())
    return true;
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(version);
  return it == entries_.end() || it->second.state != VersionState::kFailed;
}

void ModelStore::ReadPolicyLocked() {
  if (!options_.persist_policy) return;
  const std::string path = PolicyPath();
  absl::StatusOr<std::string> text = ReadFileToString(path);
  if (!text.ok()) {
    if (text.status().code() != absl::StatusCode::kNotFound &&
        policy_text_ != text.status().ToString()) {
      Notice(absl::StrCat("cannot read the serving policy: ",
                          text.status().message(), "; keeping the policy"));
      policy_text_ = text.status().ToString();
    }
    return;
  }
  if (*text == policy_text_) return;
  policy_text_ = *text;
  const nlohmann::json j =
      nlohmann::json::parse(*text, /*cb=*/nullptr, /*allow_exceptions=*/false);
  std::optional<int64_t> pinned;
  int64_t challenger = 0;
  double share = 0;
  std::string why;
  std::string challenger_why;  // why the "challenger" field is refused
  if (j.is_object() && j.contains("challenger")) {
    const nlohmann::json& c = j["challenger"];
    auto v = c.is_object() ? c.find("version") : c.end();
    auto f = c.is_object() ? c.find("share") : c.end();
    if (v == c.end() || !v->is_number_integer() || v->get<int64_t>() <= 0 ||
        f == c.end() || !f->is_number() || !(f->get<double>() > 0) ||
        f->get<double>() > 1) {
      challenger_why = "\"challenger\" needs a positive integer \"version\" and a "
            "\"share\" in (0, 1]";
    } else {
      challenger = v->get<int64_t>();
      share = f->get<double>();
    }
  }
  if (j.is_discarded() || !j.is_object()) {
    why = "not a JSON object";
  } else if (j.value("policy", "") == "latest") {
    pinned.reset();
  } else if (j.value("policy", "") == "pinned") {
    auto v = j.find("version");
    if (v == j.end() || !v->is_number_integer() || v->get<int64_t>() <= 0) {
      why = "\"version\" is not a positive integer";
    } else {
      pinned = v->get<int64_t>();
    }
  } else {
    why = "\"policy\" is neither \"latest\" nor \"pinned\"";
  }
  if (why.empty()) why = challenger_why;
  if (!why.empty()) {
    Notice(absl::StrCat("ignoring ", path, " (", why,
                        "); the policy stays as it is (at start: serve the "
                        "newest version)"));
    return;
  }
  if (challenger != wanted_challenger_ || share != wanted_share_) {
    Notice(challenger != 0
               ? absl::StrCat("serving policy from ", path,
                              ": challenger version ", challenger, " for ",
                              share, " of the customers")
               : absl::StrCat("serving policy from ", path,
                              ": no challenger"));
    wanted_challenger_ = challenger;
    wanted_share_ = share;
  }
  std::optional<int64_t> before;
  {
    absl::MutexLock lock(&mu_);
    before = pinned_;
    pinned_ = pinned;
  }
  if (before != pinned) {
    Notice(pinned.has_value()
               ? absl::StrCat("serving policy from ", path, ": pinned to version ",
                              *pinned, " (set by ", j.value("set_by", "?"),
                              " at ", j.value("updated_at", "?"), ")")
               : absl::StrCat("serving policy from ", path, ": latest"));
  }
}

void ModelStore::SavePolicyLocked(std::optional<int64_t> pinned,
                                  const char* set_by) {
  if (!options_.persist_policy) return;
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
  nlohmann::json j = {{"policy", pinned.has_value() ? "pinned" : "latest"},
                      {"set_by", set_by},
                      {"updated_at", stamp}};
  if (pinned.has_value()) j["version"] = *pinned;
  if (wanted_challenger_ != 0) {
    j["challenger"] = {{"version", wanted_challenger_},
                       {"share", wanted_share_}};
  }
  const std::string text = j.dump(1) + "\n";
  absl::Status saved = WriteFileAtomically(PolicyPath(), text);
  if (saved.ok()) {
    policy_text_ = text;
  } else {
    Notice(absl::StrCat("cannot save the serving policy (", set_by,
                        "): ", saved.message(),
                        "; it holds until this server restarts"));
  }
}

absl::StatusOr<ReloadReport> ModelStore::ReloadLocked() {
  ReloadReport report;
  for (const std::string& dir : RemoveStaleStaging(
           options_.store_dir, options_.model_name, options_.staging_max_age)) {
    Notice(absl::StrCat("removed ", dir, ": a staging directory older than ",
                        absl::FormatDuration(options_.staging_max_age),
                        " (left by a publish that did not finish)"));
  }
  ReadPolicyLocked();
  absl::StatusOr<std::vector<int64_t>> on_disk =
      ListVersions(options_.store_dir, options_.model_name);
  std::optional<int64_t> pinned;
  int64_t serving = 0;
  {
    absl::MutexLock lock(&mu_);
    if (on_disk.ok()) {
      for (int64_t v : *on_disk) entries_.try_emplace(v);
    }
    pinned = pinned_;
    serving = current_ == nullptr ? 0 : current_->version();
  }
  report.previous_version = serving;
  std::vector<int64_t> known;
  if (on_disk.ok()) known = *on_disk;
  if (pinned.has_value() &&
      std::find(known.begin(), known.end(), *pinned) == known.end())
    known.push_back(*pinned);
  const std::vector<int64_t> retry = RetryDueLocked(known);
  auto note_retry = [&](int64_t v) {
    if (std::find(retry.begin(), retry.end(), v) == retry.end()) return;
    report.retried.push_back(v);
    Notice(absl::StrCat("version ", v,
                        " failed before and its files changed: loading it "
                        "again"));
  };
  bool latest = !pinned.has_value();
  if (pinned.has_value() && *pinned != serving) {
    if (MayLoad(*pinned, retry)) {
      note_retry(*pinned);
      absl::StatusOr<std::shared_ptr<const ModelVersion>> model =
          LoadLocked(*pinned, &report);
      if (model.ok()) ServeLocked(*model, /*record_served=*/true);
    }
    // Never leave the server without a model for a pin it cannot honour.
    if (Current() == nullptr) latest = true;
  }
  if (latest && on_disk.ok()) {
    // Newest first; a failed version is retried only when its files change.
    std::vector<int64_t> candidates;
    for (auto it = on_disk->rbegin(); it != on_disk->rend() && *it > serving;
         ++it) {
      if (MayLoad(*it, retry)) candidates.push_back(*it);
    }
    for (int64_t v : candidates) {
      note_retry(v);
      absl::StatusOr<std::shared_ptr<const ModelVersion>> model =
          LoadLocked(v, &report);
      if (model.ok()) {
        ServeLocked(*model, /*record_served=*/true);
        break;
      }
    }
  }
  if (Current() != nullptr) ApplyChallengerLocked(&report);
  std::shared_ptr<const ModelVersion> now = Current();
  report.serving_version = now == nullptr ? 0 : now->version();
  // A serving version whose directory is gone (deleted by hand, or the whole
  // model directory): reported once, and again when it is back.
  report.serving_deleted =
      now != nullptr &&
      (!on_disk.ok() || !std::binary_search(on_disk->begin(), on_disk->end(),
                                            now->version()));
  if (report.serving_deleted != serving_deleted_) {
    serving_deleted_ = report.serving_deleted;
    if (observer_ != nullptr)
      observer_->OnServingDeleted(now == nullptr ? 0 : now->version(),
                                  serving_deleted_);
  }
  if (now == nullptr) {
    std::vector<std::string> reasons;
    for (const auto& [v, why] : report.failed)
      reasons.push_back(absl::StrCat("version ", v, ": ", why));
    if (!on_disk.ok())
      reasons.push_back(std::string(on_disk.status().message()));
    return absl::NotFoundError(absl::StrCat(
        "no model version of '", options_.model_name, "' in ",
        options_.store_dir, " could be served", reasons.empty() ? "" : ": ",
        absl::StrJoin(reasons, "; ")));
  }
  return report;
}

absl::Status ModelStore::Pin(int64_t version) {
  absl::MutexLock reload_lock(&reload_mu_);
  RECSYS_RETURN_IF_ERROR(PrepareRequestedLocked(version, "version"));
  RECSYS_ASSIGN_OR_RETURN(std::shared_ptr<const ModelVersion> model,
                          LoadLocked(version, nullptr));
  ServeLocked(model, /*record_served=*/true);
  {
    absl::MutexLock lock(&mu_);
    pinned_ = version;
  }
  SavePolicyLocked(version, "pin");
  return absl::OkStatus();
}

absl::StatusOr<ReloadReport> ModelStore::Unpin() {
  absl::MutexLock reload_lock(&reload_mu_);
  {
    absl::MutexLock lock(&mu_);
    pinned_.reset();
  }
  SavePolicyLocked(std::nullopt, "unpin");
  return ReloadLocked();
}

absl::StatusOr<int64_t> ModelStore::Rollback() {
  absl::MutexLock reload_lock(&reload_mu_);
  int64_t target = 0;
  {
    absl::MutexLock lock(&mu_);
    const int64_t serving = current_ == nullptr ? 0 : current_->version();
    // The last served version that is not the current one and did not fail.
    for (auto it = served_.rbegin(); it != served_.rend(); ++it) {
      if (*it != serving && entries_[*it].state != VersionState::kFailed) {
        target = *it;
        break;
      }
    }
  }
  if (target == 0) {
    return absl::FailedPreconditionError(
        "no previous good version to roll back to");
  }
  RECSYS_ASSIGN_OR_RETURN(std::shared_ptr<const ModelVersion> model,
                          LoadLocked(target, nullptr));
  {
    absl::MutexLock lock(&mu_);
    // Forget the version rolled back from, so a second rollback goes further
    // back.
    if (!served_.empty()) served_.pop_back();
    while (!served_.empty() && served_.back() != target) served_.pop_back();
    pinned_ = target;
  }
  ServeLocked(model, /*record_served=*/false);
  SavePolicyLocked(target, "rollback");
  return target;
}

void ModelStore::StartWatching() {
  absl::MutexLock lock(&watch_mu_);
  if (watcher_ != nullptr) return;
  watcher_ = std::make_unique<DirectoryWatcher>(
      absl::StrCat(options_.store_dir, "/", options_.model_name),
      options_.poll_interval, options_.use_inotify, [this] { (void)Reload(); });
  watcher_->Start();
}

void ModelStore::StopWatching() {
  std::unique_ptr<DirectoryWatcher> watcher;
  {
    absl::MutexLock lock(&watch_mu_);
    watcher = std::move(watcher_);
  }
  if (watcher != nullptr) watcher->Stop();
}

}  // namespace recsys
