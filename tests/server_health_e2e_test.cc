// Health and lifecycle of the prediction server: NOT_SERVING until a model is
// loaded and warmed (also when the first bundle is broken), SERVING once one
// is published and picked up, NOT_SERVING again while draining, with in-flight
// calls allowed to finish; and the recsys-server program itself: --help,
// "listening on" before SERVING, SIGHUP reloads, SIGTERM drains and exits 0.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "client/cli/commands.h"
#include "client/recommender_client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "model_store/bundle.h"
#include "tests/server_e2e_util.h"

extern char** environ;

namespace recsys {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using testing::HealthStatus;
using testing::ServerHarness;
using Health = grpc::health::v1::HealthCheckResponse;

constexpr char kRecommender[] = "santander.recsys.v1.Recommender";
constexpr char kAdmin[] = "santander.recsys.v1.ModelAdmin";

bool HealthIs(ServerHarness& h, HealthStatus want,
              const std::string& service = "") {
  absl::StatusOr<HealthStatus> got = h.Health(service);
  return got.ok() && *got == want;
}

TEST(HealthE2eTest, NotServingUntilAModelIsPublishedThenServing) {
  testing::HarnessOptions options;
  options.install_bundle = false;
  options.poll_interval = absl::Milliseconds(100);
  std::unique_ptr<ServerHarness> h = ServerHarness::Start(options);
  ASSERT_NE(h, nullptr);
  for (const char* service : {"", kRecommender, kAdmin}) {
    EXPECT_TRUE(HealthIs(*h, Health::NOT_SERVING, service)) << service;
  }
  const std::vector<RawRecord> customers =
      testing::ReadRecords(h->fixture().test_csv, 1);
  ASSERT_EQ(customers.size(), 1u);
  EXPECT_EQ(
      h->client().Recommend(testing::RequestFor(customers[0])).status().code(),
      absl::StatusCode::kUnavailable);
  EXPECT_EQ(h->client().GetModelInfo().status().code(),
            absl::StatusCode::kUnavailable);

  // A broken first bundle is refused: still not serving.
  ASSERT_TRUE(testing::InstallBundleWith(
                  h->fixture().bundle_dir, h->store_dir(), "santander", 1,
                  nullptr,
                  [](const std::string& staged) {
                    const std::string model = staged + "/" + kModelFile;
                    fs::resize_file(model, fs::file_size(model) - 100);
                    return absl::OkStatus();
                  })
                  .ok());
  EXPECT_TRUE(testing::WaitFor([&] {
    absl::StatusOr<v1::ListVersionsResponse> versions =
        h->client().ListVersions();
    return versions.ok() && versions->versions_size() == 1 &&
           versions->versions(0).state() == v1::VERSION_STATE_FAILED;
  }));
  EXPECT_TRUE(HealthIs(*h, Health::NOT_SERVING));
  EXPECT_FALSE(h->server().serving());
  {  // `recsys health` (the image's HEALTHCHECK): 1 while not serving.
    std::ostringstream out, err;
    EXPECT_EQ(RunHealth(h->client_options(), "", out, err), kExitFailed);
    EXPECT_THAT(out.str(), HasSubstr("NOT_SERVING")) << err.str();
    std::ostringstream live_out, live_err;
    EXPECT_EQ(RunHealth(h->client_options(), "liveness", live_out, live_err),
              kExitOk)
        << live_err.str();
  }

  // A good one is picked up by the watcher and turns health SERVING.
  ASSERT_TRUE(testing::InstallBundle(h->fixture().bundle_dir, h->store_dir(),
                                     "santander", 2)
                  .ok());
  EXPECT_TRUE(testing::WaitFor([&] { return HealthIs(*h, Health::SERVING); }));
  for (const char* service : {kRecommender, kAdmin}) {
    EXPECT_TRUE(HealthIs(*h, Health::SERVING, service)) << service;
  }
  {  // ... and 0 once a model serves.
    std::ostringstream out, err;
    EXPECT_EQ(RunHealth(h->client_options(), "", out, err), kExitOk)
        << err.str();
    EXPECT_THAT(out.str(), HasSubstr(": SERVING"));
  }
  absl::StatusOr<v1::RecommendResponse> top =
      h->client().Recommend(testing::RequestFor(customers[0]));
  ASSERT_TRUE(top.ok()) << top.status();
  EXPECT_EQ(top->model_version(), "2");
}

TEST(HealthE2eTest, NotServingWhileDrainingWhileInFlightCallsFinish) {
  std::unique_ptr<ServerHarness> h = ServerHarness::Start({});
  ASSERT_NE(h, nullptr);
  ASSERT_TRUE(HealthIs(*h, Health::SERVING));
  const std::vector<RawRecord> customers =
      testing::ReadRecords(h->fixture().test_csv, 2);
  ASSERT_EQ(customers.size(), 2u);

  // Watch health, as a load balancer would.
  auto health = grpc::health::v1::Health::NewStub(h->channel());
  grpc::ClientContext watch_context;
  grpc::health::v1::HealthCheckRequest watch_request;
  auto watch = health->Watch(&watch_context, watch_request);
  Health update;
  ASSERT_TRUE(watch->Read(&update));
  EXPECT_EQ(update.status(), Health::SERVING);

  // A call in flight: a stream with one message answered, not half-closed.
  grpc::ClientContext stream_context;
  auto stream = h->stub()->RecommendStream(&stream_context);
  v1::RecommendStreamRequest message;
  *message.add_rows() = testing::RowFor(customers[0], 0);
  ASSERT_TRUE(stream->Write(message));
  v1::RecommendStreamResponse response;
  ASSERT_TRUE(stream->Read(&response));

  std::thread stopper([&] { h->server().Shutdown(); });
  // Health turns NOT_SERVING while the stream is still open...
  ASSERT_TRUE(watch->Read(&update));
  EXPECT_EQ(update.status(), Health::NOT_SERVING);
  EXPECT_FALSE(h->server().serving());
  // New calls are refused...
  absl::StatusOr<v1::RecommendResponse> refused =
      h->client().Recommend(testing::RequestFor(customers[0]));
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(refused.status().message(), HasSubstr("shutting down"));
  // ...while the call in flight can still be used and finish cleanly.
  *message.mutable_rows(0) = testing::RowFor(customers[1], 1);
  ASSERT_TRUE(stream->Write(message));
  ASSERT_TRUE(stream->Read(&response));
  ASSERT_EQ(response.results_size(), 1);
  EXPECT_EQ(response.results(0).row_id(), 1u);
  EXPECT_TRUE(response.results(0).has_recommendations());
  ASSERT_TRUE(stream->WritesDone());
  EXPECT_FALSE(stream->Read(&response));
  const grpc::Status finished = stream->Finish();
  EXPECT_TRUE(finished.ok()) << finished.error_message();
  watch_context.TryCancel();
  while (watch->Read(&update)) {
  }
  watch->Finish();
  stopper.join();
  // Stopped: nothing answers any more.
  EXPECT_EQ(
      h->client().Recommend(testing::RequestFor(customers[0])).status().code(),
      absl::StatusCode::kUnavailable);
}

// ---- The recsys-server program ------------------------------------------

const std::string kServerBinary = RECSYS_BIN_DIR "/recsys-server";

// Runs `args` with stdout and stderr to `log_path`; returns the pid.
pid_t Spawn(const std::vector<std::string>& args, const std::string& log_path) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  std::vector<char*> argv;
  for (const std::string& a : args)
    argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = -1;
  const int rc =
      posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  return rc == 0 ? pid : -1;
}

