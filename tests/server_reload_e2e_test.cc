// Hot reload under load: while client threads send requests without pause
// (unary Recommend and RecommendStream), new versions are published and two
// broken bundles dropped in (a truncated model.ubj; a manifest with a wrong
// feature_spec_hash). Every request succeeds, answers switch to each new
// version, the broken ones are listed FAILED with their reason while the
// serving version survives them, and Pin / Unpin / Rollback behave.
#include <atomic>
#include <filesystem>
#include <iostream>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "model_store/bundle.h"
#include "tests/server_e2e_util.h"

namespace recsys {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using testing::ServerHarness;

// Client threads that keep calling the server until stopped, and remember
// every failure and every model version that answered.
class Traffic {
 public:
  Traffic(ServerHarness* h, std::vector<RawRecord> customers)
      : h_(h), customers_(std::move(customers)) {}

  void Start() {
    for (int t = 0; t < 2; ++t) {
      threads_.emplace_back([this, t] {
        for (size_t i = t; !stop_.load(); i += 2) {
          const RawRecord& customer = customers_[i % customers_.size()];
          absl::StatusOr<v1::RecommendResponse> top =
              h_->client().Recommend(testing::RequestFor(customer));
          Record(top.ok() ? absl::OkStatus() : top.status(),
                 top.ok() ? top->model_version() : "");
        }
      });
    }
    threads_.emplace_back([this] {
      while (!stop_.load()) {
        std::vector<v1::RecommendStreamRequest> messages(3);
        uint64_t id = 0;
        for (v1::RecommendStreamRequest& m : messages) {
          for (int r = 0; r < 20; ++r, ++id) {
            *m.add_rows() =
                testing::RowFor(customers_[id % customers_.size()], id);
          }
        }
        const testing::StreamOutcome outcome =
            testing::RunStream(h_->stub(), messages);
        const size_t answered = outcome.Results().size();
        absl::Status status = FromGrpcStatus(outcome.status);
        if (status.ok() && answered != id) {
          status = absl::InternalError(
              absl::StrCat(answered, " of ", id, " rows answered"));
        }
        for (const v1::RecommendStreamResponse& r : outcome.responses) {
          Record(absl::OkStatus(), r.model_version());
        }
        if (!status.ok()) Record(status, "");
      }
    });
  }

  void Stop() {
    stop_ = true;
    for (std::thread& t : threads_) t.join();
    threads_.clear();
  }

  // Waits until an answer from `version` arrives after this call.
  bool SawVersionSoon(const std::string& version) {
    {
      absl::MutexLock lock(&mu_);
      last_by_version_.erase(version);
    }
    return testing::WaitFor([&] {
      absl::MutexLock lock(&mu_);
      return last_by_version_.count(version) > 0;
    });
  }

  int64_t calls() {
    absl::MutexLock lock(&mu_);
    return calls_;
  }
  std::vector<std::string> failures() {
    absl::MutexLock lock(&mu_);
    return failures_;
  }
  std::set<std::string> versions() {
    absl::MutexLock lock(&mu_);
    return versions_;
  }

 private:
  void Record(const absl::Status& status, const std::string& version) {
    absl::MutexLock lock(&mu_);
    ++calls_;
    if (!status.ok()) {
      failures_.push_back(status.ToString());
      return;
    }
    versions_.insert(version);
    last_by_version_[version] = calls_;
  }

  ServerHarness* const h_;
  const std::vector<RawRecord> customers_;
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
  absl::Mutex mu_;
  int64_t calls_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<std::string> failures_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> versions_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, int64_t> last_by_version_ ABSL_GUARDED_BY(mu_);
};

class ReloadE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::HarnessOptions options;
    options.poll_interval = absl::Milliseconds(100);
    h_ = ServerHarness::Start(options);
    ASSERT_NE(h_, nullptr);
  }

  // Publishes the fixture's bundle (or the other model) as `version`.
  void Publish(int64_t version,
               std::function<void(nlohmann::json*)> edit = nullptr,
               std::function<absl::Status(const std::string&)> mutate = nullptr,
               bool other_model = false) {
    absl::StatusOr<std::string> dir = testing::InstallBundleWith(
        other_model ? h_->fixture().alt_bundle_dir : h_->fixture().bundle_dir,
        h_->store_dir(), "santander", version, edit, mutate);
    ASSERT_TRUE(dir.ok()) << dir.status();
  }

  // The top-7 scores one customer gets now, and the version that gave them.
  std::pair<std::string, std::vector<double>> Scores(
      const RawRecord& customer) {
    absl::StatusOr<v1::RecommendResponse> top =
        h_->client().Recommend(testing::RequestFor(customer));
    EXPECT_TRUE(top.ok()) << top.status();
    std::vector<double> scores;
    if (top.ok()) {
      for (const v1::Recommendation& r : top->recommendations())
        scores.push_back(r.score());
    }
    return {top.ok() ? top->model_version() : "", scores};
  }

  // The store's view of `version` through ListVersions.
  std::optional<v1::VersionInfo> Listed(const std::string& version) {
    absl::StatusOr<v1::ListVersionsResponse> list = h_->client().ListVersions();
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

  bool BecomesFailed(const std::string& version) {
    return testing::WaitFor([&] {
      std::optional<v1::VersionInfo> info = Listed(version);
      return info.has_value() && info->state() == v1::VERSION_STATE_FAILED;
    });
  }

  std::unique_ptr<ServerHarness> h_;
};

