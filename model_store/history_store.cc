#include "model_store/history_store.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <type_traits>
#include <utility>

#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "common/date.h"
#include "common/file_util.h"
#include "common/fnv.h"
#include "common/status_macros.h"

namespace recsys {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

absl::Status WithDir(const std::string& dir, const absl::Status& status) {
  if (status.ok()) return status;
  return absl::Status(status.code(), absl::StrCat(dir, ": ", status.message()));
}

// Reads field `key` of `j` into `*out`, INVALID_ARGUMENT naming it when it
// is missing or of another type.
template <typename T>
absl::Status Field(const json& j, const char* key, T* out) {
  auto it = j.find(key);
  const bool ok =
      it != j.end() &&
      (std::is_same_v<T, std::string> ? it->is_string()
                                      : it->is_number_integer());
  if (!ok) {
    return absl::InvalidArgumentError(absl::StrCat(
        "manifest.json: field '", key, "' missing or not ",
        std::is_same_v<T, std::string> ? "a string" : "an integer"));
  }
  *out = it->get<T>();
  return absl::OkStatus();
}

std::string HistoryRoot(const std::string& store_dir) {
  return (fs::path(store_dir) / kHistoryStoreDir).string();
}

}  // namespace

json HistoryManifestToJson(const HistoryManifest& m) {
  return {{"format_version", m.format_version},
          {"month", m.month},
          {"customers", m.customers},
          {"depth", m.depth},
          {"history_bytes", m.size},
          {"history_fnv1a64", absl::StrFormat("%016x", m.checksum)},
          {"source", m.source},
          {"created_at", m.created_at}};
}

absl::StatusOr<HistoryManifest> HistoryManifestFromJson(const json& j) {
  if (!j.is_object()) {
    return absl::InvalidArgumentError("manifest.json: not a JSON object");
  }
  HistoryManifest m;
  RECSYS_RETURN_IF_ERROR(Field(j, "format_version", &m.format_version));
  if (m.format_version != kHistoryFormatVersion) {
    return absl::FailedPreconditionError(absl::StrCat(
        "manifest.json: format_version ", m.format_version,
        " is not supported by this build (expected ", kHistoryFormatVersion,
        ")"));
  }
  std::string checksum;
  RECSYS_RETURN_IF_ERROR(Field(j, "month", &m.month));
  RECSYS_RETURN_IF_ERROR(Field(j, "customers", &m.customers));
  RECSYS_RETURN_IF_ERROR(Field(j, "depth", &m.depth));
  RECSYS_RETURN_IF_ERROR(Field(j, "history_bytes", &m.size));
  RECSYS_RETURN_IF_ERROR(Field(j, "history_fnv1a64", &checksum));
  RECSYS_RETURN_IF_ERROR(Field(j, "source", &m.source));
  RECSYS_RETURN_IF_ERROR(Field(j, "created_at", &m.created_at));
  auto [ptr, ec] = std::from_chars(
      checksum.data(), checksum.data() + checksum.size(), m.checksum, 16);
  if (ec != std::errc() || ptr != checksum.data() + checksum.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "manifest.json: history_fnv1a64 is not hexadecimal: \"", checksum,
        "\""));
  }
  if (m.customers < 0 || m.size < 0) {
    return absl::InvalidArgumentError(
        "manifest.json: customers and history_bytes must be >= 0");
  }
  if (absl::Status month = ParseMonthIndex(m.month).status(); !month.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("manifest.json: month: ", month.message()));
  }
  return m;
}

