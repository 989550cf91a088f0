// The model store against an unlucky operator, end to end on a real server:
// a model file that blocks (a FIFO, a hung network file system), one that is
// endless (/dev/zero behind a symlink), a version caught half-written, a
// deleted serving directory, and pin / rollback across a restart.
//
// A regression here used to hang (a load that never returns) or crash the
// test binary (std::bad_alloc): a watchdog turns a hang into a failure.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "model_store/bundle.h"
#include "model_store/model_version.h"
#include "tests/server_e2e_util.h"

namespace recsys {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using testing::ServerHarness;

// Ends the process with a failure if not disarmed within `limit`: a hang is
// a test failure, not a stuck CI job.
class Watchdog {
 public:
  Watchdog(std::string what, absl::Duration limit)
      : thread_([this, what = std::move(what), limit] {
          if (!done_.WaitForNotificationWithTimeout(limit)) {
            std::fprintf(stderr, "WATCHDOG: %s did not finish within %s\n",
                         what.c_str(), absl::FormatDuration(limit).c_str());
            std::_Exit(3);
          }
        }) {}
  ~Watchdog() {
    done_.Notify();
    thread_.join();
  }

 private:
  absl::Notification done_;
  std::thread thread_;
};

std::string VersionDir(const std::string& store, int64_t version) {
  return absl::StrCat(store, "/santander/", version);
}

class StoreE2eTest : public ::testing::Test {
 protected:
  // Starts a server (under a watchdog: before the fixes, start-up hung or
  // crashed on these stores).
  void StartServer(testing::HarnessOptions options) {
    Watchdog watchdog("server start", absl::Minutes(3));
    h_ = ServerHarness::Start(options);
    ASSERT_NE(h_, nullptr);
  }

  std::optional<v1::VersionInfo> Listed(const std::string& version) {
    absl::StatusOr<v1::ListVersionsResponse> list = h_->client().ListVersions();
    EXPECT_TRUE(list.ok()) << list.status();
    if (!list.ok()) return std::nullopt;
    for (const v1::VersionInfo& info : list->versions()) {
      if (info.version() == version) return info;
    }
    return std::nullopt;
  }

  std::string Serving() {
    absl::StatusOr<v1::ListVersionsResponse> list = h_->client().ListVersions();
    return list.ok() ? list->serving_version() : "?";
  }

  // The version that answers a Recommend call now.
  std::string Answering() {
    absl::StatusOr<v1::RecommendResponse> top = h_->client().Recommend(
        testing::RequestFor(testing::ReadRecords(h_->fixture().test_csv, 1)[0]));
    EXPECT_TRUE(top.ok()) << top.status();
    return top.ok() ? top->model_version() : "";
  }

  // Installs the fixture's bundle as `version` in `store`, letting `mutate`
  // change the staged files.
  static void Install(const std::string& bundle, const std::string& store,
                      int64_t version,
                      std::function<absl::Status(const std::string&)> mutate =
                          nullptr) {
    absl::StatusOr<std::string> dir = testing::InstallBundleWith(
        bundle, store, "santander", version, nullptr, std::move(mutate));
    ASSERT_TRUE(dir.ok()) << dir.status();
  }

