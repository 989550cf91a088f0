#include "model_store/history_store.h"

#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "common/date.h"
#include "common/file_util.h"
#include "gtest/gtest.h"

namespace recsys {
namespace {

namespace fs = std::filesystem;

const int kMay = Date{2016, 5, 28}.MonthIndex();

// A snapshot of `customers` customers whose last data month is `last`
// (so it serves last + 1).
std::shared_ptr<const ProductHistorySnapshot> Snapshot(int last,
                                                       int customers) {
  auto builder = ProductHistoryBuilder::Create({.depth = 6});
  EXPECT_TRUE(builder.ok());
  for (int id = 1; id <= customers; ++id) {
    EXPECT_TRUE((*builder)->Observe(last, id, ProductBit(id % 24)).ok());
  }
  auto snapshot = (*builder)->Snapshot();
  EXPECT_TRUE(snapshot.ok());
  return *snapshot;
}

class RecordingObserver : public HistoryStoreObserver {
 public:
  void OnHistoryServing(const HistoryVersion& version, int previous,
                        absl::Duration) override {
    served.push_back(version.month);
  }
  void OnHistoryLoadFailed(int month, const absl::Status& status) override {
    failed.push_back(month);
  }
  std::vector<int> served;
  std::vector<int> failed;
};

class HistoryStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/history-store-test-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    store_ = pattern;
  }
  void TearDown() override { fs::remove_all(store_); }

  std::string Publish(int last, int customers) {
    absl::StatusOr<std::string> dir =
        PublishHistory(store_, *Snapshot(last, customers), "test");
    EXPECT_TRUE(dir.ok()) << dir.status();
    return dir.ok() ? *dir : "";
  }

  std::unique_ptr<HistoryStore> NewStore() {
    HistoryStoreOptions options;
    options.store_dir = store_;
    auto store = HistoryStore::Create(options, &observer_);
    EXPECT_TRUE(store.ok()) << store.status();
    return *std::move(store);
  }

  // Overwrites a byte in the middle of `file` in `dir`.
  static void Corrupt(const std::string& dir, const char* file) {
    const std::string path = dir + "/" + file;
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(fs::file_size(path) / 2));
    f.put('\x7f');
  }

  std::string store_;
  RecordingObserver observer_;
};

TEST_F(HistoryStoreTest, PublishWritesTheMonthItServesWithAManifest) {
  const std::string dir = Publish(kMay, 3);
  EXPECT_EQ(dir, store_ + "/history/2016-06");
  auto version = LoadHistoryVersion(dir);
  ASSERT_TRUE(version.ok()) << version.status();
  EXPECT_EQ((*version)->month, kMay + 1);
  EXPECT_EQ((*version)->manifest.month, "2016-06");
  EXPECT_EQ((*version)->manifest.customers, 3);
  EXPECT_EQ((*version)->manifest.source, "test");
  EXPECT_EQ((*version)->snapshot->Serialize(),
            Snapshot(kMay, 3)->Serialize());
  // Nothing left behind but the version.
  EXPECT_EQ(std::distance(fs::directory_iterator(store_ + "/history"),
                          fs::directory_iterator()),
            1);
}

TEST_F(HistoryStoreTest, PublishingAMonthAgainReplacesIt) {
  Publish(kMay, 3);
  const std::string dir = Publish(kMay, 5);
  auto version = LoadHistoryVersion(dir);
  ASSERT_TRUE(version.ok()) << version.status();
  EXPECT_EQ((*version)->manifest.customers, 5);
  auto months = ListHistoryMonths(store_);
  ASSERT_TRUE(months.ok());
  EXPECT_EQ(*months, std::vector<int>{kMay + 1});
}