std::string ReadLog(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Waits for the process to exit; returns its exit code, or -1 (killed after
// `timeout` or by a signal).
int WaitExit(pid_t pid, absl::Duration timeout) {
  int status = 0;
  const bool exited = testing::WaitFor(
      [&] { return ::waitpid(pid, &status, WNOHANG) == pid; }, timeout);
  if (!exited) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    return -1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(ServerProgramTest, HelpExplainsEveryFlag) {
  const std::string dir = testing::NewTempDir("recsys-server-help");
  const std::string log = dir + "/out.txt";
  const pid_t pid = Spawn({kServerBinary, "--help"}, log);
  ASSERT_GT(pid, 0);
  WaitExit(pid, absl::Seconds(30));
  const std::string text = ReadLog(log);
  for (const char* flag :
       {"--store", "--model", "--host", "--port", "--metrics-port", "--workers",
        "--poll-seconds", "--grace-period", "--max-message-bytes",
        "--max-rows-per-request", "--drift-window", "--drift-min-rows"}) {
    EXPECT_THAT(text, HasSubstr(absl::StrCat(flag, " "))) << flag;
  }
  EXPECT_THAT(text, HasSubstr("SIGTERM"));
  fs::remove_all(dir);
}

TEST(ServerProgramTest, MissingStoreIsAUsageError) {
  const std::string dir = testing::NewTempDir("recsys-server-usage");
  const std::string log = dir + "/out.txt";
  const pid_t pid = Spawn({kServerBinary, "--port=0", "--metrics-port=0"}, log);
  ASSERT_GT(pid, 0);
  EXPECT_EQ(WaitExit(pid, absl::Seconds(30)), 2);
  EXPECT_THAT(ReadLog(log), HasSubstr("--store is required"));
  fs::remove_all(dir);
}

TEST(ServerProgramTest, ServesReloadsOnSighupAndDrainsOnSigterm) {
  absl::StatusOr<testing::TrainedFixture> fixture =
      testing::GetTrainedFixture();
  ASSERT_TRUE(fixture.ok()) << fixture.status();
  const std::string dir = testing::NewTempDir("recsys-server-program");
  const std::string store = dir + "/store";
  ASSERT_TRUE(
      testing::InstallBundle(fixture->bundle_dir, store, "santander", 1).ok());
  const std::string log = dir + "/server.log";
  const pid_t pid =
      Spawn({kServerBinary, "--store=" + store, "--port=0", "--metrics-port=0",
             "--workers=2", "--grace-period=5s"},
            log);
  ASSERT_GT(pid, 0);

  // The log says where it listens.
  int port = 0;
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        const std::string text = ReadLog(log);
        const size_t at = text.find("listening on 127.0.0.1:");
        if (at == std::string::npos) return false;
        const size_t start = at + std::string("listening on 127.0.0.1:").size();
        return absl::SimpleAtoi(
            text.substr(start, text.find('\n', start) - start), &port);
      },
      absl::Seconds(60)))
      << ReadLog(log);
  ClientOptions client_options;
  client_options.server = absl::StrCat("127.0.0.1:", port);
  absl::StatusOr<std::unique_ptr<RecommenderClient>> client =
      RecommenderClient::Create(client_options);
  ASSERT_TRUE(client.ok()) << client.status();
  ASSERT_TRUE(testing::WaitFor([&] {
    absl::StatusOr<v1::ModelInfo> info = (*client)->GetModelInfo();
    return info.ok() && info->version() == "1";
  })) << ReadLog(log);

  // SIGHUP rescans the store.
  ASSERT_TRUE(
      testing::InstallBundle(fixture->bundle_dir, store, "santander", 2).ok());
  ::kill(pid, SIGHUP);
  EXPECT_TRUE(testing::WaitFor([&] {
    absl::StatusOr<v1::ModelInfo> info = (*client)->GetModelInfo();
    return info.ok() && info->version() == "2" &&
           ReadLog(log).find("reload (SIGHUP)") != std::string::npos;
  })) << ReadLog(log);

  // SIGTERM drains and exits 0.
  ::kill(pid, SIGTERM);
  EXPECT_EQ(WaitExit(pid, absl::Seconds(60)), 0);
  const std::string text = ReadLog(log);
  EXPECT_THAT(text, HasSubstr("metrics on 127.0.0.1:"));
  EXPECT_THAT(text, HasSubstr("received SIGTERM"));
  EXPECT_THAT(text, HasSubstr("draining"));
  EXPECT_THAT(text, HasSubstr("stopped"));
  EXPECT_THAT(text, HasSubstr("version 1"));
  EXPECT_LT(text.find("listening on"), text.find("health: SERVING"))
      << "the address is logged before health turns SERVING:\n"
      << text;
  fs::remove_all(dir);
}

}  // namespace
}  // namespace recsys