  std::unique_ptr<ServerHarness> h_;
};

// Item 7: a model file that blocks. The real loader now refuses a FIFO
// before opening it (item 8), so the hang of a network file system, where
// even stat() blocks, is simulated by a loader that opens a FIFO for reading.
TEST_F(StoreE2eTest, LoadThatHangsTimesOutAndReloadPinAndShutdownStillWork) {
  absl::StatusOr<testing::TrainedFixture> fixture = testing::GetTrainedFixture();
  ASSERT_TRUE(fixture.ok()) << fixture.status();
  char pattern[] = "/tmp/recsys-fifo-XXXXXX";
  ASSERT_NE(::mkdtemp(pattern), nullptr);
  const std::string fifo = absl::StrCat(pattern, "/model.ubj");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0644), 0);

  testing::HarnessOptions options;
  options.real_metrics = true;
  options.load_timeout = absl::Seconds(1);
  options.before_start = [&](const std::string& store) {
    Install(fixture->bundle_dir, store, 2);
  };
  options.loader = [fifo](const std::string& dir, int64_t version)
      -> absl::StatusOr<std::shared_ptr<const ModelVersion>> {
    if (version == 2) {
      const int fd = ::open(fifo.c_str(), O_RDONLY);  // blocks: no writer
      if (fd >= 0) ::close(fd);
      return absl::UnavailableError("the file system came back");
    }
    return LoadModelVersion(dir, version);
  };
  StartServer(options);

  // Started with the good version; the stuck one is FAILED with the reason.
  EXPECT_EQ(Serving(), "1");
  EXPECT_EQ(Answering(), "1");
  std::optional<v1::VersionInfo> stuck = Listed("2");
  ASSERT_TRUE(stuck.has_value());
  EXPECT_EQ(stuck->state(), v1::VERSION_STATE_FAILED);
  EXPECT_THAT(stuck->reason(), HasSubstr("load timed out after 1s"));
  EXPECT_THAT(stuck->reason(), HasSubstr("the file system may be hung"));
  const std::string scrape = h_->metrics()->Scrape();
  EXPECT_THAT(scrape, HasSubstr("recsys_model_store_stuck 1"));
  EXPECT_THAT(scrape, HasSubstr("recsys_model_loads_in_progress 1"));

  // The admin path answers while the load thread is still blocked.
  {
    Watchdog watchdog("reload and pin during a hung load", absl::Minutes(2));
    absl::StatusOr<v1::ReloadResponse> reload = h_->client().Reload();
    EXPECT_TRUE(reload.ok()) << reload.status();
    absl::StatusOr<v1::ServingChange> pin = h_->client().Pin("1");
    EXPECT_TRUE(pin.ok()) << pin.status();
  }

  // Shutdown (what SIGTERM runs) returns although the thread is still stuck.
  {
    Watchdog watchdog("Shutdown during a hung load", absl::Minutes(2));
    h_->server().Shutdown();
  }
  // Let the abandoned thread go before the test ends.
  const int writer = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK);
  if (writer >= 0) ::close(writer);
  h_.reset();
  fs::remove_all(pattern);
}

// Item 8: the newest version's model is endless (/dev/zero behind a
// symlink): before the fix the server died of std::bad_alloc at start, and
// again at every restart. Another version's model is a FIFO.
TEST_F(StoreE2eTest, EndlessOrBlockingModelFilesAreRefusedAndAnOlderOneServes) {
  absl::StatusOr<testing::TrainedFixture> fixture = testing::GetTrainedFixture();
  ASSERT_TRUE(fixture.ok()) << fixture.status();
  testing::HarnessOptions options;
  options.before_start = [&](const std::string& store) {
    Install(fixture->bundle_dir, store, 2, [](const std::string& staged) {
      fs::remove(staged + "/" + kModelFile);
      fs::create_symlink("/dev/zero", staged + "/" + kModelFile);
      return absl::OkStatus();
    });
    Install(fixture->bundle_dir, store, 3, [](const std::string& staged) {
      fs::remove(staged + "/" + kModelFile);
      if (::mkfifo((staged + "/" + kModelFile).c_str(), 0644) != 0)
        return absl::InternalError("mkfifo failed");
      return absl::OkStatus();
    });
  };
  StartServer(options);
  EXPECT_EQ(Serving(), "1");
  EXPECT_EQ(Answering(), "1");
  std::optional<v1::VersionInfo> endless = Listed("2");
  ASSERT_TRUE(endless.has_value());
  EXPECT_EQ(endless->state(), v1::VERSION_STATE_FAILED);
  EXPECT_THAT(endless->reason(), HasSubstr("symbolic link to /dev/zero"));
  std::optional<v1::VersionInfo> fifo = Listed("3");
  ASSERT_TRUE(fifo.has_value());
  EXPECT_EQ(fifo->state(), v1::VERSION_STATE_FAILED);
  EXPECT_THAT(fifo->reason(), HasSubstr("model.ubj is a FIFO"));
}