absl::StatusOr<std::string> PublishHistory(
    const std::string& store_dir, const ProductHistorySnapshot& snapshot,
    const std::string& source) {
  const fs::path root = HistoryRoot(store_dir);
  const std::string bytes = snapshot.Serialize();
  HistoryManifest m;
  m.month = MonthName(snapshot.target_month());
  m.customers = snapshot.num_customers();
  m.depth = snapshot.depth();
  m.size = static_cast<int64_t>(bytes.size());
  m.checksum = Fnv1a64(bytes);
  m.source = source;
  m.created_at = absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::Now(),
                                  absl::UTCTimeZone());

  std::error_code ec;
  fs::create_directories(root, ec);
  if (ec) {
    return absl::InternalError(
        absl::StrCat("cannot create ", root.string(), ": ", ec.message()));
  }
  const std::string stamp = absl::StrCat(::getpid(), "-", std::time(nullptr));
  const fs::path staging = root / absl::StrCat(".staging-", m.month, "-", stamp);
  const fs::path target = root / m.month;
  fs::remove_all(staging, ec);
  fs::create_directories(staging, ec);
  if (ec) {
    return absl::InternalError(
        absl::StrCat("cannot create ", staging.string(), ": ", ec.message()));
  }
  absl::Status status =
      WriteFileDurably((staging / kHistoryFile).string(), bytes);
  if (status.ok()) {
    status = WriteFileDurably((staging / kManifestFile).string(),
                              HistoryManifestToJson(m).dump(1) + "\n");
  }
  if (status.ok()) status = SyncDirectory(staging.string());
  // A month published before is moved aside first (rename(2) does not
  // replace a non-empty directory); the staging name keeps it out of
  // ListHistoryMonths and lets a later scan remove it if we die here.
  const fs::path old = root / absl::StrCat(".staging-old-", m.month, "-", stamp);
  bool moved_old = false;
  if (status.ok() && fs::exists(target, ec)) {
    if (std::rename(target.c_str(), old.c_str()) != 0) {
      status = absl::InternalError(absl::StrCat(
          "cannot move ", target.string(), " aside: ", std::strerror(errno)));
    } else {
      moved_old = true;
    }
  }
  if (status.ok() && std::rename(staging.c_str(), target.c_str()) != 0) {
    status = absl::InternalError(
        absl::StrCat("cannot rename ", staging.string(), " to ",
                     target.string(), ": ", std::strerror(errno)));
    if (moved_old) std::rename(old.c_str(), target.c_str());
    moved_old = false;
  }
  if (!status.ok()) {
    fs::remove_all(staging, ec);
    return status;
  }
  RECSYS_RETURN_IF_ERROR(SyncDirectory(root.string()));
  if (moved_old) fs::remove_all(old, ec);
  return target.string();
}

absl::StatusOr<std::vector<int>> ListHistoryMonths(
    const std::string& store_dir) {
  const std::string root = HistoryRoot(store_dir);
  std::error_code ec;
  fs::directory_iterator it(root, ec);
  if (ec) {
    return absl::NotFoundError(
        absl::StrCat("no history folder ", root, ": ", ec.message()));
  }
  std::vector<int> months;
  for (const auto& entry : it) {
    absl::StatusOr<int> month =
        ParseMonthIndex(entry.path().filename().string());
    if (month.ok() && entry.is_directory(ec)) months.push_back(*month);
  }
  std::sort(months.begin(), months.end());
  return months;
}

absl::StatusOr<std::shared_ptr<const HistoryVersion>> LoadHistoryVersion(
    const std::string& dir, const BundleReadLimits& limits) {
  BundleReadLimits within = limits;
  if (within.root.empty()) within.root = dir;
  auto version = std::make_shared<HistoryVersion>();
  version->dir = dir;
  absl::StatusOr<int> dir_month =
      ParseMonthIndex(fs::path(dir).filename().string());
  if (!dir_month.ok()) return WithDir(dir, dir_month.status());
  absl::StatusOr<std::string> text =
      ReadBundleFile(absl::StrCat(dir, "/", kManifestFile), -1, within);
  if (!text.ok()) return WithDir(dir, text.status());
  const json j = json::parse(*text, nullptr, /*allow_exceptions=*/false);
  absl::StatusOr<HistoryManifest> manifest = HistoryManifestFromJson(j);
  if (!manifest.ok()) return WithDir(dir, manifest.status());
  version->manifest = *manifest;
  version->month = *ParseMonthIndex(manifest->month);
  if (version->month != *dir_month) {
    return absl::FailedPreconditionError(
        absl::StrCat(dir, ": manifest.json says month ", manifest->month,
                     " but the folder is ", MonthName(*dir_month)));
  }
  absl::StatusOr<std::string> bytes = ReadBundleFile(
      absl::StrCat(dir, "/", kHistoryFile), manifest->size, within);
  if (!bytes.ok()) return WithDir(dir, bytes.status());
  if (Fnv1a64(*bytes) != manifest->checksum) {
    return absl::DataLossError(absl::StrCat(
        dir, ": ", kHistoryFile, " does not match its checksum (",
        bytes->size(), " bytes): truncated or altered"));
  }
  absl::StatusOr<std::shared_ptr<const ProductHistorySnapshot>> snapshot =
      ProductHistorySnapshot::Parse(*bytes);
  if (!snapshot.ok()) return WithDir(dir, snapshot.status());
  if ((*snapshot)->target_month() != version->month ||
      (*snapshot)->num_customers() != manifest->customers ||
      (*snapshot)->depth() != manifest->depth) {
    return absl::FailedPreconditionError(absl::StrCat(
        dir, ": history.bin serves ", MonthName((*snapshot)->target_month()),
        " with ", (*snapshot)->num_customers(), " customers and depth ",
        (*snapshot)->depth(), " but manifest.json says ", manifest->month,
        ", ", manifest->customers, " and ", manifest->depth));
  }
  version->snapshot = *std::move(snapshot);
  version->loaded_at = absl::Now();
  return std::shared_ptr<const HistoryVersion>(std::move(version));
}