TEST_F(HistoryStoreTest, ListIgnoresNamesThatAreNotMonths) {
  Publish(kMay, 1);
  Publish(kMay + 1, 1);
  fs::create_directories(store_ + "/history/.staging-2016-09-1-2");
  fs::create_directories(store_ + "/history/2016-13");
  fs::create_directories(store_ + "/history/latest");
  auto months = ListHistoryMonths(store_);
  ASSERT_TRUE(months.ok());
  EXPECT_EQ(*months, (std::vector<int>{kMay + 1, kMay + 2}));
  EXPECT_EQ(ListHistoryMonths(store_ + "/nothing").status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(HistoryStoreTest, LoadRefusesAnAlteredSnapshot) {
  const std::string dir = Publish(kMay, 50);
  Corrupt(dir, kHistoryFile);
  auto version = LoadHistoryVersion(dir);
  EXPECT_EQ(version.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(version.status().message().find(dir), std::string::npos);
}

TEST_F(HistoryStoreTest, LoadRefusesAFolderOfAnotherMonth) {
  const std::string dir = Publish(kMay, 2);
  fs::rename(dir, store_ + "/history/2016-09");
  auto version = LoadHistoryVersion(store_ + "/history/2016-09");
  EXPECT_EQ(version.status().code(), absl::StatusCode::kFailedPrecondition)
      << version.status();
}

TEST_F(HistoryStoreTest, LoadNamesAMissingManifestField) {
  const std::string dir = Publish(kMay, 2);
  ASSERT_TRUE(
      WriteFileAtomically(dir + "/manifest.json", R"({"format_version": 1})")
          .ok());
  auto version = LoadHistoryVersion(dir);
  EXPECT_EQ(version.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(version.status().message().find("'month'"), std::string::npos)
      << version.status();
}

TEST_F(HistoryStoreTest, NoHistoryFolderServesNothing) {
  auto store = NewStore();
  HistoryReloadReport report = store->Reload();
  EXPECT_EQ(report.serving_month, 0);
  EXPECT_EQ(store->Current(), nullptr);
}

TEST_F(HistoryStoreTest, ServesTheNewestMonth) {
  Publish(kMay, 2);
  Publish(kMay + 1, 3);
  auto store = NewStore();
  EXPECT_EQ(store->Reload().serving_month, kMay + 2);
  ASSERT_NE(store->Current(), nullptr);
  EXPECT_EQ(store->Current()->manifest.customers, 3);
  EXPECT_EQ(observer_.served, std::vector<int>{kMay + 2});
  // Nothing new: no second load.
  store->Reload();
  EXPECT_EQ(observer_.served.size(), 1u);
}

TEST_F(HistoryStoreTest, ABadNewVersionNeverReplacesAGoodOne) {
  Publish(kMay, 2);
  auto store = NewStore();
  store->Reload();
  std::shared_ptr<const HistoryVersion> good = store->Current();
  ASSERT_NE(good, nullptr);

  const std::string bad = Publish(kMay + 1, 40);
  Corrupt(bad, kHistoryFile);
  HistoryReloadReport report = store->Reload();
  EXPECT_EQ(report.serving_month, kMay + 1);
  ASSERT_EQ(report.failed.size(), 1u);
  EXPECT_EQ(report.failed[0].first, kMay + 2);
  EXPECT_EQ(store->Current(), good);
  EXPECT_NE(store->last_error().find("2016-07"), std::string::npos)
      << store->last_error();
  // Not tried again while its files stay as they are.
  store->Reload();
  EXPECT_EQ(observer_.failed, std::vector<int>{kMay + 2});

  // Republished correctly: served.
  Publish(kMay + 1, 41);
  EXPECT_EQ(store->Reload().serving_month, kMay + 2);
  EXPECT_EQ(store->Current()->manifest.customers, 41);
  EXPECT_EQ(store->last_error(), "");
}

TEST_F(HistoryStoreTest, ABadRepublishOfTheServingMonthKeepsTheLoadedOne) {
  const std::string dir = Publish(kMay, 2);
  auto store = NewStore();
  store->Reload();
  std::shared_ptr<const HistoryVersion> good = store->Current();
  ASSERT_TRUE(WriteFileAtomically(dir + "/history.bin", "garbage").ok());
  store->Reload();
  EXPECT_EQ(store->Current(), good);
  EXPECT_EQ(observer_.failed, std::vector<int>{kMay + 1});
}

TEST_F(HistoryStoreTest, CreateRefusesAnEmptyStore) {
  EXPECT_EQ(HistoryStore::Create({}, nullptr).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace recsys
