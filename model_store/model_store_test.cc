// ModelStore with a fake loader (no XGBoost): which version serves under the
// "latest" and pinned policies, rollback, failed versions, the watcher, and
// that readers always see a version once one has loaded.
#include "model_store/model_store.h"

#include <atomic>
#include <filesystem>
#include <map>
#include <set>
#include <future>
#include <fstream>
#include <string>
#include <thread>

#include <fcntl.h>
#include <sys/stat.h>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace recsys {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Loads "versions" that are just manifests; versions listed in failures_
// fail with their status. Counts the loads of each version.
class FakeLoader {
 public:
  VersionLoader loader() {
    return [this](const std::string& dir, int64_t version)
               -> absl::StatusOr<std::shared_ptr<const ModelVersion>> {
      absl::MutexLock lock(&mu_);
      ++loads_[version];
      if (hang_.count(version) > 0) {
        // A load blocked in the file system until Release().
        mu_.Await(absl::Condition(&released_));
      }
      if (auto it = failures_.find(version); it != failures_.end())
        return it->second;
      ModelVersion::Parts parts;
      parts.manifest.model_name = "santander";
      parts.manifest.version = version;
      return std::make_shared<const ModelVersion>(std::move(parts));
    };
  }
  void Fail(int64_t version, absl::Status status) {
    absl::MutexLock lock(&mu_);
    failures_[version] = std::move(status);
  }
  void Succeed(int64_t version) {
    absl::MutexLock lock(&mu_);
    failures_.erase(version);
  }
  void Hang(int64_t version) {
    absl::MutexLock lock(&mu_);
    hang_.insert(version);
  }
  void Release() {
    absl::MutexLock lock(&mu_);
    released_ = true;
  }
  int loads(int64_t version) {
    absl::MutexLock lock(&mu_);
    return loads_[version];
  }

 private:
  absl::Mutex mu_;
  std::map<int64_t, absl::Status> failures_ ABSL_GUARDED_BY(mu_);
  std::map<int64_t, int> loads_ ABSL_GUARDED_BY(mu_);
  std::set<int64_t> hang_ ABSL_GUARDED_BY(mu_);
  bool released_ ABSL_GUARDED_BY(mu_) = false;
};

class RecordingObserver : public ModelStoreObserver {
 public:
  void OnLoaded(const ModelVersion& v, absl::Duration) override {
    Add(absl::StrCat("loaded ", v.version()));
  }
  void OnLoadFailed(int64_t v, const absl::Status&, absl::Duration) override {
    Add(absl::StrCat("failed ", v));
  }
  void OnServing(const ModelVersion& v, int64_t previous) override {
    Add(absl::StrCat("serving ", v.version(), " after ", previous));
  }
  void OnLoadThreads(int in_progress, int stuck) override {
    absl::MutexLock lock(&mu_);
    in_progress_ = in_progress;
    stuck_ = stuck;
  }
  void OnServingDeleted(int64_t v, bool deleted) override {
    Add(absl::StrCat(deleted ? "deleted " : "back ", v));
  }
  void OnNotice(const std::string& text) override {
    Add(absl::StrCat("notice: ", text));
  }
  int stuck() {
    absl::MutexLock lock(&mu_);
    return stuck_;
  }
  int in_progress() {
    absl::MutexLock lock(&mu_);
    return in_progress_;
  }
  bool Saw(const std::string& part) {
    for (const std::string& e : events())
      if (e.find(part) != std::string::npos) return true;
    return false;
  }
  std::vector<std::string> events() {
    absl::MutexLock lock(&mu_);
    return events_;
  }

 private:
  void Add(std::string e) {
    absl::MutexLock lock(&mu_);
    events_.push_back(std::move(e));
  }
  absl::Mutex mu_;
  std::vector<std::string> events_ ABSL_GUARDED_BY(mu_);
  int in_progress_ ABSL_GUARDED_BY(mu_) = 0;
  int stuck_ ABSL_GUARDED_BY(mu_) = 0;
};

class ModelStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/model-store-test-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    root_ = pattern;
  }
  void TearDown() override {
    store_.reset();
    std::error_code ec;
    fs::remove_all(root_, ec);
  }

  // A version directory on disk (the fake loader reads nothing from it).
  void AddVersionDir(int64_t version) {
    fs::create_directories(absl::StrCat(root_, "/santander/", version));
  }

  ModelStore& Store(absl::Duration poll = absl::Seconds(10),
                    bool inotify = false) {
    ModelStoreOptions options;
    options.poll_interval = poll;
    options.use_inotify = inotify;
    return Store(options);
  }
  ModelStore& Store(ModelStoreOptions options) {
    options.store_dir = root_;
    store_.reset();
    auto store = ModelStore::Create(options, loader_.loader(), &observer_);
    EXPECT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    return *store_;
  }

  int64_t Serving() {
    std::shared_ptr<const ModelVersion> current = store_->Current();
    return current == nullptr ? 0 : current->version();
  }

  VersionStatus StatusOf(int64_t version) {
    for (const VersionStatus& s : store_->Versions()) {
      if (s.version == version) return s;
    }
    ADD_FAILURE() << "no version " << version;
    return {};
  }

  std::string root_;
  FakeLoader loader_;
  RecordingObserver observer_;
  std::unique_ptr<ModelStore> store_;
};

