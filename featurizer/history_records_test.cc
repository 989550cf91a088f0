#include "featurizer/history_records.h"

#include <vector>

#include "common/date.h"
#include "gtest/gtest.h"

namespace recsys {
namespace {

constexpr ProductMask kA = ProductBit(2);
constexpr ProductMask kB = ProductBit(12);
const int kJan = Date{2016, 1, 28}.MonthIndex();

RawRecord Row(int month, int64_t ncodpers, ProductMask owned,
              int64_t line = 0) {
  RawRecord r;
  r.line = line;
  r.fecha_dato.Set(DateFromMonthIndex(month, 28));
  r.ncodpers.Set(ncodpers);
  r.has_products = true;
  r.products = owned;
  return r;
}

// A source that gives `rows` in order.
RecordSource Rows(std::vector<RawRecord> rows) {
  auto next = std::make_shared<size_t>(0);
  auto all = std::make_shared<std::vector<RawRecord>>(std::move(rows));
  return [next, all](RawRecord* r) -> absl::StatusOr<bool> {
    if (*next == all->size()) return false;
    *r = (*all)[(*next)++];
    return true;
  };
}

TEST(BuildHistorySnapshot, SameBytesAsTheBuilderFedByHand) {
  auto builder = ProductHistoryBuilder::Create({.depth = 6});
  ASSERT_TRUE(builder.ok());
  ASSERT_TRUE((*builder)->Observe(kJan, 1, kA).ok());
  ASSERT_TRUE((*builder)->Observe(kJan, 2, kB).ok());
  ASSERT_TRUE((*builder)->Observe(kJan + 1, 1, kA | kB).ok());
  auto expected = (*builder)->Snapshot();
  ASSERT_TRUE(expected.ok());

  HistoryBuildReport report;
  auto built = BuildHistorySnapshot(
      Rows({Row(kJan, 1, kA), Row(kJan, 2, kB), Row(kJan + 1, 1, kA | kB)}),
      {.depth = 6}, std::nullopt, &report);
  ASSERT_TRUE(built.ok()) << built.status();
  EXPECT_EQ((*built)->Serialize(), (*expected)->Serialize());
  EXPECT_EQ((*built)->target_month(), kJan + 2);
  EXPECT_EQ(report.rows, 3);
  EXPECT_EQ(report.months, (std::vector<int>{kJan, kJan + 1}));
}

TEST(BuildHistorySnapshot, ThroughStopsAtTheMonthAndServesTheNext) {
  HistoryBuildReport report;
  auto built = BuildHistorySnapshot(
      Rows({Row(kJan, 1, kA), Row(kJan + 1, 1, kB), Row(kJan + 2, 1, kA)}),
      {.depth = 6}, kJan + 1, &report);
  ASSERT_TRUE(built.ok()) << built.status();
  EXPECT_EQ((*built)->target_month(), kJan + 2);
  EXPECT_EQ(report.rows_after, 1);
  auto view = (*built)->Lookup(1, kJan + 2);
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(view->Owned(1), kB);
}

TEST(BuildHistorySnapshot, SkipsRowsWithoutKeyAndKeepsTheFirstDuplicate) {
  RawRecord no_id = Row(kJan, 3, kA);
  no_id.ncodpers = IntField();
  HistoryBuildReport report;
  auto built = BuildHistorySnapshot(
      Rows({Row(kJan, 1, kA), no_id, Row(kJan, 1, kB)}), {.depth = 6},
      std::nullopt, &report);
  ASSERT_TRUE(built.ok()) << built.status();
  EXPECT_EQ(report.rows_skipped, 1);
  EXPECT_EQ(report.duplicates, 1);
  EXPECT_EQ((*built)->num_customers(), 1);
  EXPECT_EQ((*built)->Lookup(1, kJan + 1)->Owned(1), kA);
}

TEST(BuildHistorySnapshot, MonthsOutOfOrderNameTheLine) {
  HistoryBuildReport report;
  auto built = BuildHistorySnapshot(
      Rows({Row(kJan + 1, 1, kA, 2), Row(kJan, 2, kA, 3)}), {.depth = 6},
      std::nullopt, &report);
  ASSERT_EQ(built.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(built.status().message().find("line 3"), std::string::npos)
      << built.status();
}

TEST(BuildHistorySnapshot, NoRowsIsAnError) {
  HistoryBuildReport report;
  EXPECT_EQ(BuildHistorySnapshot(Rows({}), {.depth = 6}, std::nullopt, &report)
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(BuildHistorySnapshot, SourceErrorsPassThrough) {
  HistoryBuildReport report;
  RecordSource failing = [](RawRecord*) -> absl::StatusOr<bool> {
    return absl::DataLossError("disk gone");
  };
  EXPECT_EQ(BuildHistorySnapshot(failing, {.depth = 6}, std::nullopt, &report)
                .status()
                .code(),
            absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace recsys
