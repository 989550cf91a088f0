// ScoreBatch on a real model version: products owned last month are never
// recommended, an explicit history takes precedence over the snapshot, an
// unknown customer is scored as new, bad rows fail alone, and a batch scores
// exactly as its rows one by one.
#include "model_store/scorer.h"

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "common/raw_reader.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "model_store/model_version.h"
#include "tests/trained_fixture.h"

namespace recsys {
namespace {

namespace fs = std::filesystem;

class ScorerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    absl::StatusOr<testing::TrainedFixture> fixture =
        testing::GetTrainedFixture();
    ASSERT_TRUE(fixture.ok()) << fixture.status();
    store_ = new std::string(testing::NewTempDir("scorer-test"));
    absl::StatusOr<std::shared_ptr<const ModelVersion>> model =
        testing::InstallAndLoadBundle(*fixture, *store_);
    ASSERT_TRUE(model.ok()) << model.status();
    model_ = new std::shared_ptr<const ModelVersion>(*model);
    // The test month's customers, as the CSV reader gives them.
    auto reader = RawReader::Open(fixture->test_csv);
    ASSERT_TRUE(reader.ok()) << reader.status();
    customers_ = new std::vector<RawRecord>();
    RawRecord record;
    std::vector<RowError> errors;
    while (customers_->size() < 300 && (*reader)->Next(&record, &errors)) {
      if (errors.empty()) customers_->push_back(record);
    }
  }
  static void TearDownTestSuite() {
    delete model_;
    delete customers_;
    std::error_code ec;
    if (store_ != nullptr) fs::remove_all(*store_, ec);
    delete store_;
  }

  const ModelVersion& model() { return **model_; }

  // Scores `records` (with optional explicit histories) in one batch.
  std::vector<RowScore> Score(
      const std::vector<RawRecord>& records, int k,
      const std::vector<const HistoryView*>& histories = {}) {
    std::vector<ScoreInput> rows;
    for (size_t i = 0; i < records.size(); ++i) {
      rows.push_back(
          {&records[i], i < histories.size() ? histories[i] : nullptr});
    }
    std::vector<RowScore> out(rows.size());
    ScoreScratch scratch;
    ScoreTimings timings;
    absl::Status status =
        ScoreBatch(model(), rows, k, &scratch, absl::MakeSpan(out), &timings);
    EXPECT_TRUE(status.ok()) << status;
    return out;
  }

  static std::string* store_;
  static std::shared_ptr<const ModelVersion>* model_;
  static std::vector<RawRecord>* customers_;
};

std::string* ScorerTest::store_ = nullptr;
std::shared_ptr<const ModelVersion>* ScorerTest::model_ = nullptr;
std::vector<RawRecord>* ScorerTest::customers_ = nullptr;

TEST_F(ScorerTest, NeverRecommendsAProductOwnedLastMonth) {
  ASSERT_GE(customers_->size(), 100u);
  const std::vector<RowScore> out = Score(*customers_, kNumProducts);
  int owners = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    ASSERT_TRUE(out[i].status.ok()) << out[i].status;
    absl::StatusOr<HistoryView> view = model().history().Lookup(
        (*customers_)[i].ncodpers.value, model().history_month());
    ASSERT_TRUE(view.ok());
    const ProductMask owned = view->Owned(1);
    if (owned != 0) ++owners;
    EXPECT_EQ(out[i].top.size, kNumProducts - CountProducts(owned));
    for (int r = 0; r < out[i].top.size; ++r) {
      EXPECT_FALSE(owned & ProductBit(out[i].top.items[r].product))
          << "customer " << (*customers_)[i].ncodpers.value << " owns "
          << kProducts[out[i].top.items[r].product].column;
    }
  }
  EXPECT_GT(owners, 50) << "the test needs customers who own products";
}

TEST_F(ScorerTest, KnownCustomerIsLookedUpInTheSnapshot) {
  const std::vector<RowScore> out = Score({customers_->front()}, 7);
  EXPECT_EQ(out[0].history, HistorySourceKind::kStore);
  EXPECT_EQ(out[0].target_month, model().history_month());
  EXPECT_EQ(out[0].top.size, 7);
}

TEST_F(ScorerTest, ExplicitHistoryTakesPrecedenceOverTheSnapshot) {
  // Pick a customer and claim they owned last month the product the store
  // history would rank first: it must disappear from the ranking.
  const RawRecord& customer = customers_->front();
  const std::vector<RowScore> from_store = Score({customer}, 3);
  ASSERT_TRUE(from_store[0].status.ok());
  const int best = from_store[0].top.items[0].product;
  absl::StatusOr<HistoryView> explicit_view =
      HistoryView::FromExplicit({{1, ProductBit(best)}, {2, ProductBit(best)}});
  ASSERT_TRUE(explicit_view.ok());
  const std::vector<RowScore> from_request =
      Score({customer}, kNumProducts, {&*explicit_view});
  ASSERT_TRUE(from_request[0].status.ok());
  EXPECT_EQ(from_request[0].history, HistorySourceKind::kRequest);
  EXPECT_EQ(from_request[0].top.size, kNumProducts - 1);
  for (int r = 0; r < from_request[0].top.size; ++r) {
    EXPECT_NE(from_request[0].top.items[r].product, best);
  }
}