HistoryChoice ChooseHistory(const ModelVersion& model,
                            const HistoryVersion* store_version) {
  if (store_version != nullptr &&
      store_version->month >= model.history_month() &&
      store_version->snapshot->depth() >=
          model.featurizer().spec().required_history_months()) {
    return {store_version->snapshot.get(), store_version->month, true};
  }
  return {&model.history(), model.history_month(), false};
}

absl::StatusOr<std::unique_ptr<HistoryStore>> HistoryStore::Create(
    const HistoryStoreOptions& options, HistoryStoreObserver* observer) {
  if (options.store_dir.empty()) {
    return absl::InvalidArgumentError("history store: store_dir is empty");
  }
  if (options.poll_interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("history store: poll_interval must be positive, got ",
                     absl::FormatDuration(options.poll_interval)));
  }
  return std::unique_ptr<HistoryStore>(new HistoryStore(options, observer));
}

HistoryStore::HistoryStore(const HistoryStoreOptions& options,
                           HistoryStoreObserver* observer)
    : options_(options), observer_(observer) {}

HistoryStore::~HistoryStore() { StopWatching(); }

std::shared_ptr<const HistoryVersion> HistoryStore::Current() const {
  absl::MutexLock lock(&mu_);
  return current_;
}

std::string HistoryStore::last_error() const {
  absl::MutexLock lock(&mu_);
  return last_error_;
}

std::string HistoryStore::MonthDir(int month) const {
  return (fs::path(HistoryRoot(options_.store_dir)) / MonthName(month))
      .string();
}

HistoryReloadReport HistoryStore::Reload() {
  absl::MutexLock reload_lock(&reload_mu_);
  HistoryReloadReport report;
  std::shared_ptr<const HistoryVersion> current = Current();
  report.previous_month = current == nullptr ? 0 : current->month;
  report.serving_month = report.previous_month;
  for (const std::string& dir :
       RemoveStaleStaging(options_.store_dir, kHistoryStoreDir,
                          options_.staging_max_age)) {
    if (observer_ != nullptr) {
      observer_->OnHistoryNotice(absl::StrCat(
          "removed ", dir, ": a staging directory older than ",
          absl::FormatDuration(options_.staging_max_age),
          " (left by a publish that did not finish)"));
    }
  }
  absl::StatusOr<std::vector<int>> months =
      ListHistoryMonths(options_.store_dir);
  if (!months.ok()) return report;  // no history published (yet)
  for (auto it = months->rbegin(); it != months->rend(); ++it) {
    const int month = *it;
    if (month < report.previous_month) break;
    const std::string dir = MonthDir(month);
    const std::string files = DirectoryFingerprint(dir);
    if (month == report.previous_month && files == serving_files_) break;
    auto failed = failed_.find(month);
    if (failed != failed_.end() && failed->second == files) continue;
    const absl::Time start = absl::Now();
    absl::StatusOr<std::shared_ptr<const HistoryVersion>> loaded =
        LoadHistoryVersion(dir, options_.limits);
    if (!loaded.ok()) {
      failed_[month] = files;
      report.failed.emplace_back(month, loaded.status().ToString());
      {
        absl::MutexLock lock(&mu_);
        last_error_ = absl::StrCat(MonthName(month), ": ",
                                   loaded.status().ToString());
      }
      if (observer_ != nullptr)
        observer_->OnHistoryLoadFailed(month, loaded.status());
      continue;
    }
    failed_.erase(month);
    serving_files_ = files;
    std::shared_ptr<const HistoryVersion> retired;  // released off the lock
    {
      absl::MutexLock lock(&mu_);
      retired = std::exchange(current_, *loaded);
      last_error_.clear();
    }
    report.serving_month = month;
    if (observer_ != nullptr) {
      observer_->OnHistoryServing(**loaded, report.previous_month,
                                  absl::Now() - start);
    }
    break;
  }
  return report;
}

void HistoryStore::StartWatching() {
  absl::MutexLock lock(&watch_mu_);
  if (watcher_ != nullptr) return;
  watcher_ = std::make_unique<DirectoryWatcher>(
      HistoryRoot(options_.store_dir), options_.poll_interval,
      options_.use_inotify, [this] { (void)Reload(); });
  watcher_->Start();
}

void HistoryStore::StopWatching() {
  std::unique_ptr<DirectoryWatcher> watcher;
  {
    absl::MutexLock lock(&watch_mu_);
    watcher = std::move(watcher_);
  }
  if (watcher != nullptr) watcher->Stop();
}

}  // namespace recsys
