// The history store end to end: a real server with the trained bundle, and
// product-history versions published beside it (model_store/history_store.h)
// while clients keep calling. Every call succeeds across history swaps, no
// batch mixes two histories, a broken version never replaces a good one, the
// bundle's own history is the fallback, and rows scored too far past the
// history's month are counted.
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/date.h"
#include "common/file_util.h"
#include "featurizer/history_records.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "model_store/history_store.h"
#include "server/metrics_testing.h"
#include "tests/server_e2e_util.h"

namespace recsys {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using testing::ServerHarness;

const int kJune = Date{2016, 6, 28}.MonthIndex();  // the bundle's month

// The snapshot recsys-data history builds from the fixture's train file.
std::shared_ptr<const ProductHistorySnapshot> FromTrainFile(
    const std::string& train_csv, std::optional<int> through = std::nullopt) {
  auto reader = RawReader::Open(train_csv);
  EXPECT_TRUE(reader.ok()) << reader.status();
  HistoryBuildReport report;
  auto snapshot = BuildHistorySnapshot(ReaderSource(reader->get()),
                                       {.depth = kDefaultHistoryDepth},
                                       through, &report);
  EXPECT_TRUE(snapshot.ok()) << snapshot.status();
  return *snapshot;
}

// A history serving June in which every one of `customers` owned every
// product but one in May: each is recommended exactly that one product.
std::shared_ptr<const ProductHistorySnapshot> AllButOne(
    const std::vector<RawRecord>& customers) {
  auto builder = ProductHistoryBuilder::Create({.depth = kDefaultHistoryDepth});
  EXPECT_TRUE(builder.ok());
  std::set<int64_t> ids;
  for (const RawRecord& c : customers) ids.insert(c.ncodpers.value);
  for (int64_t id : ids) {
    EXPECT_TRUE(
        (*builder)->Observe(kJune - 1, id, kAllProducts & ~ProductBit(4)).ok());
  }
  return *(*builder)->Snapshot();
}

class HistoryE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::HarnessOptions options;
    options.poll_interval = absl::Milliseconds(100);
    options.real_metrics = true;
    h_ = ServerHarness::Start(options);
    ASSERT_NE(h_, nullptr);
    customers_ = testing::ReadRecords(h_->fixture().test_csv, 100);
    ASSERT_FALSE(customers_.empty());
  }

  void Publish(const ProductHistorySnapshot& snapshot) {
    absl::StatusOr<std::string> dir =
        PublishHistory(h_->store_dir(), snapshot, "test");
    ASSERT_TRUE(dir.ok()) << dir.status();
  }

  // The recommendations one customer gets now.
  int RecommendationCount(const RawRecord& customer) {
    absl::StatusOr<v1::RecommendResponse> top =
        h_->client().Recommend(testing::RequestFor(customer));
    EXPECT_TRUE(top.ok()) << top.status();
    return top.ok() ? top->recommendations_size() : -1;
  }

  v1::ModelInfo Info() {
    absl::StatusOr<v1::ModelInfo> info = h_->client().GetModelInfo();
    EXPECT_TRUE(info.ok()) << info.status();
    return info.ok() ? *info : v1::ModelInfo();
  }

  std::string Scrape() { return h_->metrics()->Scrape(); }
  // The value of one series now (nullopt when it is not exported).
  std::optional<double> Metric(const std::string& name,
                               const std::map<std::string, std::string>& labels = {}) {
    return metrics_testing::ParseExposition(Scrape()).Value(name, labels);
  }

  std::unique_ptr<ServerHarness> h_;
  std::vector<RawRecord> customers_;
};

TEST_F(HistoryE2eTest, TheStoreSnapshotIsTheBundleSnapshot) {
  // recsys-data history and recsys-train build the history with the same
  // code from the same rows: the same bytes.
  auto bundle = LoadSnapshot(h_->fixture().bundle_dir + "/history.bin");
  ASSERT_TRUE(bundle.ok()) << bundle.status();
  EXPECT_EQ(FromTrainFile(h_->fixture().train_csv)->Serialize(),
            (*bundle)->Serialize());
}

// What `recsys info` prints for the harness's server (stdout and stderr).
std::string RecsysInfo(const std::string& server) {
  const std::string command = absl::StrCat(RECSYS_BIN_DIR, "/recsys info --server ",
                                           server, " 2>&1");
  std::string out;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return out;
  char buffer[4096];
  for (size_t n; (n = fread(buffer, 1, sizeof(buffer), pipe)) > 0;)
    out.append(buffer, n);
  pclose(pipe);
  return out;
}

