// End to end: the in-server drift monitor on a real server with a tiny real
// bundle. Scoring an ordinary generated test month keeps every feature's PSI
// low; scoring the same month generated with --drift raises the PSI of the
// shifted columns and leaves the other features where they were.
//
// What the generator and the reference make of it (measured, 12,000
// customers, seed 3, the whole month in the window):
//   - The reference is a sample of the last training month (2016-05) and the
//     test month is 2016-06, so two calendar features differ by construction
//     in every served month: fecha_dato_month (constant 5 in the reference,
//     6 now: PSI ~18) and months_since_first_seen (every customer one month
//     older than in the reference: PSI ~6.5). They are checked separately.
//   - Each month is scored by a fresh server whose window holds the whole
//     month (see kWindow).
//   - --drift moves canal_entrada (PSI ~0.66) and segmento (~0.43) well past
//     0.25, but age (+15 years for 25%: ~0.07) and renta (x3 for 30% of those
//     with one: ~0.20) stay below 0.25 with decile bins: the generator shifts
//     them too little. They are required to rise clearly instead.
#include <map>
#include <optional>
#include <set>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/metrics_e2e_util.h"

namespace recsys {
namespace {

using metrics_e2e::LiveServer;
using metrics_e2e::TinyStore;
using metrics_testing::Exposition;
using metrics_testing::Sample;

// The window holds a whole test month (about 11,800 rows). A shorter one
// would see only the end of the file, which is sorted by customer id and so
// by join date: the date features of its last 10,000 rows alone differ from
// the month's (PSI ~0.8 for fecha_alta_year, antiguedad, months_since_alta).
constexpr int kWindow = 12000;

const std::set<std::string> kCalendarFeatures = {"fecha_dato_month",
                                                 "months_since_first_seen"};
const std::set<std::string> kStronglyShifted = {"canal_entrada", "segmento"};
const std::set<std::string> kMildlyShifted = {"age", "renta"};

// The feature PSIs of a fresh server that scored the whole of `csv`.
std::map<std::string, double> FeaturePsiAfterScoring(const TinyStore& store,
                                                     const std::string& csv) {
  MetricsOptions options;
  options.drift_window = kWindow;
  options.drift_min_rows = kWindow / 2;
  std::unique_ptr<LiveServer> live =
      metrics_e2e::StartServer(store.store_dir, options);
  if (live->client == nullptr) return {};
  const BatchScoreSummary summary = metrics_e2e::ScoreFile(*live, csv);
  EXPECT_TRUE(summary.all_scored()) << summary.ToString();
  EXPECT_GT(summary.rows_scored, options.drift_min_rows);
  EXPECT_LE(summary.rows_scored, kWindow)
      << "the window should hold the whole month";
  const Exposition e =
      metrics_testing::ParseExposition(metrics_e2e::ScrapeText(*live));
  std::map<std::string, double> psi;
  for (const Sample& s : e.Find("recsys_feature_psi"))
    psi[s.labels.at("feature")] = s.value;
  return psi;
}

TEST(DriftEndToEndTest, OnlyTheShiftedColumnsDrift) {
  const TinyStore store =
      metrics_e2e::MakeTinyStore("drift_e2e", /*with_drift_month=*/true);
  const std::map<std::string, double> before =
      FeaturePsiAfterScoring(store, store.test_csv);
  ASSERT_EQ(before.size(), 100u);
  for (const auto& [feature, psi] : before) {
    if (kCalendarFeatures.contains(feature)) {
      EXPECT_GT(psi, 1.0)
          << feature << ": a calendar feature, one month after the reference";
    } else {
      EXPECT_LT(psi, 0.1) << feature << " in the ordinary test month";
    }
  }

  const std::map<std::string, double> after =
      FeaturePsiAfterScoring(store, store.drift_csv);
  ASSERT_EQ(after.size(), 100u);
  for (const auto& [feature, psi] : after) {
    if (kStronglyShifted.contains(feature)) {
      EXPECT_GT(psi, 0.25) << feature << " (shifted by --drift)";
    } else if (kMildlyShifted.contains(feature)) {
      EXPECT_GT(psi, 0.05) << feature << " (shifted by --drift)";
      EXPECT_GT(psi, 10 * before.at(feature))
          << feature << " (shifted by --drift)";
    } else {
      // Untouched columns: the same rows as in the ordinary month.
      EXPECT_NEAR(psi, before.at(feature), 1e-9)
          << feature << " is not shifted by --drift";
      if (!kCalendarFeatures.contains(feature)) {
        EXPECT_LT(psi, 0.1) << feature;
      }
    }
  }
}

}  // namespace
}  // namespace recsys