TEST_F(ScorerTest, UnknownCustomerIsScoredAsNew) {
  RawRecord stranger = customers_->front();
  stranger.ncodpers.Set(987654321);
  const std::vector<RowScore> out = Score({stranger}, 7);
  ASSERT_TRUE(out[0].status.ok()) << out[0].status;
  EXPECT_EQ(out[0].history, HistorySourceKind::kNotFound);
  EXPECT_EQ(out[0].top.size, 7);
}

TEST_F(ScorerTest, MonthBeforeTheSnapshotFailsOnlyThatRow) {
  std::vector<RawRecord> rows = {(*customers_)[0], (*customers_)[1],
                                 (*customers_)[2]};
  rows[1].fecha_dato.Set(Date{2015, 3, 28});
  const std::vector<RowScore> out = Score(rows, 7);
  EXPECT_TRUE(out[0].status.ok());
  EXPECT_EQ(out[1].status.code(), absl::StatusCode::kOutOfRange);
  EXPECT_THAT(out[1].status.message(), ::testing::HasSubstr("fecha_dato"));
  EXPECT_TRUE(out[2].status.ok());
}

TEST_F(ScorerTest, AFailedRowNamesTheFieldItIsAbout) {
  std::vector<RawRecord> rows = {(*customers_)[0], (*customers_)[1]};
  rows[1].fecha_dato.Set(Date{2015, 3, 28});
  const std::vector<RowScore> out = Score(rows, 7);
  EXPECT_EQ(out[0].error_field, "");
  EXPECT_EQ(out[1].error_field, "fecha_dato");
}

TEST_F(ScorerTest, BatchScoresEqualSingleRowScoresExactly) {
  const std::vector<RawRecord> batch(customers_->begin(),
                                     customers_->begin() + 64);
  const std::vector<RowScore> together = Score(batch, kNumProducts);
  for (size_t i = 0; i < batch.size(); ++i) {
    const std::vector<RowScore> alone = Score({batch[i]}, kNumProducts);
    ASSERT_EQ(alone[0].top.size, together[i].top.size);
    for (int r = 0; r < alone[0].top.size; ++r) {
      EXPECT_EQ(alone[0].top.items[r].product,
                together[i].top.items[r].product);
      EXPECT_EQ(alone[0].top.items[r].score, together[i].top.items[r].score);
    }
  }
}

TEST_F(ScorerTest, FeaturesOfScoredRowsAreLeftInScratch) {
  const std::vector<RawRecord> batch(customers_->begin(),
                                     customers_->begin() + 5);
  std::vector<ScoreInput> rows;
  for (const RawRecord& r : batch) rows.push_back({&r, nullptr});
  std::vector<RowScore> out(rows.size());
  ScoreScratch scratch;
  ScoreTimings timings;
  ASSERT_TRUE(
      ScoreBatch(model(), rows, 7, &scratch, absl::MakeSpan(out), &timings)
          .ok());
  ASSERT_EQ(scratch.features.size(), batch.size() * model().num_features());
  std::vector<float> expected(model().num_features());
  absl::StatusOr<HistoryView> view = model().history().Lookup(
      batch[3].ncodpers.value, model().history_month());
  ASSERT_TRUE(view.ok());
  model().featurizer().Featurize(batch[3], *view, expected.data());
  for (int f = 0; f < model().num_features(); ++f) {
    const float got = scratch.features[3 * model().num_features() + f];
    EXPECT_TRUE(got == expected[f] ||
                (std::isnan(got) && std::isnan(expected[f])))
        << f;
  }
  EXPECT_EQ(timings.history_hits + timings.history_misses, 5);
}

TEST_F(ScorerTest, RefusalBeforePredictingStopsTheBatch) {
  std::vector<ScoreInput> rows = {{&customers_->front(), nullptr}};
  std::vector<RowScore> out(1);
  ScoreScratch scratch;
  ScoreTimings timings;
  absl::Status status =
      ScoreBatch(model(), rows, 7, &scratch, absl::MakeSpan(out), &timings,
                 [] { return absl::DeadlineExceededError("too late"); });
  EXPECT_EQ(status.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(timings.predict_seconds, 0);
}

TEST_F(ScorerTest, KOutsideOneTo24IsInvalidArgument) {
  std::vector<ScoreInput> rows = {{&customers_->front(), nullptr}};
  std::vector<RowScore> out(1);
  ScoreScratch scratch;
  ScoreTimings timings;
  EXPECT_EQ(
      ScoreBatch(model(), rows, 0, &scratch, absl::MakeSpan(out), &timings)
          .code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      ScoreBatch(model(), rows, 25, &scratch, absl::MakeSpan(out), &timings)
          .code(),
      absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace recsys