TEST_F(ModelStoreTest, CreateNeedsAStoreDirectory) {
  EXPECT_EQ(ModelStore::Create({}, loader_.loader(), nullptr).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(ModelStoreTest, NothingOnDiskIsNotFoundAndNothingServes) {
  ModelStore& store = Store();
  EXPECT_EQ(store.Reload().status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store.Current(), nullptr);
}

TEST_F(ModelStoreTest, DescribeNamesAnUnknownVersionAndReadsAFailedOnesFiles) {
  AddVersionDir(1);
  AddVersionDir(2);
  loader_.Fail(2, absl::InternalError("model.ubj: bad checksum"));
  ModelStore& store = Store();
  ASSERT_TRUE(store.Reload().ok());
  absl::StatusOr<VersionDescription> unknown = store.Describe(9);
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(unknown.status().message(), HasSubstr("no version 9"));
  // Version 2 is not in memory: it is described from its manifest, which
  // this directory does not have.
  absl::StatusOr<VersionDescription> failed = store.Describe(2);
  EXPECT_FALSE(failed.ok());
  EXPECT_THAT(failed.status().message(), HasSubstr("manifest.json"));
}

TEST_F(ModelStoreTest, ServesTheLatestVersion) {
  AddVersionDir(1);
  AddVersionDir(2);
  AddVersionDir(3);
  ModelStore& store = Store();
  absl::StatusOr<ReloadReport> report = store.Reload();
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->serving_version, 3);
  EXPECT_EQ(report->previous_version, 0);
  EXPECT_EQ(Serving(), 3);
  EXPECT_EQ(StatusOf(3).state, VersionState::kServing);
  EXPECT_EQ(loader_.loads(1), 0) << "older versions are not loaded needlessly";
  EXPECT_THAT(observer_.events(), ElementsAre("loaded 3", "serving 3 after 0"));
}

TEST_F(ModelStoreTest, FailedVersionIsNotServedAndKeepsItsReason) {
  AddVersionDir(1);
  AddVersionDir(2);
  loader_.Fail(2, absl::DataLossError("model.ubj does not match its checksum"));
  ModelStore& store = Store();
  absl::StatusOr<ReloadReport> report = store.Reload();
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(Serving(), 1);
  ASSERT_EQ(report->failed.size(), 1u);
  EXPECT_EQ(report->failed[0].first, 2);
  EXPECT_EQ(StatusOf(2).state, VersionState::kFailed);
  EXPECT_THAT(StatusOf(2).reason, HasSubstr("checksum"));
}

TEST_F(ModelStoreTest, FailedVersionIsNotRetriedByLaterScans) {
  AddVersionDir(1);
  AddVersionDir(2);
  loader_.Fail(2, absl::FailedPreconditionError("feature spec hash mismatch"));
  ModelStore& store = Store();
  ASSERT_TRUE(store.Reload().ok());
  ASSERT_TRUE(store.Reload().ok());
  EXPECT_EQ(loader_.loads(2), 1);
  EXPECT_EQ(Serving(), 1);
}

TEST_F(ModelStoreTest, OnlyFailedVersionsMeanNothingServes) {
  AddVersionDir(1);
  loader_.Fail(1, absl::DataLossError("truncated"));
  ModelStore& store = Store();
  absl::StatusOr<ReloadReport> report = store.Reload();
  EXPECT_EQ(report.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(report.status().message(), HasSubstr("truncated"));
  EXPECT_EQ(store.Current(), nullptr);
}

TEST_F(ModelStoreTest, NewVersionIsSwappedInWhileHoldersKeepTheOldOne) {
  AddVersionDir(1);
  ModelStore& store = Store();
  ASSERT_TRUE(store.Reload().ok());
  std::shared_ptr<const ModelVersion> in_flight = store.Current();
  AddVersionDir(2);
  ASSERT_TRUE(store.Reload().ok());
  EXPECT_EQ(Serving(), 2);
  EXPECT_EQ(in_flight->version(), 1)
      << "a request keeps the version it started with";
  EXPECT_EQ(StatusOf(1).state, VersionState::kReady);
}

TEST_F(ModelStoreTest, PinHoldsAVersionAgainstNewerOnesUntilUnpin) {
  AddVersionDir(1);
  AddVersionDir(2);
  ModelStore& store = Store();
  ASSERT_TRUE(store.Reload().ok());
  ASSERT_TRUE(store.Pin(1).ok());
  EXPECT_EQ(Serving(), 1);
  EXPECT_EQ(store.pinned(), 1);
  EXPECT_TRUE(StatusOf(1).pinned);
  AddVersionDir(3);
  ASSERT_TRUE(store.Reload().ok());
  EXPECT_EQ(Serving(), 1);
  absl::StatusOr<ReloadReport> unpinned = store.Unpin();
  ASSERT_TRUE(unpinned.ok()) << unpinned.status();
  EXPECT_EQ(Serving(), 3);
  EXPECT_EQ(store.pinned(), std::nullopt);
}

TEST_F(ModelStoreTest, PinOfAnUnknownVersionIsNotFound) {
  AddVersionDir(1);
  ModelStore& store = Store();
  ASSERT_TRUE(store.Reload().ok());
  EXPECT_EQ(store.Pin(7).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Serving(), 1);
}

TEST_F(ModelStoreTest, PinOfAVersionThatFailsKeepsTheServingOne) {
  AddVersionDir(1);
  AddVersionDir(2);
  loader_.Fail(1, absl::DataLossError("truncated"));
  ModelStore& store = Store();
  ASSERT_TRUE(store.Reload().ok());
  EXPECT_EQ(store.Pin(1).code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(Serving(), 2);
  EXPECT_EQ(store.pinned(), std::nullopt);
}

TEST_F(ModelStoreTest, RollbackReturnsToThePreviousVersionAndPinsIt) {
  AddVersionDir(1);
  ModelStore& store = Store();
  ASSERT_TRUE(store.Reload().ok());
  AddVersionDir(2);
  ASSERT_TRUE(store.Reload().ok());
  ASSERT_EQ(Serving(), 2);
  absl::StatusOr<int64_t> back = store.Rollback();
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, 1);
  EXPECT_EQ(Serving(), 1);
  EXPECT_EQ(store.pinned(), 1);
  ASSERT_TRUE(store.Reload().ok());
  EXPECT_EQ(Serving(), 1) << "a scan does not undo a rollback";
  EXPECT_EQ(store.Rollback().status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(ModelStoreTest, RollbackWithNothingBeforeIsFailedPrecondition) {
  AddVersionDir(1);
  ModelStore& store = Store();
  EXPECT_EQ(store.Rollback().status().code(),
            absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(store.Reload().ok());
  EXPECT_EQ(store.Rollback().status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Serving(), 1);
}

TEST_F(ModelStoreTest, CurrentIsNeverNullAfterTheFirstLoad) {
  AddVersionDir(1);
  ModelStore& store = Store();
  ASSERT_TRUE(store.Reload().ok());
  std::atomic<bool> stop{false};
  std::atomic<int64_t> nulls{0}, reads{0};
  std::thread reader([&] {
    while (!stop.load()) {
      if (store.Current() == nullptr) ++nulls;
      ++reads;
    }
  });
  while (reads.load() == 0) std::this_thread::yield();  // the reader runs
  for (int64_t v = 2; v <= 30; ++v) {
    AddVersionDir(v);
    if (v % 3 == 0) loader_.Fail(v, absl::DataLossError("broken"));
    ASSERT_TRUE(store.Reload().ok());
    if (v % 7 == 0) {
      ASSERT_TRUE(store.Rollback().ok());
    }
    if (v % 7 == 1) {
      ASSERT_TRUE(store.Unpin().ok());
    }
  }
  const int64_t before = reads.load();
  while (reads.load() == before) std::this_thread::yield();  // and still runs
  stop = true;
  reader.join();
  EXPECT_EQ(nulls.load(), 0);
  EXPECT_GT(reads.load(), 0);
  EXPECT_NE(Serving() % 3, 0) << "a failed version never serves";
}

TEST_F(ModelStoreTest, WatcherPicksUpANewVersionByPolling) {
  AddVersionDir(1);
  ModelStore& store = Store(absl::Milliseconds(20), /*inotify=*/false);
  ASSERT_TRUE(store.Reload().ok());
  store.StartWatching();
  AddVersionDir(2);
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (Serving() != 2 && absl::Now() < deadline)
    absl::SleepFor(absl::Milliseconds(10));
  EXPECT_EQ(Serving(), 2);
  store.StopWatching();
  store.StopWatching();  // idempotent
}

TEST_F(ModelStoreTest, WatcherPicksUpANewVersionThroughInotify) {
  AddVersionDir(1);
  // A poll interval far beyond the wait: only an inotify event can do it.
  ModelStore& store = Store(absl::Hours(1), /*inotify=*/true);
  ASSERT_TRUE(store.Reload().ok());
  store.StartWatching();
  AddVersionDir(2);
  // The watch is armed by the watcher thread: should it miss the first
  // event, later events in the directory (a scratch folder) trigger the scan.
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  for (int i = 0; Serving() != 2 && absl::Now() < deadline; ++i) {
    absl::SleepFor(absl::Milliseconds(10));
    if (i % 50 == 49) {
      fs::create_directories(absl::StrCat(root_, "/santander/scratch"));
      fs::remove(absl::StrCat(root_, "/santander/scratch"));
    }
  }
  EXPECT_EQ(Serving(), 2);
}

// --- Loads that hang (a FIFO, a hung network file system) -------------------

TEST_F(ModelStoreTest, LoadThatHangsTimesOutFailsAndAnOlderVersionServes) {
  AddVersionDir(1);
  AddVersionDir(2);
  loader_.Hang(2);
  ModelStoreOptions options;
  options.load_timeout = absl::Milliseconds(200);
  ModelStore& store = Store(options);
  absl::StatusOr<ReloadReport> report = store.Reload();
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(Serving(), 1);
  EXPECT_EQ(StatusOf(2).state, VersionState::kFailed);
  EXPECT_THAT(StatusOf(2).reason, HasSubstr("load timed out after 200ms"));
  EXPECT_THAT(StatusOf(2).reason, HasSubstr("file system may be hung"));
  EXPECT_EQ(observer_.stuck(), 1);
  EXPECT_EQ(observer_.in_progress(), 1);
  // The admin path is free again: pin, reload and rollback answer.
  EXPECT_TRUE(store.Pin(1).ok());
  EXPECT_TRUE(store.Reload().ok());
  EXPECT_EQ(loader_.loads(2), 1) << "a stuck version is not loaded again";
  // The file system comes back: the abandoned thread returns, and counts.
  loader_.Release();
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (observer_.in_progress() != 0 && absl::Now() < deadline)
    absl::SleepFor(absl::Milliseconds(5));
  EXPECT_EQ(observer_.stuck(), 0);
  EXPECT_EQ(observer_.in_progress(), 0);
}

TEST_F(ModelStoreTest, CancelLoadsReleasesAReloadWaitingForAHungLoad) {
  AddVersionDir(1);
  loader_.Hang(1);
  ModelStoreOptions options;
  options.load_timeout = absl::Hours(1);
  ModelStore& store = Store(options);
  auto reload = std::async(std::launch::async, [&] { return store.Reload(); });
  while (loader_.loads(1) == 0) absl::SleepFor(absl::Milliseconds(1));
  store.CancelLoads();
  // Without CancelLoads the reload would wait an hour; the bound keeps a
  // regression from hanging the suite.
  ASSERT_EQ(reload.wait_for(std::chrono::seconds(30)),
            std::future_status::ready);
  absl::StatusOr<ReloadReport> report = reload.get();
  EXPECT_EQ(report.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(report.status().message(), HasSubstr("shutting down"));
  EXPECT_EQ(store.Pin(1).code(), absl::StatusCode::kCancelled);
  loader_.Release();
}

TEST_F(ModelStoreTest, StoreDestroyedWhileALoadHangsDoesNotWaitForIt) {
  AddVersionDir(1);
  loader_.Hang(1);
  ModelStoreOptions options;
  options.load_timeout = absl::Milliseconds(50);
  ModelStore& store = Store(options);
  EXPECT_FALSE(store.Reload().ok());
  store_.reset();  // the load thread is still blocked: it must not be joined
  loader_.Release();  // returns into the shared bookkeeping, not the store
  absl::SleepFor(absl::Milliseconds(50));
}

// --- Failed versions that change, deleted and stale directories ------------

TEST_F(ModelStoreTest, FailedVersionIsRetriedWhenItsFilesChange) {
  AddVersionDir(1);
  AddVersionDir(2);  // created, its files not there yet
  loader_.Fail(2, absl::NotFoundError("manifest.json: no such file"));
  ModelStoreOptions options;
  options.retry_backoff = absl::ZeroDuration();
  ModelStore& store = Store(options);
  ASSERT_TRUE(store.Reload().ok());
  ASSERT_EQ(Serving(), 1);
  // A scan with nothing changed does not retry it.
  absl::StatusOr<ReloadReport> same = store.Reload();
  ASSERT_TRUE(same.ok());
  EXPECT_TRUE(same->retried.empty());
  EXPECT_EQ(loader_.loads(2), 1);
  // The files arrive a second later.
  loader_.Succeed(2);
  std::ofstream(absl::StrCat(root_, "/santander/2/manifest.json")) << "{}";
  absl::StatusOr<ReloadReport> report = store.Reload();
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_THAT(report->retried, ElementsAre(2));
  EXPECT_THAT(report->loaded, ElementsAre(2));
  EXPECT_EQ(Serving(), 2);
  EXPECT_TRUE(observer_.Saw("version 2 failed before and its files changed"));
}

TEST_F(ModelStoreTest, RetryOfAChangedFailedVersionWaitsForItsBackoff) {
  AddVersionDir(1);
  AddVersionDir(2);
  loader_.Fail(2, absl::DataLossError("truncated"));
  ModelStoreOptions options;
  options.retry_backoff = absl::Hours(1);
  ModelStore& store = Store(options);
  ASSERT_TRUE(store.Reload().ok());
  std::ofstream(absl::StrCat(root_, "/santander/2/model.ubj")) << "x";
  ASSERT_TRUE(store.Reload().ok());
  EXPECT_EQ(loader_.loads(2), 1);
}

TEST_F(ModelStoreTest, DeletedServingDirectoryIsReportedAndKeepsServing) {
  AddVersionDir(1);
  AddVersionDir(2);
  ModelStore& store = Store();
  ASSERT_TRUE(store.Reload().ok());
  fs::remove_all(absl::StrCat(root_, "/santander/2"));
  absl::StatusOr<ReloadReport> report = store.Reload();
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(report->serving_deleted);
  EXPECT_EQ(Serving(), 2) << "the loaded copy keeps serving";
  EXPECT_TRUE(observer_.Saw("deleted 2"));
  AddVersionDir(2);
  ASSERT_TRUE(store.Reload().ok());
  EXPECT_TRUE(observer_.Saw("back 2"));
}

TEST_F(ModelStoreTest, StaleStagingDirectoriesAreRemovedAtScan) {
  AddVersionDir(1);
  const std::string stale = absl::StrCat(root_, "/santander/.staging-77-1");
  const std::string fresh = absl::StrCat(root_, "/santander/.staging-78-2");
  fs::create_directories(stale + "/sub");
  fs::create_directories(fresh);
  const timespec two_hours_ago[2] = {{::time(nullptr) - 7200, 0},
                                     {::time(nullptr) - 7200, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, stale.c_str(), two_hours_ago, 0), 0);
  ModelStore& store = Store();
  ASSERT_TRUE(store.Reload().ok());
  EXPECT_FALSE(fs::exists(stale));
  EXPECT_TRUE(fs::exists(fresh)) << "a publish may be writing it now";
  EXPECT_TRUE(observer_.Saw(".staging-77-1"));
}

// --- The serving policy survives restarts -----------------------------------

TEST_F(ModelStoreTest, PinIsHonouredByTheNextStoreOnTheSameDirectory) {
  AddVersionDir(1);
  AddVersionDir(2);
  ASSERT_TRUE(Store().Reload().ok());
  ASSERT_TRUE(store_->Pin(1).ok());
  Store();  // a restart
  ASSERT_TRUE(store_->Reload().ok());
  EXPECT_EQ(Serving(), 1);
  EXPECT_EQ(store_->pinned(), 1);
  ASSERT_TRUE(store_->Unpin().ok());
  Store();
  ASSERT_TRUE(store_->Reload().ok());
  EXPECT_EQ(Serving(), 2);
  EXPECT_EQ(store_->pinned(), std::nullopt);
}

TEST_F(ModelStoreTest, RollbackIsHonouredByTheNextStore) {
  AddVersionDir(1);
  ASSERT_TRUE(Store().Reload().ok());
  AddVersionDir(2);
  ASSERT_TRUE(store_->Reload().ok());
  ASSERT_TRUE(store_->Rollback().ok());
  Store();  // kill -9 and restart
  ASSERT_TRUE(store_->Reload().ok());
  EXPECT_EQ(Serving(), 1);
  EXPECT_EQ(store_->pinned(), 1);
}

TEST_F(ModelStoreTest, CorruptPolicyFileIsReportedAndTheNewestServes) {
  AddVersionDir(1);
  AddVersionDir(2);
  std::ofstream(absl::StrCat(root_, "/santander/", kServingPolicyFile))
      << "{\"policy\": \"pinned\", \"vers";
  ASSERT_TRUE(Store().Reload().ok());
  EXPECT_EQ(Serving(), 2);
  EXPECT_EQ(store_->pinned(), std::nullopt);
  EXPECT_TRUE(observer_.Saw("ignoring"));
}

TEST_F(ModelStoreTest, PolicyWrittenByAnotherServerIsFollowedAtTheNextScan) {
  AddVersionDir(1);
  AddVersionDir(2);
  ASSERT_TRUE(Store().Reload().ok());
  ASSERT_EQ(Serving(), 2);
  std::ofstream(absl::StrCat(root_, "/santander/", kServingPolicyFile))
      << R"({"policy": "pinned", "version": 1, "set_by": "pin"})";
  ASSERT_TRUE(store_->Reload().ok());
  EXPECT_EQ(Serving(), 1);
  EXPECT_EQ(store_->pinned(), 1);
}

TEST_F(ModelStoreTest, PinnedVersionThatNoLongerLoadsLetsTheNewestServe) {
  AddVersionDir(1);
  AddVersionDir(2);
  ASSERT_TRUE(Store().Reload().ok());
  ASSERT_TRUE(store_->Pin(1).ok());
  loader_.Fail(1, absl::DataLossError("truncated"));
  Store();
  absl::StatusOr<ReloadReport> report = store_->Reload();
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(Serving(), 2);
  EXPECT_EQ(store_->pinned(), 1) << "the pin stays, for when 1 loads again";
}

// --- Challenger ---

int64_t ChallengerOf(const ModelStore& store) {
  ServingModels serving = store.Serving();
  return serving.challenger == nullptr ? 0 : serving.challenger->version();
}

TEST_F(ModelStoreTest, ChallengerServesBesideTheChampionWhichNeverChanges) {
  AddVersionDir(1);
  AddVersionDir(2);
  ASSERT_TRUE(Store().Reload().ok());
  ASSERT_TRUE(store_->Pin(1).ok());
  ASSERT_TRUE(store_->SetChallenger(2, 0.25).ok());
  const ServingModels serving = store_->Serving();
  ASSERT_NE(serving.champion, nullptr);
  EXPECT_EQ(serving.champion->version(), 1);
  ASSERT_NE(serving.challenger, nullptr);
  EXPECT_EQ(serving.challenger->version(), 2);
  EXPECT_DOUBLE_EQ(serving.challenger_share, 0.25);
  EXPECT_EQ(StatusOf(1).state, VersionState::kServing);
  EXPECT_EQ(StatusOf(2).state, VersionState::kChallenger);
  EXPECT_STREQ(VersionStateName(VersionState::kChallenger), "CHALLENGER");
  ASSERT_TRUE(store_->Reload().ok());
  EXPECT_EQ(Serving(), 1) << "a scan keeps the champion";
  EXPECT_EQ(ChallengerOf(*store_), 2);

  EXPECT_EQ(store_->ClearChallenger(), 2);
  EXPECT_EQ(ChallengerOf(*store_), 0);
  EXPECT_DOUBLE_EQ(store_->Serving().challenger_share, 0);
  EXPECT_EQ(StatusOf(2).state, VersionState::kReady);
  EXPECT_EQ(Serving(), 1);
}

TEST_F(ModelStoreTest, BadChallengersAreRefusedNamingTheVersion) {
  AddVersionDir(1);
  AddVersionDir(2);
  AddVersionDir(3);
  loader_.Fail(3, absl::DataLossError("model.ubj does not match its checksum"));
  ASSERT_TRUE(Store().Reload().ok());
  ASSERT_TRUE(store_->Pin(1).ok());

  absl::Status missing = store_->SetChallenger(9, 0.1);
  EXPECT_EQ(missing.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(missing.message(), HasSubstr("challenger version 9"));

  absl::Status broken = store_->SetChallenger(3, 0.1);
  EXPECT_EQ(broken.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(broken.message(), HasSubstr("challenger version 3"));
  EXPECT_THAT(broken.message(), HasSubstr("checksum"));

  absl::Status champion = store_->SetChallenger(1, 0.1);
  EXPECT_EQ(champion.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(champion.message(), HasSubstr("version 1 already serves"));

  for (double share : {0.0, -0.1, 1.5}) {
    EXPECT_EQ(store_->SetChallenger(2, share).code(),
              absl::StatusCode::kInvalidArgument)
        << share;
  }
  EXPECT_EQ(ChallengerOf(*store_), 0) << "nothing changed";
  EXPECT_EQ(Serving(), 1);

  // A refused request leaves a challenger already set in place.
  ASSERT_TRUE(store_->SetChallenger(2, 0.1).ok());
  EXPECT_FALSE(store_->SetChallenger(3, 0.1).ok());
  EXPECT_EQ(ChallengerOf(*store_), 2);
}

TEST_F(ModelStoreTest, ChallengerSurvivesARestartLikeAPin) {
  AddVersionDir(1);
  AddVersionDir(2);
  ASSERT_TRUE(Store().Reload().ok());
  ASSERT_TRUE(store_->Pin(1).ok());
  ASSERT_TRUE(store_->SetChallenger(2, 0.1).ok());
  Store();  // a restart
  ASSERT_TRUE(store_->Reload().ok());
  EXPECT_EQ(Serving(), 1);
  EXPECT_EQ(ChallengerOf(*store_), 2);
  EXPECT_DOUBLE_EQ(store_->Serving().challenger_share, 0.1);
  store_->ClearChallenger();
  Store();
  ASSERT_TRUE(store_->Reload().ok());
  EXPECT_EQ(ChallengerOf(*store_), 0);
  EXPECT_EQ(Serving(), 1);
}

TEST_F(ModelStoreTest, ChallengerThatNoLongerLoadsAtRestartLeavesTheChampion) {
  AddVersionDir(1);
  AddVersionDir(2);
  ASSERT_TRUE(Store().Reload().ok());
  ASSERT_TRUE(store_->Pin(1).ok());
  ASSERT_TRUE(store_->SetChallenger(2, 0.1).ok());
  loader_.Fail(2, absl::DataLossError("bad checksum"));
  Store();
  ASSERT_TRUE(store_->Reload().ok());
  EXPECT_EQ(Serving(), 1);
  EXPECT_EQ(ChallengerOf(*store_), 0);
  EXPECT_TRUE(observer_.Saw("challenger version 2 cannot be loaded"));
}

TEST_F(ModelStoreTest, ChallengerPinnedAsChampionIsPromotedAndCleared) {
  AddVersionDir(1);
  AddVersionDir(2);
  ASSERT_TRUE(Store().Reload().ok());
  ASSERT_TRUE(store_->Pin(1).ok());
  ASSERT_TRUE(store_->SetChallenger(2, 0.1).ok());
  ASSERT_TRUE(store_->Pin(2).ok());
  EXPECT_EQ(Serving(), 2);
  EXPECT_EQ(ChallengerOf(*store_), 0);
  EXPECT_EQ(StatusOf(2).state, VersionState::kServing);
  EXPECT_TRUE(observer_.Saw("was the challenger and now serves"));
  Store();  // and it stays promoted after a restart
  ASSERT_TRUE(store_->Reload().ok());
  EXPECT_EQ(Serving(), 2);
  EXPECT_EQ(ChallengerOf(*store_), 0);
}

TEST_F(ModelStoreTest, PolicyFileWithABadChallengerIsIgnored) {
  AddVersionDir(1);
  AddVersionDir(2);
  std::ofstream(absl::StrCat(root_, "/santander/", kServingPolicyFile))
      << R"({"policy": "pinned", "version": 1,
             "challenger": {"version": 2, "share": 7}})";
  ASSERT_TRUE(Store().Reload().ok());
  EXPECT_EQ(ChallengerOf(*store_), 0);
  EXPECT_TRUE(observer_.Saw("\"share\" in (0, 1]"));
}

}  // namespace
}  // namespace recsys

// --- Versions named by requests, and the bound on versions in memory ---

namespace recsys {
namespace {

TEST(VersionSelectorTest, ParsesNumbersAndLabels) {
  using Kind = VersionSelector::Kind;
  EXPECT_TRUE(ParseVersionSelector("")->routed());
  EXPECT_TRUE(ParseVersionSelector("  ")->routed());
  EXPECT_EQ(*ParseVersionSelector("3"), (VersionSelector{Kind::kNumber, 3}));
  EXPECT_EQ(*ParseVersionSelector(" 12 "),
            (VersionSelector{Kind::kNumber, 12}));
  EXPECT_EQ(ParseVersionSelector("serving")->kind, Kind::kServing);
  EXPECT_EQ(ParseVersionSelector("latest")->kind, Kind::kLatest);
  EXPECT_EQ(ParseVersionSelector("pinned")->kind, Kind::kPinned);
  EXPECT_EQ(ParseVersionSelector("challenger")->kind, Kind::kChallenger);
  for (const char* text : {"3", "latest", "serving", "pinned", "challenger"})
    EXPECT_EQ(VersionSelectorText(*ParseVersionSelector(text)), text);
  EXPECT_EQ(VersionSelectorText({}), "");
}

TEST(VersionSelectorTest, RefusesOtherTextQuotingIt) {
  for (const char* text : {"abc", "-1", "0", "+3", "3.0", "Latest", "1e3",
                           "99999999999999999999"}) {
    absl::StatusOr<VersionSelector> parsed = ParseVersionSelector(text);
    ASSERT_FALSE(parsed.ok()) << text;
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(parsed.status().message(),
                HasSubstr(absl::StrCat("got \"", text, "\"")));
  }
}

int64_t VersionOf(
    const absl::StatusOr<std::shared_ptr<const ModelVersion>>& model) {
  return model.ok() ? (*model)->version() : -1;
}

TEST_F(ModelStoreTest, CreateRefusesABoundBelowOne) {
  ModelStoreOptions options;
  options.store_dir = root_;
  options.max_loaded_versions = 0;
  absl::StatusOr<std::unique_ptr<ModelStore>> store =
      ModelStore::Create(options, loader_.loader(), nullptr);
  EXPECT_EQ(store.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(store.status().message(), HasSubstr("max_loaded_versions"));
}

TEST_F(ModelStoreTest, OlderVersionsBeyondTheBoundAreUnloadedNewestKept) {
  ModelStoreOptions options;
  options.max_loaded_versions = 2;
  ModelStore& store = Store(options);
  for (int64_t v : {1, 2, 3}) {  // published one after the other
    AddVersionDir(v);
    ASSERT_TRUE(store.Reload().ok());
  }
  EXPECT_EQ(Serving(), 3);
  EXPECT_EQ(StatusOf(2).state, VersionState::kReady);
  EXPECT_EQ(StatusOf(1).state, VersionState::kUnloaded);
  EXPECT_THAT(store.LoadedVersions(), ElementsAre(2, 3));
  EXPECT_EQ(VersionOf(store.Loaded("2")), 2);
  absl::StatusOr<std::shared_ptr<const ModelVersion>> gone = store.Loaded("1");
  EXPECT_EQ(gone.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(gone.status().message(),
              HasSubstr("model version 1 of 'santander' is not loaded "
                        "(loaded: 2, 3)"));
}

TEST_F(ModelStoreTest, TheDefaultBoundKeepsThreeVersions) {
  ModelStore& store = Store();
  for (int64_t v : {1, 2, 3, 4}) {
    AddVersionDir(v);
    ASSERT_TRUE(store.Reload().ok());
  }
  EXPECT_EQ(store.options().max_loaded_versions, 3);
  EXPECT_THAT(store.LoadedVersions(), ElementsAre(2, 3, 4));
}

TEST_F(ModelStoreTest, ChampionAndChallengerAreKeptWhateverTheBound) {
  ModelStoreOptions options;
  options.max_loaded_versions = 1;
  ModelStore& store = Store(options);
  for (int64_t v : {1, 2, 3}) {
    AddVersionDir(v);
    ASSERT_TRUE(store.Reload().ok());
  }
  EXPECT_THAT(store.LoadedVersions(), ElementsAre(3));
  ASSERT_TRUE(store.Pin(1).ok());
  ASSERT_TRUE(store.SetChallenger(2, 0.5).ok());
  EXPECT_THAT(store.LoadedVersions(), ElementsAre(1, 2));
  EXPECT_EQ(StatusOf(3).state, VersionState::kUnloaded);
  // A rollback finds its version on disk again.
  ASSERT_TRUE(store.Rollback().ok());
  EXPECT_EQ(Serving(), 3);
}

TEST_F(ModelStoreTest, LabelsNameTheChampionTheNewestThePinAndTheChallenger) {
  AddVersionDir(1);
  ModelStore& store = Store();
  ASSERT_TRUE(store.Reload().ok());
  AddVersionDir(2);
  AddVersionDir(3);
  ASSERT_TRUE(store.Reload().ok());  // 3 serves, 1 kept from before
  EXPECT_EQ(VersionOf(store.Loaded("serving")), 3);
  EXPECT_EQ(VersionOf(store.Loaded("")), 3);
  EXPECT_EQ(VersionOf(store.Loaded("latest")), 3);
  EXPECT_EQ(VersionOf(store.Loaded("1")), 1);
  absl::StatusOr<std::shared_ptr<const ModelVersion>> pinned =
      store.Loaded("pinned");
  EXPECT_EQ(pinned.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(pinned.status().message(),
              HasSubstr("model version \"pinned\" of 'santander': no version "
                        "is pinned (loaded: 1, 3)"));
  absl::StatusOr<std::shared_ptr<const ModelVersion>> challenger =
      store.Loaded("challenger");
  EXPECT_EQ(challenger.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(challenger.status().message(),
              HasSubstr("there is no challenger (loaded: 1, 3)"));
  absl::StatusOr<std::shared_ptr<const ModelVersion>> bad = store.Loaded("-1");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(), HasSubstr("model_version: "));
  EXPECT_THAT(bad.status().message(), HasSubstr("got \"-1\""));

  ASSERT_TRUE(store.Pin(1).ok());
  ASSERT_TRUE(store.SetChallenger(2, 0.2).ok());
  EXPECT_EQ(VersionOf(store.Loaded("pinned")), 1);
  EXPECT_EQ(VersionOf(store.Loaded("serving")), 1);
  EXPECT_EQ(VersionOf(store.Loaded("challenger")), 2);
  EXPECT_EQ(VersionOf(store.Loaded("latest")), 3);
  EXPECT_EQ(store.Loaded("7").status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace recsys
