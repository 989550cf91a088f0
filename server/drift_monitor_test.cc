#include "server/drift_monitor.h"

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include "featurizer/binning.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace recsys {
namespace {

using ::testing::ElementsAre;
using ::testing::Optional;

const std::vector<double> kThreeBins = {0.5, 0.3, 0.2};
constexpr int kJune = 2016 * 12 + 5;

std::unique_ptr<DriftMonitor> Monitor(std::vector<std::vector<double>> shares,
                                      int window, int min_rows) {
  absl::StatusOr<std::unique_ptr<DriftMonitor>> m = DriftMonitor::Create(
      std::move(shares), {.window_rows = window, .min_rows = min_rows});
  EXPECT_TRUE(m.ok()) << m.status();
  return m.ok() ? *std::move(m) : nullptr;
}

// `rows` single-variable rows whose bins follow `shares`.
std::vector<uint8_t> RowsDrawnFrom(const std::vector<double>& shares, int rows,
                                   uint32_t seed) {
  std::mt19937 rng(seed);
  std::discrete_distribution<int> bin(shares.begin(), shares.end());
  std::vector<uint8_t> out(rows);
  for (uint8_t& b : out) b = static_cast<uint8_t>(bin(rng));
  return out;
}

void AddSame(DriftMonitor& m, uint8_t bin, int rows, int month = kJune) {
  std::vector<uint8_t> bins(rows, bin);
  m.AddRows(month, bins.data(), rows);
}

TEST(DriftMonitorTest, RowsFromTheReferenceGiveAPsiNearZero) {
  auto m = Monitor({kThreeBins}, 5000, 2000);
  std::vector<uint8_t> rows = RowsDrawnFrom(kThreeBins, 5000, 7);
  m->AddRows(kJune, rows.data(), 5000);
  ASSERT_TRUE(m->Psi(0).has_value());
  EXPECT_LT(*m->Psi(0), 0.01);
}

TEST(DriftMonitorTest, ShiftedRowsGiveAHighPsi) {
  auto m = Monitor({kThreeBins}, 5000, 2000);
  std::vector<uint8_t> rows = RowsDrawnFrom({0.2, 0.3, 0.5}, 5000, 7);
  m->AddRows(kJune, rows.data(), 5000);
  EXPECT_THAT(m->Psi(0), Optional(::testing::Gt(0.25)));
}

TEST(DriftMonitorTest, PsiIsTheBinningPsiOfTheWindowCounts) {
  auto m = Monitor({kThreeBins}, 100, 10);
  AddSame(*m, 0, 60);
  AddSame(*m, 2, 40);
  EXPECT_THAT(m->Counts(0), ElementsAre(60, 0, 40));
  EXPECT_THAT(m->Psi(0),
              Optional(::testing::DoubleEq(Psi({60, 0, 40}, kThreeBins))));
}

TEST(DriftMonitorTest, PsiIsAbsentBelowMinRows) {
  auto m = Monitor({kThreeBins}, 100, 50);
  AddSame(*m, 0, 49);
  EXPECT_EQ(m->Psi(0), std::nullopt);
  AddSame(*m, 0, 1);
  EXPECT_TRUE(m->Psi(0).has_value());
}

TEST(DriftMonitorTest, TheSampleHoldsAtMostWindowRows) {
  auto m = Monitor({kThreeBins}, 100, 10);
  AddSame(*m, 0, 100);
  AddSame(*m, 1, 300);
  EXPECT_EQ(m->rows(), 100);
  EXPECT_EQ(m->rows_seen(), 400);
  const std::vector<double> counts = m->Counts(0);
  EXPECT_EQ(counts[0] + counts[1] + counts[2], 100);
  EXPECT_EQ(counts[2], 0);
}

// A month in sorted order (the file order of a month: by customer id, so by
// join date) is sampled as a whole: the last-rows window of the past read
// only its end.
TEST(DriftMonitorTest, AMonthInSortedOrderIsSampledUniformly) {
  std::vector<uint8_t> rows = RowsDrawnFrom(kThreeBins, 40000, 3);
  std::sort(rows.begin(), rows.end());
  auto m = Monitor({kThreeBins}, 5000, 2000);
  m->AddRows(kJune, rows.data(), 40000);
  EXPECT_THAT(m->Psi(0), Optional(::testing::Lt(0.01)));
  // The sample follows the month's shares, not its last rows (all bin 2).
  EXPECT_NEAR(m->Counts(0)[0] / 5000, 0.5, 0.03);
  EXPECT_NEAR(m->Counts(0)[2] / 5000, 0.2, 0.03);
}

TEST(DriftMonitorTest, TheSameRowsInTheSameOrderGiveTheSameSample) {
  std::vector<uint8_t> rows = RowsDrawnFrom(kThreeBins, 9000, 4);
  auto a = Monitor({kThreeBins}, 1000, 10);
  auto b = Monitor({kThreeBins}, 1000, 10);
  a->AddRows(kJune, rows.data(), 9000);
  for (int i = 0; i < 9000; i += 7)
    b->AddRows(kJune, rows.data() + i, std::min(7, 9000 - i));
  EXPECT_EQ(a->Counts(0), b->Counts(0));
}

TEST(DriftMonitorTest, ANewMonthStartsAFreshSample) {
  auto m = Monitor({kThreeBins}, 3000, 1000);
  std::vector<uint8_t> shifted = RowsDrawnFrom({0, 0, 1}, 3000, 1);
  m->AddRows(kJune, shifted.data(), 3000);
  EXPECT_THAT(m->Psi(0), Optional(::testing::Gt(1.0)));
  std::vector<uint8_t> normal = RowsDrawnFrom(kThreeBins, 3000, 2);
  m->AddRows(kJune + 1, normal.data(), 3000);
  EXPECT_EQ(m->month(), kJune + 1);
  EXPECT_THAT(m->Psi(0), Optional(::testing::Lt(0.02)));
}

TEST(DriftMonitorTest, LateRowsOfThePreviousMonthStayInTheirOwnSample) {
  auto m = Monitor({kThreeBins}, 3000, 1000);
  std::vector<uint8_t> normal = RowsDrawnFrom(kThreeBins, 3000, 2);
  m->AddRows(kJune + 1, normal.data(), 3000);
  const double psi = *m->Psi(0);
  AddSame(*m, 2, 500, kJune);      // the month before: its own sample
  AddSame(*m, 2, 500, kJune - 5);  // older than the months kept: ignored
  EXPECT_EQ(m->month(), kJune + 1);
  EXPECT_EQ(m->rows_seen(), 3000);
  EXPECT_DOUBLE_EQ(*m->Psi(0), psi);
  // Two months later, June's sample is dropped and its rows are ignored.
  AddSame(*m, 0, 10, kJune + 2);
  AddSame(*m, 0, 10, kJune);
  EXPECT_EQ(m->month(), kJune + 2);
  EXPECT_EQ(m->rows_seen(), 10);
}

TEST(DriftMonitorTest, VariablesAreCountedIndependentlyAndNoBinIsSkipped) {
  auto m = Monitor({kThreeBins, {0.5, 0.5}}, 100, 3);
  const std::vector<uint8_t> rows = {0, 1,       // row 1
                                     1, kNoBin,  // row 2: no value for v1
                                     2, 7,       // row 3: 7 is out of range
                                     2, 0};      // row 4
  m->AddRows(kJune, rows.data(), 4);
  EXPECT_EQ(m->rows(), 4);
  EXPECT_EQ(m->rows(0), 4);
  EXPECT_EQ(m->rows(1), 2);
  EXPECT_THAT(m->Counts(0), ElementsAre(1, 1, 2));
  EXPECT_THAT(m->Counts(1), ElementsAre(1, 1));
  EXPECT_TRUE(m->Psi(0).has_value());
  EXPECT_EQ(m->Psi(1), std::nullopt);  // 2 rows with a value < min_rows 3
}

TEST(DriftMonitorTest, ReplacingRowsWithNoBinKeepsTheCountsConsistent) {
  auto m = Monitor({{0.5, 0.5}}, 50, 1);
  std::vector<uint8_t> rows = RowsDrawnFrom({0.4, 0.4, 0.2}, 5000, 9);
  for (uint8_t& b : rows) {
    if (b == 2) b = kNoBin;
  }
  m->AddRows(kJune, rows.data(), 5000);
  EXPECT_EQ(m->rows(), 50);
  const std::vector<double> counts = m->Counts(0);
  EXPECT_EQ(counts[0] + counts[1], m->rows(0));
  EXPECT_LT(m->rows(0), 50);  // some sampled rows have no bin
}

TEST(DriftMonitorTest, ClearForgetsEverySample) {
  auto m = Monitor({kThreeBins}, 10, 1);
  AddSame(*m, 1, 10);
  m->Clear();
  EXPECT_EQ(m->rows(), 0);
  EXPECT_EQ(m->Psi(0), std::nullopt);
  AddSame(*m, 2, 3);
  EXPECT_THAT(m->Counts(0), ElementsAre(0, 0, 3));
}

TEST(DriftMonitorTest, CreateRejectsBadShapesAndOptions) {
  EXPECT_EQ(DriftMonitor::Create({}, {}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(DriftMonitor::Create({{}}, {}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(DriftMonitor::Create({std::vector<double>(256, 1.0 / 256)}, {})
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      DriftMonitor::Create({kThreeBins}, {.window_rows = 10, .min_rows = 11})
          .status()
          .code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      DriftMonitor::Create({kThreeBins}, {.window_rows = 0, .min_rows = 0})
          .status()
          .code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(
      DriftMonitor::Create({std::vector<double>(255, 1.0 / 255)}, {}).ok());
}

}  // namespace
}  // namespace recsys
