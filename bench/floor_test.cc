// The in-process floor scores every row exactly as ScoreBatch does one batch
// at a time, whatever the threads and batch size; its submission and its
// .npy dump describe those rows. No timing is asserted.
#include "bench/floor.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "bench/npy.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "model_store/scorer.h"
#include "tests/trained_fixture.h"

namespace recsys {
namespace {

class FloorTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    absl::StatusOr<testing::TrainedFixture> fixture =
        testing::GetTrainedFixture();
    ASSERT_TRUE(fixture.ok()) << fixture.status();
    store_ = new std::string(testing::NewTempDir("floor-test"));
    absl::StatusOr<std::shared_ptr<const ModelVersion>> model =
        testing::InstallAndLoadBundle(*fixture, *store_);
    ASSERT_TRUE(model.ok()) << model.status();
    model_ = new std::shared_ptr<const ModelVersion>(*model);
    ParseStats stats;
    absl::StatusOr<std::vector<RawRecord>> records =
        ReadRecords(fixture->test_csv, 500, &stats);
    ASSERT_TRUE(records.ok()) << records.status();
    ASSERT_EQ(stats.rows, 500);
    records_ = new std::vector<RawRecord>(*std::move(records));
  }
  static void TearDownTestSuite() {
    delete model_;
    delete records_;
    std::error_code ec;
    if (store_ != nullptr) std::filesystem::remove_all(*store_, ec);
    delete store_;
  }

  const ModelVersion& model() { return **model_; }
  const std::vector<RawRecord>& records() { return *records_; }

  // The top 7 of every row, scored all in one ScoreBatch call.
  std::vector<TopKResult> OneBatch() {
    std::vector<ScoreInput> rows;
    for (const RawRecord& r : records()) rows.push_back({&r, nullptr});
    std::vector<RowScore> out(rows.size());
    ScoreScratch scratch;
    ScoreTimings timings;
    EXPECT_TRUE(
        ScoreBatch(model(), rows, 7, &scratch, absl::MakeSpan(out), &timings)
            .ok());
    std::vector<TopKResult> tops;
    for (const RowScore& s : out) tops.push_back(s.top);
    return tops;
  }

  static std::string* store_;
  static std::shared_ptr<const ModelVersion>* model_;
  static std::vector<RawRecord>* records_;
};

std::string* FloorTest::store_ = nullptr;
std::shared_ptr<const ModelVersion>* FloorTest::model_ = nullptr;
std::vector<RawRecord>* FloorTest::records_ = nullptr;

void ExpectSameTops(const std::vector<TopKResult>& a,
                    const std::vector<TopKResult>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(a[i].size, b[i].size) << "row " << i;
    for (int j = 0; j < a[i].size; ++j) {
      EXPECT_EQ(a[i].items[j].product, b[i].items[j].product) << "row " << i;
      EXPECT_EQ(a[i].items[j].score, b[i].items[j].score) << "row " << i;
    }
  }
}

TEST_F(FloorTest, ScoresEveryRowAsOneBatchWouldOnAnyThreadsAndBatchSize) {
  for (const auto& [threads, batch] : {std::pair{1, 500}, {2, 64}, {3, 7}}) {
    FloorOptions options;
    options.threads = threads;
    options.batch_rows = batch;
    absl::StatusOr<FloorResult> result = RunFloor(model(), records(), options);
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_EQ(result->report.rows, 500);
    EXPECT_EQ(result->report.rows_scored, 500);
    EXPECT_EQ(result->report.history_hits + result->report.history_misses, 500);
    ExpectSameTops(result->tops, OneBatch());
  }
}

TEST_F(FloorTest, NeverRanksAProductOwnedLastMonth) {
  absl::StatusOr<FloorResult> result = RunFloor(model(), records(), {});
  ASSERT_TRUE(result.ok()) << result.status();
  for (size_t i = 0; i < result->tops.size(); ++i) {
    EXPECT_EQ(result->tops[i].Mask() & result->owned_last[i], 0u) << i;
  }
}

TEST_F(FloorTest, KeepsOneFeatureRowPerScoredRow) {
  FloorOptions options;
  options.keep_features = true;
  absl::StatusOr<FloorResult> result = RunFloor(model(), records(), options);
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(result->features.size(), 500u * model().num_features());
  std::vector<float> row(model().num_features());
  model().featurizer().Featurize(
      records()[42],
      *model().history().Lookup(records()[42].ncodpers.value,
                                model().history_month()),
      row.data());
  for (int f = 0; f < model().num_features(); ++f) {
    const float got = result->features[42 * model().num_features() + f];
    EXPECT_TRUE(got == row[f] || (std::isnan(got) && std::isnan(row[f])))
        << "feature " << f;
  }
}

TEST_F(FloorTest, SubmissionListsEveryRowWithItsProductsInOrder) {
  absl::StatusOr<FloorResult> result = RunFloor(model(), records(), {});
  ASSERT_TRUE(result.ok()) << result.status();
  std::ostringstream out;
  WriteSubmission(*result, &out);
  std::vector<std::string> lines =
      absl::StrSplit(out.str(), '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 501u);
  EXPECT_EQ(lines[0], "ncodpers,added_products");
  std::vector<std::string> first =
      absl::StrSplit(lines[1], absl::ByAnyChar(", "));
  EXPECT_EQ(first[0], std::to_string(records()[0].ncodpers.value));
  ASSERT_EQ(first.size(), 1u + result->tops[0].size);
  EXPECT_EQ(first[1],
            std::string(kProducts[result->tops[0].items[0].product].column));
}

TEST_F(FloorTest, RejectsZeroThreads) {
  FloorOptions options;
  options.threads = 0;
  EXPECT_FALSE(RunFloor(model(), records(), options).ok());
}

TEST(NpyTest, HeaderIsNumpyVersion1PaddedTo64Bytes) {
  const std::string header = NpyHeader("<f4", {3, 100});
  EXPECT_EQ(header.size() % 64, 0u);
  EXPECT_EQ(header.substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
  EXPECT_EQ(static_cast<size_t>(static_cast<uint8_t>(header[8])) +
                (static_cast<uint8_t>(header[9]) << 8),
            header.size() - 10);
  EXPECT_THAT(header,
              ::testing::HasSubstr("{'descr': '<f4', 'fortran_order': False, "
                                   "'shape': (3, 100), }"));
  EXPECT_EQ(header.back(), '\n');
}

TEST(NpyTest, OneDimensionalShapeHasATrailingComma) {
  EXPECT_THAT(NpyHeader("<i8", {5}), ::testing::HasSubstr("'shape': (5,), }"));
}

TEST(NpyTest, WritesHeaderThenRawLittleEndianData) {
  const std::string path = testing::NewTempDir("npy-test") + "/a.npy";
  const std::vector<uint32_t> data = {1, 2, 0xdeadbeef};
  ASSERT_TRUE(WriteNpy(path, data.data(), {3}).ok());
  std::ifstream in(path, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  const std::string file = bytes.str();
  const std::string header = NpyHeader("<u4", {3});
  ASSERT_EQ(file.size(), header.size() + 12);
  EXPECT_EQ(file.substr(0, header.size()), header);
  uint32_t last = 0;
  std::memcpy(&last, file.data() + header.size() + 8, 4);
  EXPECT_EQ(last, 0xdeadbeefu);
}

}  // namespace
}  // namespace recsys