TEST_F(HistoryE2eTest, RecsysInfoShowsTheHistoryServing) {
  const std::string server = h_->client_options().server;
  EXPECT_THAT(RecsysInfo(server),
              HasSubstr("serving history   2016-06 (from bundle)"));
  Publish(*AllButOne(customers_));
  ASSERT_TRUE(testing::WaitFor(
      [&] { return Info().serving_history_source() == "store"; }));
  EXPECT_THAT(RecsysInfo(server),
              HasSubstr("serving history   2016-06 (from store)"));
}

TEST_F(HistoryE2eTest, WithoutAHistoryVersionTheBundleServes) {
  const v1::ModelInfo info = Info();
  EXPECT_EQ(info.serving_history_month(), "2016-06");
  EXPECT_EQ(info.serving_history_source(), "bundle");
  EXPECT_EQ(info.history_load_error(), "");
  EXPECT_EQ(RecommendationCount(customers_[0]), 7);
}

TEST_F(HistoryE2eTest, ANewHistoryServesWithoutRestartAndOlderOnesAreIgnored) {
  // A month older than the bundle's: the bundle's own history stays.
  Publish(*FromTrainFile(h_->fixture().train_csv, kJune - 2));
  ASSERT_TRUE(testing::WaitFor([&] {
    return Metric("recsys_history_info", {{"month", "2016-05"}}) == 1.0;
  })) << Scrape();
  EXPECT_EQ(Info().serving_history_source(), "bundle");

  Publish(*AllButOne(customers_));
  ASSERT_TRUE(testing::WaitFor(
      [&] { return RecommendationCount(customers_[0]) == 1; }));
  const v1::ModelInfo info = Info();
  EXPECT_EQ(info.serving_history_month(), "2016-06");
  EXPECT_EQ(info.serving_history_source(), "store");
  absl::StatusOr<v1::RecommendResponse> top =
      h_->client().Recommend(testing::RequestFor(customers_[1]));
  ASSERT_TRUE(top.ok()) << top.status();
  EXPECT_EQ(top->history_month(), "2016-06");
  ASSERT_EQ(top->recommendations_size(), 1);
  EXPECT_EQ(top->recommendations(0).product(), kProducts[4].column);
}

TEST_F(HistoryE2eTest, ABrokenVersionNeverReplacesAGoodOne) {
  Publish(*AllButOne(customers_));
  ASSERT_TRUE(testing::WaitFor(
      [&] { return RecommendationCount(customers_[0]) == 1; }));
  // A newer month whose history.bin is altered after publishing.
  auto july = ProductHistoryBuilder::Create({.depth = kDefaultHistoryDepth});
  ASSERT_TRUE((*july)->Observe(kJune, 1, ProductBit(2)).ok());
  absl::StatusOr<std::string> dir =
      PublishHistory(h_->store_dir(), **(*july)->Snapshot(), "test");
  ASSERT_TRUE(dir.ok());
  // Rewritten in place: a new inode, same size, other bytes.
  absl::StatusOr<std::string> bytes = ReadFileToString(*dir + "/history.bin");
  ASSERT_TRUE(bytes.ok());
  (*bytes)[bytes->size() / 2] ^= 0x5a;
  ASSERT_TRUE(WriteFileAtomically(*dir + "/history.bin", *bytes).ok());

  ASSERT_TRUE(testing::WaitFor([&] {
    return Info().history_load_error().find("2016-07") != std::string::npos;
  })) << Info().DebugString();
  EXPECT_THAT(Info().history_load_error(), HasSubstr("checksum"));
  EXPECT_EQ(Info().serving_history_month(), "2016-06");
  EXPECT_EQ(RecommendationCount(customers_[0]), 1) << "the good one serves";
  EXPECT_EQ(Metric("recsys_history_loads_total", {{"result", "failure"}}), 1.0);
  EXPECT_EQ(Metric("recsys_history_info", {{"month", "2016-06"}}), 1.0);
  EXPECT_EQ(Metric("recsys_history_info", {{"month", "2016-07"}}), std::nullopt);
}

TEST_F(HistoryE2eTest, RowsTooFarPastTheHistoryAreAnsweredAndCounted) {
  const auto stale_rows = [&] {
    return Metric("recsys_history_stale_requests_total").value_or(-1);
  };
  EXPECT_EQ(stale_rows(), 0);
  RawRecord july = customers_[0];
  july.fecha_dato.Set(DateFromMonthIndex(kJune + 1, 28));
  EXPECT_EQ(RecommendationCount(july), 7);
  EXPECT_EQ(stale_rows(), 0) << "one month past the history: not stale";
  RawRecord august = customers_[0];
  august.fecha_dato.Set(DateFromMonthIndex(kJune + 2, 28));
  EXPECT_EQ(RecommendationCount(august), 7);
  EXPECT_EQ(stale_rows(), 1);
}

