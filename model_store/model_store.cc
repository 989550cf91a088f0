#include "model_store/model_store.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "model_store/bundle.h"

namespace recsys {

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
  return std::unique_ptr<ModelStore>(
      new ModelStore(options, std::move(loader), observer));
}

ModelStore::ModelStore(const ModelStoreOptions& options, VersionLoader loader,
                       ModelStoreObserver* observer)
    : options_(options), loader_(std::move(loader)), observer_(observer) {}

ModelStore::~ModelStore() { StopWatching(); }

std::shared_ptr<const ModelVersion> ModelStore::Current() const {
  absl::MutexLock lock(&mu_);
  return current_;
}

std::optional<int64_t> ModelStore::pinned() const {
  absl::MutexLock lock(&mu_);
  return pinned_;
}

std::string ModelStore::VersionDir(int64_t version) const {
  return absl::StrCat(options_.store_dir, "/", options_.model_name, "/",
                      version);
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
      loader_(VersionDir(version), version);
  const absl::Duration took = absl::Now() - start;
  {
    absl::MutexLock lock(&mu_);
    Entry& entry = entries_[version];
    if (model.ok()) {
      entry.state = VersionState::kReady;
      entry.loaded_at = absl::Now();
      entry.model = *model;
    } else {
      entry.state = VersionState::kFailed;
      entry.reason = model.status().ToString();
    }
  }
  if (model.ok()) {
    if (report != nullptr) report->loaded.push_back(version);
    if (observer_ != nullptr) observer_->OnLoaded(**model, took);
  } else {
    if (report != nullptr)
      report->failed.emplace_back(version, model.status().ToString());
    if (observer_ != nullptr) observer_->OnLoadFailed(version, model.status());
  }
  return model;
}

void ModelStore::ServeLocked(std::shared_ptr<const ModelVersion> model,
                             bool record_served) {
  int64_t previous = 0;
  std::shared_ptr<const ModelVersion> retired;  // released outside the lock
  {
    absl::MutexLock lock(&mu_);
    if (current_ == model) return;
    if (current_ != nullptr) {
      previous = current_->version();
      entries_[previous].state = VersionState::kReady;
    }
    retired = std::move(current_);
    current_ = model;
    entries_[model->version()].state = VersionState::kServing;
    if (record_served) served_.push_back(model->version());
    // Keep in memory only the serving version and the one before it (for an
    // instant rollback); unload the others.
    for (auto& [version, entry] : entries_) {
      if (entry.model == nullptr || version == model->version() ||
          version == previous)
        continue;
      entry.model.reset();
      entry.state = VersionState::kUnloaded;
    }
  }
  if (observer_ != nullptr) observer_->OnServing(*model, previous);
}

absl::StatusOr<ReloadReport> ModelStore::Reload() {
  absl::MutexLock reload_lock(&reload_mu_);
  return ReloadLocked();
}

absl::StatusOr<ReloadReport> ModelStore::ReloadLocked() {
  ReloadReport report;
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
  if (pinned.has_value()) {
    if (*pinned != serving) {
      absl::StatusOr<std::shared_ptr<const ModelVersion>> model =
          LoadLocked(*pinned, &report);
      if (model.ok()) ServeLocked(*model, /*record_served=*/true);
    }
  } else if (on_disk.ok()) {
    // Newest first; a failed version is not retried by the watcher.
    std::vector<int64_t> candidates;
    {
      absl::MutexLock lock(&mu_);
      for (auto it = on_disk->rbegin(); it != on_disk->rend() && *it > serving;
           ++it) {
        if (entries_[*it].state != VersionState::kFailed)
          candidates.push_back(*it);
      }
    }
    for (int64_t v : candidates) {
      absl::StatusOr<std::shared_ptr<const ModelVersion>> model =
          LoadLocked(v, &report);
      if (model.ok()) {
        ServeLocked(*model, /*record_served=*/true);
        break;
      }
    }
  }
  std::shared_ptr<const ModelVersion> now = Current();
  report.serving_version = now == nullptr ? 0 : now->version();
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
  absl::StatusOr<std::vector<int64_t>> on_disk =
      ListVersions(options_.store_dir, options_.model_name);
  bool known = false;
  {
    absl::MutexLock lock(&mu_);
    auto it = entries_.find(version);
    known = it != entries_.end() && it->second.model != nullptr;
  }
  if (!known &&
      (!on_disk.ok() ||
       !std::binary_search(on_disk->begin(), on_disk->end(), version))) {
    return absl::NotFoundError(absl::StrCat("version ", version, " of '",
                                            options_.model_name, "' is not in ",
                                            options_.store_dir));
  }
  {
    absl::MutexLock lock(&mu_);
    // An explicit pin retries a version that failed before.
    Entry& entry = entries_[version];
    if (entry.state == VersionState::kFailed)
      entry.state = VersionState::kUnloaded;
  }
  RECSYS_ASSIGN_OR_RETURN(std::shared_ptr<const ModelVersion> model,
                          LoadLocked(version, nullptr));
  ServeLocked(model, /*record_served=*/true);
  absl::MutexLock lock(&mu_);
  pinned_ = version;
  return absl::OkStatus();
}

