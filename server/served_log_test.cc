#include "server/served_log.h"

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/date.h"
#include "common/file_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace recsys {
namespace {

namespace fs = std::filesystem;

const int kJune = Date{2016, 6, 28}.MonthIndex();

std::shared_ptr<const ModelVersion> Version(int64_t version,
                                            double validation = 0.03) {
  ModelVersion::Parts parts;
  parts.manifest.model_name = "santander";
  parts.manifest.version = version;
  parts.manifest.metrics.model_map7 = validation;
  return std::make_shared<ModelVersion>(std::move(parts));
}

TopKResult Top(std::vector<int> products) {
  TopKResult top;
  for (int p : products) top.items[top.size++].product = p;
  return top;
}

// One answered batch: customers[i] was recommended tops[i] for `month`.
class Batch {
 public:
  Batch(const ModelVersion* model, int month) : model_(model), month_(month) {}
  Batch& Add(int64_t customer, std::vector<int> products, bool ok = true) {
    DecodedRequest& request = requests_.emplace_back();
    request.record.ncodpers.Set(customer);
    RowScore& row = scores_.emplace_back();
    row.top = Top(std::move(products));
    row.target_month = month_;
    if (!ok) row.status = absl::OutOfRangeError("no");
    return *this;
  }
  ScoredRows View() const {
    return {.model = model_,
            .history_month = "2016-06",
            .requests = requests_,
            .scores = scores_,
            .row_models = {},
            .challenger_history_month = {},
            .explanations = {}};
  }

 private:
  const ModelVersion* model_;
  int month_;
  std::vector<DecodedRequest> requests_;
  std::vector<RowScore> scores_;
};

class ServedLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (fs::path(::testing::TempDir()) /
            absl::StrCat("served_log_", ::testing::UnitTest::GetInstance()
                                            ->current_test_info()
                                            ->name()))
               .string();
    fs::remove_all(dir_);
  }

  std::unique_ptr<ServedLog> Open(ServedLogOptions options = {}) {
    options.dir = dir_;
    auto log = ServedLog::Create(options);
    EXPECT_TRUE(log.ok()) << log.status();
    return log.ok() ? *std::move(log) : nullptr;
  }

  // customer -> (version, products) of a month.
  static std::map<uint32_t, std::pair<int64_t, std::vector<int>>> Contents(
      const ServedMonth& month) {
    std::map<uint32_t, std::pair<int64_t, std::vector<int>>> out;
    for (const auto& [customer, packed] : month.answers) {
      const ServedAnswer a = UnpackAnswer(packed);
      out[customer] = {month.versions[a.version].version,
                       std::vector<int>(a.ranked().begin(), a.ranked().end())};
    }
    return out;
  }

  std::string dir_;
};

TEST(PackedAnswerTest, KeepsTheFirstSevenProductsAndTheSlot) {
  const ServedAnswer a =
      UnpackAnswer(PackAnswer(65535, Top({23, 0, 5, 17, 2, 9, 11, 4, 3})));
  EXPECT_EQ(a.version, 65535);
  EXPECT_THAT(std::vector<int>(a.ranked().begin(), a.ranked().end()),
              ::testing::ElementsAre(23, 0, 5, 17, 2, 9, 11));
  EXPECT_EQ(UnpackAnswer(PackAnswer(3, Top({}))).n, 0);
}

TEST_F(ServedLogTest, SurvivesARestartWithTheSameContents) {
  auto v3 = Version(3);
  auto v4 = Version(4, 0.05);
  std::map<uint32_t, std::pair<int64_t, std::vector<int>>> before;
  {
    auto log = Open();
    ASSERT_NE(log, nullptr);
    log->Record(Batch(v3.get(), kJune).Add(1, {2, 7}).Add(2, {4}).View());
    log->Record(Batch(v4.get(), kJune).Add(3, {1, 2, 3, 4, 5, 6, 7}).View());
    log->Record(Batch(v3.get(), kJune - 1).Add(1, {9}).View());
    log->Flush();
    before = Contents(log->Month(kJune));
    EXPECT_EQ(before.size(), 3u);
  }  // destroyed
  auto log = Open();
  ASSERT_NE(log, nullptr);
  EXPECT_THAT(log->Months(), ::testing::ElementsAre(kJune - 1, kJune));
  const ServedMonth june = log->Month(kJune);
  EXPECT_EQ(Contents(june), before);
  EXPECT_EQ(june.versions[UnpackAnswer(june.answers.at(3)).version]
                .validation_map7,
            0.05);
  EXPECT_EQ(Contents(log->Month(kJune - 1)).at(1).second,
            std::vector<int>{9});
  // Appends after a replay are replayed too.
  log->Record(Batch(v4.get(), kJune).Add(2, {8}).View());
  log.reset();
  log = Open();
  EXPECT_EQ(Contents(log->Month(kJune)).at(2),
            (std::pair<int64_t, std::vector<int>>{4, {8}}));
  EXPECT_EQ(Contents(log->Month(kJune)).at(1).first, 3);
}