// Item 9: a version directory created before its files were copied in.
TEST_F(StoreE2eTest, HalfWrittenVersionIsLoadedOnceItsFilesArrive) {
  testing::HarnessOptions options;
  options.poll_interval = absl::Milliseconds(100);
  StartServer(options);
  const std::string dir = VersionDir(h_->store_dir(), 2);
  fs::create_directories(dir);
  ASSERT_TRUE(testing::WaitFor([&] {
    std::optional<v1::VersionInfo> info = Listed("2");
    return info.has_value() && info->state() == v1::VERSION_STATE_FAILED;
  }));
  // The files arrive: copied from a bundle installed as version 9 elsewhere.
  const std::string elsewhere = h_->store_dir() + "/../" +
                                fs::path(h_->store_dir()).filename().string() +
                                "-copy";
  Install(h_->fixture().bundle_dir, elsewhere, 2);
  for (const char* file : {kModelFile, kHistoryFile, kManifestFile}) {
    fs::copy_file(VersionDir(elsewhere, 2) + "/" + file, dir + "/" + file);
  }
  fs::remove_all(elsewhere);
  EXPECT_TRUE(testing::WaitFor([&] { return Serving() == "2"; }))
      << "the failed version was not retried after its files changed";
  EXPECT_EQ(Answering(), "2");
}

TEST_F(StoreE2eTest, DeletedServingDirectoryIsReportedAndKeepsServing) {
  testing::HarnessOptions options;
  options.real_metrics = true;
  StartServer(options);
  EXPECT_THAT(h_->metrics()->Scrape(),
              HasSubstr("recsys_serving_model_deleted 0"));
  fs::remove_all(VersionDir(h_->store_dir(), 1));
  absl::StatusOr<v1::ReloadResponse> reload = h_->client().Reload();
  ASSERT_TRUE(reload.ok()) << reload.status();
  EXPECT_THAT(h_->metrics()->Scrape(),
              HasSubstr("recsys_serving_model_deleted 1"));
  EXPECT_EQ(Answering(), "1");
}

// Item 13: pin and rollback are kept in the store and honoured on start.
TEST_F(StoreE2eTest, PinAndRollbackSurviveARestart) {
  testing::HarnessOptions options;
  options.before_start = [](const std::string& store) {
    absl::StatusOr<testing::TrainedFixture> fixture = testing::GetTrainedFixture();
    ASSERT_TRUE(fixture.ok());
    Install(fixture->bundle_dir, store, 2);
  };
  StartServer(options);
  ASSERT_EQ(Serving(), "2");
  absl::StatusOr<v1::ServingChange> pin = h_->client().Pin("1");
  ASSERT_TRUE(pin.ok()) << pin.status();

  // A restart (as after kill -9): a new server on the same store.
  auto restart = [&]() -> std::unique_ptr<RecsysServer> {
    h_->server().Shutdown();
    RecsysServerOptions again;
    again.store_dir = h_->store_dir();
    again.port = 0;
    again.workers = 1;
    absl::StatusOr<std::unique_ptr<RecsysServer>> server =
        RecsysServer::Create(again);
    EXPECT_TRUE(server.ok()) << server.status();
    if (!server.ok()) return nullptr;
    EXPECT_TRUE((*server)->Start().ok());
    return *std::move(server);
  };
  std::unique_ptr<RecsysServer> second = restart();
  ASSERT_NE(second, nullptr);
  ASSERT_NE(second->store()->Current(), nullptr);
  EXPECT_EQ(second->store()->Current()->version(), 1);
  EXPECT_EQ(second->store()->pinned(), 1);
  second->Shutdown();
}

TEST_F(StoreE2eTest, RollbackSurvivesARestart) {
  testing::HarnessOptions options;
  options.poll_interval = absl::Milliseconds(100);
  StartServer(options);
  Install(h_->fixture().bundle_dir, h_->store_dir(), 2);
  ASSERT_TRUE(testing::WaitFor([&] { return Serving() == "2"; }));
  absl::StatusOr<v1::ServingChange> back = h_->client().Rollback();
  ASSERT_TRUE(back.ok()) << back.status();
  ASSERT_EQ(Serving(), "1");
  h_->server().Shutdown();
  RecsysServerOptions again;
  again.store_dir = h_->store_dir();
  again.port = 0;
  again.workers = 1;
  absl::StatusOr<std::unique_ptr<RecsysServer>> server =
      RecsysServer::Create(again);
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_TRUE((*server)->Start().ok());
  ASSERT_NE((*server)->store()->Current(), nullptr);
  EXPECT_EQ((*server)->store()->Current()->version(), 1)
      << "the rolled-back version served again after a restart";
  (*server)->Shutdown();
}

}  // namespace
}  // namespace recsys