TEST_F(ReloadE2eTest, VersionsSwitchUnderLoadAndBrokenBundlesAreRefused) {
  Traffic traffic(h_.get(), testing::ReadRecords(h_->fixture().test_csv, 100));
  traffic.Start();
  ASSERT_TRUE(traffic.SawVersionSoon("1"));

  // A new version is picked up by the watcher and answers.
  Publish(2);
  EXPECT_TRUE(traffic.SawVersionSoon("2"));
  EXPECT_EQ(Serving(), "2");

  // Broken bundles are refused with their reason; version 2 keeps serving.
  Publish(3, nullptr, [](const std::string& staged) {
    const std::string model = staged + "/" + kModelFile;
    fs::resize_file(model, fs::file_size(model) / 3);
    return absl::OkStatus();
  });
  ASSERT_TRUE(BecomesFailed("3"));
  EXPECT_THAT(Listed("3")->reason(), HasSubstr("model.ubj"));
  Publish(4, [](nlohmann::json* m) {
    (*m)["feature_spec_hash"] = "deadbeefdeadbeef";
  });
  ASSERT_TRUE(BecomesFailed("4"));
  EXPECT_THAT(Listed("4")->reason(), HasSubstr("feature spec hash"));
  EXPECT_EQ(Serving(), "2");
  EXPECT_TRUE(traffic.SawVersionSoon("2"));

  // The next good version, another model, serves: its scores are its own.
  const RawRecord customer = testing::ReadRecords(h_->fixture().test_csv, 1)[0];
  const auto [before_version, before] = Scores(customer);
  Publish(5, nullptr, nullptr, /*other_model=*/true);
  EXPECT_TRUE(traffic.SawVersionSoon("5"));
  const auto [after_version, after] = Scores(customer);
  EXPECT_EQ(before_version, "2");
  EXPECT_EQ(after_version, "5");
  EXPECT_NE(before, after) << "version 5 is another model";

  // Pin holds a version against newer ones, Unpin returns to the latest.
  absl::StatusOr<v1::ServingChange> pinned = h_->client().Pin("2");
  ASSERT_TRUE(pinned.ok()) << pinned.status();
  EXPECT_EQ(pinned->serving_version(), "2");
  EXPECT_EQ(pinned->previous_serving_version(), "5");
  EXPECT_EQ(pinned->policy(), v1::VERSION_POLICY_PINNED);
  EXPECT_TRUE(traffic.SawVersionSoon("2"));
  Publish(6);
  absl::StatusOr<v1::ReloadResponse> reload = h_->client().Reload();
  ASSERT_TRUE(reload.ok()) << reload.status();
  EXPECT_EQ(reload->serving_version(), "2");
  EXPECT_EQ(Serving(), "2");
  EXPECT_TRUE(Listed("2")->pinned());
  EXPECT_EQ(h_->client().Pin("3").status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(h_->client().Pin("77").status().code(),
            absl::StatusCode::kNotFound);
  absl::StatusOr<v1::ServingChange> unpinned = h_->client().Unpin();
  ASSERT_TRUE(unpinned.ok()) << unpinned.status();
  EXPECT_EQ(unpinned->serving_version(), "6");
  EXPECT_EQ(unpinned->policy(), v1::VERSION_POLICY_LATEST);
  EXPECT_TRUE(traffic.SawVersionSoon("6"));

  // Rollback returns to the version served before, and pins it.
  absl::StatusOr<v1::ServingChange> rolled = h_->client().Rollback();
  ASSERT_TRUE(rolled.ok()) << rolled.status();
  EXPECT_EQ(rolled->previous_serving_version(), "6");
  EXPECT_EQ(rolled->serving_version(), "2");
  EXPECT_EQ(rolled->policy(), v1::VERSION_POLICY_PINNED);
  EXPECT_TRUE(traffic.SawVersionSoon("2"));
  ASSERT_TRUE(h_->client().Unpin().ok());
  EXPECT_TRUE(traffic.SawVersionSoon("6"));

  traffic.Stop();
  EXPECT_THAT(traffic.failures(), ::testing::IsEmpty());
  EXPECT_GT(traffic.calls(), 100);
  std::cout << "calls during the reloads: " << traffic.calls() << "\n";
  EXPECT_THAT(traffic.versions(),
              ::testing::IsSupersetOf({"1", "2", "5", "6"}));
  EXPECT_THAT(traffic.versions(), ::testing::Not(::testing::Contains("3")));
  EXPECT_THAT(traffic.versions(), ::testing::Not(::testing::Contains("4")));
  absl::StatusOr<v1::ModelInfo> info = h_->client().GetModelInfo("3");
  EXPECT_TRUE(info.ok())
      << "a failed version is still described from its manifest";
}

TEST_F(ReloadE2eTest, ReloadRpcReportsWhatChanged) {
  Publish(2);
  Publish(3, [](nlohmann::json* m) {
    (*m)["feature_spec_hash"] = "0000000000000000";
  });
  // Whichever of the watcher and this call scans first, the store ends with
  // 2 serving and 3 failed; the call reports the change when it made it.
  absl::StatusOr<v1::ReloadResponse> reload = h_->client().Reload();
  ASSERT_TRUE(reload.ok()) << reload.status();
  EXPECT_EQ(reload->serving_version(), "2");
  for (const v1::VersionInfo& changed : reload->changed()) {
    if (changed.version() == "3") {
      EXPECT_EQ(changed.state(), v1::VERSION_STATE_FAILED);
      EXPECT_THAT(changed.reason(), HasSubstr("feature spec hash"));
    }
  }
  EXPECT_TRUE(BecomesFailed("3"));
  EXPECT_EQ(Serving(), "2");
}

}  // namespace
}  // namespace recsys