TEST_F(ServedLogTest, TheLastAnswerPerCustomerAndMonthWins) {
  auto v3 = Version(3);
  auto v4 = Version(4);
  auto log = Open();
  log->Record(Batch(v3.get(), kJune).Add(1, {2, 7}).Add(2, {4}).View());
  log->Record(Batch(v4.get(), kJune).Add(1, {5}).View());
  log->Record(Batch(v3.get(), kJune).Add(1, {6, 1}).Add(2, {3}, false).View());
  log->Flush();
  auto contents = Contents(log->Month(kJune));
  EXPECT_EQ(contents.at(1), (std::pair<int64_t, std::vector<int>>{3, {6, 1}}));
  // A row the scorer refused is no answer: the earlier one stays.
  EXPECT_EQ(contents.at(2), (std::pair<int64_t, std::vector<int>>{3, {4}}));
}

TEST_F(ServedLogTest, EachRowIsLoggedUnderTheVersionThatAnsweredIt) {
  // A batch split between the champion (3) and a challenger (4): the
  // challenger's customers are logged under version 4, so realized MAP@7 is
  // per version.
  auto v3 = Version(3);
  auto v4 = Version(4, 0.05);
  Batch batch(v3.get(), kJune);
  batch.Add(1, {2}).Add(2, {4}).Add(3, {5}).Add(4, {6});
  ScoredRows view = batch.View();
  const std::vector<const ModelVersion*> row_models = {v3.get(), v4.get(),
                                                       v3.get(), v4.get()};
  view.row_models = row_models;
  view.challenger_history_month = "2016-06";
  auto log = Open();
  log->Record(view);
  log->Flush();
  auto contents = Contents(log->Month(kJune));
  ASSERT_EQ(contents.size(), 4u);
  EXPECT_EQ(contents.at(1).first, 3);
  EXPECT_EQ(contents.at(2).first, 4);
  EXPECT_EQ(contents.at(3).first, 3);
  EXPECT_EQ(contents.at(4).first, 4);
  EXPECT_EQ(contents.at(4).second, std::vector<int>{6});
}

TEST_F(ServedLogTest, ATornTailIsDroppedAndLoggingGoesOn) {
  auto v3 = Version(3);
  {
    auto log = Open();
    log->Record(Batch(v3.get(), kJune).Add(1, {2}).Add(2, {3}).View());
  }
  const std::string path = ServedLog::MonthPath(dir_, kJune);
  const auto good_size = fs::file_size(path);
  {
    // A crash half-way through the next record.
    std::ofstream out(path, std::ios::binary | std::ios::app);
    out.write("A\x0e\x05\x00\x00", 5);
  }
  {
    auto log = Open();
    ASSERT_NE(log, nullptr);
    EXPECT_EQ(Contents(log->Month(kJune)).size(), 2u);
    EXPECT_EQ(fs::file_size(path), good_size);  // truncated at the last record
    log->Record(Batch(v3.get(), kJune).Add(5, {1}).View());
  }
  // A flipped byte in the last record: it fails its checksum and goes.
  {
    std::fstream f(path, std::ios::binary | std::ios::in | std::ios::out);
    f.seekp(-6, std::ios::end);
    f.put('\x7f');
  }
  auto log = Open();
  ASSERT_NE(log, nullptr);
  auto contents = Contents(log->Month(kJune));
  EXPECT_EQ(contents.size(), 2u);
  EXPECT_EQ(contents.count(5), 0u);
}