absl::StatusOr<ReloadReport> ModelStore::Unpin() {
  absl::MutexLock reload_lock(&reload_mu_);
  {
    absl::MutexLock lock(&mu_);
    pinned_.reset();
  }
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
  return target;
}

void ModelStore::StartWatching() {
  absl::MutexLock lock(&watch_mu_);
  if (watcher_.joinable()) return;
  stop_fd_ = ::eventfd(0, EFD_CLOEXEC);
  const int stop_fd = stop_fd_;
  watcher_ = std::thread([this, stop_fd] { WatchLoop(stop_fd); });
}

void ModelStore::StopWatching() {
  std::thread watcher;
  int stop_fd = -1;
  {
    absl::MutexLock lock(&watch_mu_);
    if (!watcher_.joinable()) return;
    watcher = std::move(watcher_);
    stop_fd = stop_fd_;
    stop_fd_ = -1;
  }
  const uint64_t one = 1;
  (void)!::write(stop_fd, &one, sizeof(one));
  watcher.join();
  ::close(stop_fd);
}

void ModelStore::WatchLoop(int stop_fd) {
  const std::string model_dir =
      absl::StrCat(options_.store_dir, "/", options_.model_name);
  int inotify_fd = -1;
  int watch = -1;
  const int poll_ms =
      static_cast<int>(absl::ToInt64Milliseconds(options_.poll_interval));
  while (true) {
    if (options_.use_inotify && watch < 0) {
      // (Re)arm: the model directory may appear after the server starts.
      if (inotify_fd < 0)
        inotify_fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
      if (inotify_fd >= 0) {
        watch = ::inotify_add_watch(inotify_fd, model_dir.c_str(),
                                    IN_MOVED_TO | IN_CREATE | IN_DELETE |
                                        IN_CLOSE_WRITE | IN_DELETE_SELF |
                                        IN_MOVE_SELF);
      }
    }
    pollfd fds[2] = {{stop_fd, POLLIN, 0}, {inotify_fd, POLLIN, 0}};
    const int n = ::poll(fds, watch >= 0 ? 2 : 1, poll_ms);
    if (n < 0 && errno != EINTR) break;
    if (fds[0].revents & POLLIN) break;
    if (watch >= 0 && (fds[1].revents & POLLIN)) {
      // Drain the events, then let a burst of them settle before scanning.
      alignas(inotify_event) char buf[4096];
      bool self_gone = false;
      while (true) {
        const ssize_t len = ::read(inotify_fd, buf, sizeof(buf));
        if (len <= 0) break;
        for (char* p = buf; p < buf + len;) {
          auto* event = reinterpret_cast<inotify_event*>(p);
          if (event->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED))
            self_gone = true;
          p += sizeof(inotify_event) + event->len;
        }
      }
      if (self_gone) watch = -1;
      pollfd stop = {stop_fd, POLLIN, 0};
      if (::poll(&stop, 1, 200) > 0) break;
    }
    (void)Reload();
  }
  if (inotify_fd >= 0) ::close(inotify_fd);
}

}  // namespace recsys