// Client threads (unary and stream) that keep calling while histories swap,
// and remember failures, what each answer looked like, and any stream
// message answered with two histories.
class Traffic {
 public:
  Traffic(ServerHarness* h, std::vector<RawRecord> customers)
      : h_(h), customers_(std::move(customers)) {}

  void Start() {
    threads_.emplace_back([this] {
      for (size_t i = 0; !stop_.load(); ++i) {
        absl::StatusOr<v1::RecommendResponse> top = h_->client().Recommend(
            testing::RequestFor(customers_[i % customers_.size()]));
        absl::MutexLock lock(&mu_);
        ++calls_;
        if (!top.ok()) {
          failures_.push_back(top.status().ToString());
        } else {
          unary_counts_.insert(top->recommendations_size());
        }
      }
    });
    threads_.emplace_back([this] {
      while (!stop_.load()) {
        std::vector<v1::RecommendStreamRequest> messages(4);
        uint64_t id = 0;
        for (v1::RecommendStreamRequest& m : messages) {
          for (int r = 0; r < 25; ++r, ++id) {
            *m.add_rows() =
                testing::RowFor(customers_[id % customers_.size()], id);
          }
        }
        const testing::StreamOutcome outcome =
            testing::RunStream(h_->stub(), messages);
        absl::MutexLock lock(&mu_);
        ++calls_;
        if (!outcome.status.ok() || outcome.Results().size() != id) {
          failures_.push_back(absl::StrCat(outcome.status.error_message(), " ",
                                           outcome.Results().size(), " of ",
                                           id, " rows answered"));
        }
        for (const v1::RecommendStreamResponse& r : outcome.responses) {
          std::set<int> counts;
          for (const v1::RowResult& row : r.results()) {
            if (!row.has_recommendations()) {
              failures_.push_back(row.error().message());
              continue;
            }
            counts.insert(row.recommendations().recommendations_size() == 1);
          }
          if (counts.size() > 1) ++mixed_messages_;
          if (r.history_month() != "2016-06")
            failures_.push_back("history_month " + r.history_month());
          stream_kinds_.insert(counts.begin(), counts.end());
        }
      }
    });
  }

  void Stop() {
    stop_ = true;
    for (std::thread& t : threads_) t.join();
  }

  int64_t calls() {
    absl::MutexLock lock(&mu_);
    return calls_;
  }

  std::vector<std::string> failures_;
  std::set<int> unary_counts_;
  std::set<bool> stream_kinds_;  // true: the all-but-one history answered
  int mixed_messages_ = 0;

 private:
  ServerHarness* const h_;
  const std::vector<RawRecord> customers_;
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
  absl::Mutex mu_;
  int64_t calls_ = 0;
};

TEST_F(HistoryE2eTest, HistoriesSwapUnderLoadWithoutAFailedCallOrAMixedBatch) {
  const std::shared_ptr<const ProductHistorySnapshot> real =
      FromTrainFile(h_->fixture().train_csv);
  const std::shared_ptr<const ProductHistorySnapshot> all_but_one =
      AllButOne(customers_);
  Traffic traffic(h_.get(), customers_);
  traffic.Start();
  for (int round = 0; round < 3; ++round) {
    // The same month republished with other contents each time.
    Publish(*all_but_one);
    ASSERT_TRUE(testing::WaitFor(
        [&] { return RecommendationCount(customers_[0]) == 1; }));
    const int64_t calls = traffic.calls();
    ASSERT_TRUE(testing::WaitFor([&] { return traffic.calls() > calls + 2; }));
    Publish(*real);
    ASSERT_TRUE(testing::WaitFor(
        [&] { return RecommendationCount(customers_[0]) == 7; }));
    const int64_t later = traffic.calls();
    ASSERT_TRUE(testing::WaitFor([&] { return traffic.calls() > later + 2; }));
  }
  traffic.Stop();
  EXPECT_THAT(traffic.failures_, ::testing::IsEmpty());
  EXPECT_EQ(traffic.mixed_messages_, 0);
  EXPECT_TRUE(traffic.unary_counts_.count(1) && traffic.unary_counts_.count(7))
      << "unary calls saw both histories";
  EXPECT_EQ(traffic.stream_kinds_.size(), 2u)
      << "stream messages saw both histories";
  EXPECT_EQ(Metric("recsys_history_loads_total", {{"result", "success"}}), 6.0);
  std::printf("%lld calls during 6 history swaps\n",
              static_cast<long long>(traffic.calls()));
}

}  // namespace
}  // namespace recsys