TEST_F(ServedLogTest, AFileWithoutTheMagicIsSetAside) {
  fs::create_directories(dir_);
  ASSERT_TRUE(
      WriteFileDurably(ServedLog::MonthPath(dir_, kJune), "garbage").ok());
  auto log = Open();
  ASSERT_NE(log, nullptr);
  EXPECT_TRUE(log->Month(kJune).answers.empty());
  EXPECT_TRUE(fs::exists(ServedLog::MonthPath(dir_, kJune) + ".corrupt"));
}

TEST_F(ServedLogTest, KeepsAtMostMaxMonthsDroppingTheOldest) {
  auto v3 = Version(3);
  auto log = Open({.dir = {}, .max_months = 2});
  for (int m = kJune - 2; m <= kJune; ++m) {
    log->Record(Batch(v3.get(), m).Add(1, {1}).View());
    log->Flush();
  }
  EXPECT_THAT(log->Months(), ::testing::ElementsAre(kJune - 1, kJune));
  EXPECT_EQ(log->dropped_months(), 1);
  EXPECT_FALSE(fs::exists(ServedLog::MonthPath(dir_, kJune - 2)));
  // A month older than every kept one is refused, not kept.
  log->Record(Batch(v3.get(), kJune - 5).Add(1, {1}).View());
  log->Flush();
  EXPECT_THAT(log->Months(), ::testing::ElementsAre(kJune - 1, kJune));
  EXPECT_EQ(log->dropped_rows(), 1);
  // And a restart with a smaller cap keeps the newest.
  log.reset();
  log = Open({.dir = {}, .max_months = 1});
  EXPECT_THAT(log->Months(), ::testing::ElementsAre(kJune));
}

TEST_F(ServedLogTest, KeepsAtMostMaxCustomersPerMonth) {
  auto v3 = Version(3);
  auto log = Open({.dir = {}, .max_customers_per_month = 2});
  log->Record(
      Batch(v3.get(), kJune).Add(1, {1}).Add(2, {1}).Add(3, {1}).View());
  log->Record(Batch(v3.get(), kJune).Add(1, {4}).View());  // known: kept
  log->Flush();
  auto contents = Contents(log->Month(kJune));
  EXPECT_EQ(contents.size(), 2u);
  EXPECT_EQ(contents.at(1).second, std::vector<int>{4});
  EXPECT_EQ(log->dropped_rows(), 1);
}

TEST_F(ServedLogTest, ARepeatedlyAnsweredMonthStaysWithinItsDiskBound) {
  auto v3 = Version(3);
  constexpr int kCustomers = 1000;
  auto log = Open({.dir = {}, .queue_rows = 1 << 20});
  for (int round = 0; round < 80; ++round) {
    Batch batch(v3.get(), kJune);
    for (int c = 0; c < kCustomers; ++c) batch.Add(c, {round % 24, c % 24});
    log->Record(batch.View());
    log->Flush();
    // The header's bound: 40 n + 1 MiB + 20 Q (here Q = one batch).
    EXPECT_LE(log->disk_bytes(), 40 * kCustomers + (1 << 20) + 20 * kCustomers);
  }
  EXPECT_LT(static_cast<int64_t>(fs::file_size(ServedLog::MonthPath(dir_, kJune))),
            80 * 20 * kCustomers);  // compacted at least once
  log.reset();
  log = Open();
  auto contents = Contents(log->Month(kJune));
  ASSERT_EQ(contents.size(), static_cast<size_t>(kCustomers));
  EXPECT_EQ(contents.at(7).second, (std::vector<int>{79 % 24, 7}));
}

TEST_F(ServedLogTest, AFullQueueDropsRowsInsteadOfWaiting) {
  auto v3 = Version(3);
  auto log = Open({.dir = {}, .queue_rows = 2});
  // Three rows never fit a two-row queue: dropped and counted.
  log->Record(
      Batch(v3.get(), kJune).Add(1, {1}).Add(2, {1}).Add(3, {1}).View());
  log->Flush();
  EXPECT_TRUE(log->Month(kJune).answers.empty());
  EXPECT_EQ(log->dropped_rows(), 3);
}

}  // namespace
}  // namespace recsys
