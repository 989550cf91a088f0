// End to end: the in-server drift monitor on a real server with a tiny real
// bundle. Scoring an ordinary generated test month keeps every feature's PSI
// low; scoring the same month generated with --drift raises the PSI of the
// shifted columns and leaves the other features where they were.
//
// What the generator and the reference make of it (measured, 12,000
// customers, seed 3, the whole month in the window):
//   - Two calendar features move with the month by construction
//     (fecha_dato_month, months_since_first_seen: FeatureInfo::
//     follows_calendar). The bundle's reference marks them unmonitored and
//     the server exports no bins or PSI for them; they would otherwise read
//     PSI ~18 and ~6.5 in every new month.
//   - Each month is scored by a fresh server whose window holds the whole
//     month (see kWindow).
//   - --drift moves age, renta, canal_entrada and segmento past 0.25.
//   - The prediction mix is compared with what the model predicts for the
//     last training month's sample with its calendar features advanced to
//     the month served (training/trainer.cc): PSI ~0.004 for the ordinary
//     month (0.120 against the unadvanced sample), ~0.075 with --drift.
#include <algorithm>
#include <cstdio>
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

// A sample that holds a whole test month (about 11,800 rows), for exact
// comparisons between the ordinary and the drifted month.
constexpr int kWindow = 12000;

const std::set<std::string> kCalendarFeatures = {"fecha_dato_month",
                                                 "months_since_first_seen"};
const std::set<std::string> kShifted = {"age", "renta", "canal_entrada",
                                        "segmento"};

struct DriftReading {
  std::map<std::string, double> feature_psi;
  std::optional<double> prediction_psi;
  std::set<std::string> binned_features;  // with recsys_feature_bin_total
};

// The metrics options of a server whose drift sample holds a whole month.
MetricsOptions WholeMonth() {
  MetricsOptions options;
  options.drift_window = kWindow;
  options.drift_min_rows = kWindow / 2;
  return options;
}

// The PSIs of a fresh server that scored the whole of `csv` in file order.
DriftReading PsiAfterScoring(const TinyStore& store, const std::string& csv,
                             const MetricsOptions& options = WholeMonth()) {
  std::unique_ptr<LiveServer> live =
      metrics_e2e::StartServer(store.store_dir, options);
  if (live->client == nullptr) return {};
  const BatchScoreSummary summary = metrics_e2e::ScoreFile(*live, csv);
  EXPECT_TRUE(summary.all_scored()) << summary.ToString();
  EXPECT_GT(summary.rows_scored, options.drift_min_rows);
  if (options.drift_window == kWindow) {
    EXPECT_LE(summary.rows_scored, kWindow)
        << "the window should hold the whole month";
  }
  const Exposition e =
      metrics_testing::ParseExposition(metrics_e2e::ScrapeText(*live));
  DriftReading reading;
  for (const Sample& s : e.Find("recsys_feature_psi"))
    reading.feature_psi[s.labels.at("feature")] = s.value;
  for (const Sample& s : e.Find("recsys_feature_bin_total"))
    reading.binned_features.insert(s.labels.at("feature"));
  const std::vector<Sample> prediction = e.Find("recsys_prediction_psi");
  if (prediction.size() == 1) reading.prediction_psi = prediction[0].value;
  return reading;
}

TEST(DriftEndToEndTest, OnlyTheShiftedColumnsDrift) {
  const TinyStore store =
      metrics_e2e::MakeTinyStore("drift_e2e", /*with_drift_month=*/true);
  const DriftReading before = PsiAfterScoring(store, store.test_csv);
  // 100 features, of which the two calendar features are not monitored.
  ASSERT_EQ(before.feature_psi.size(), 98u);
  EXPECT_EQ(before.binned_features.size(), 98u);
  for (const std::string& feature : kCalendarFeatures) {
    EXPECT_FALSE(before.feature_psi.contains(feature)) << feature;
    EXPECT_FALSE(before.binned_features.contains(feature)) << feature;
  }
  for (const auto& [feature, psi] : before.feature_psi) {
    EXPECT_LT(psi, 0.1) << feature << " in the ordinary test month";
  }
  ASSERT_TRUE(before.prediction_psi.has_value());
  EXPECT_LT(*before.prediction_psi, 0.1)
      << "prediction mix in the ordinary test month";

  const DriftReading after = PsiAfterScoring(store, store.drift_csv);
  ASSERT_EQ(after.feature_psi.size(), 98u);
  for (const auto& [feature, psi] : after.feature_psi) {
    if (kShifted.contains(feature)) {
      EXPECT_GT(psi, 0.25) << feature << " (shifted by --drift)";
    } else {
      // Untouched columns: the same rows as in the ordinary month.
      EXPECT_NEAR(psi, before.feature_psi.at(feature), 1e-9)
          << feature << " is not shifted by --drift";
      EXPECT_LT(psi, 0.1) << feature;
    }
  }
  for (const std::string& feature : kShifted) {
    EXPECT_TRUE(after.feature_psi.contains(feature)) << feature;
    std::printf("%s: PSI %.3f ordinary, %.3f with --drift\n", feature.c_str(),
                before.feature_psi.at(feature), after.feature_psi.at(feature));
  }
  std::printf("prediction mix: PSI %.3f ordinary, %.3f with --drift\n",
              before.prediction_psi.value_or(-1),
              after.prediction_psi.value_or(-1));
}

// The default flags (a 5,000-row sample per month) on a month scored in file
// order, which is sorted by customer id and so by join date. A window of the
// last 5,000 rows read the newest customers only: PSI ~6.3 on the date
// features of an ordinary month. The uniform sample per month reads the
// month as a whole.
TEST(DriftEndToEndTest, DefaultFlagsReadAMonthInFileOrderAsAWhole) {
  const TinyStore store =
      metrics_e2e::MakeTinyStore("drift_e2e_default", /*with_drift_month=*/true);
  const MetricsOptions defaults;
  ASSERT_EQ(defaults.drift_window, 5000);
  const DriftReading before = PsiAfterScoring(store, store.test_csv, defaults);
  ASSERT_EQ(before.feature_psi.size(), 98u);
  double worst = 0;
  for (const auto& [feature, psi] : before.feature_psi) {
    EXPECT_LT(psi, 0.1) << feature << " in the ordinary test month";
    worst = std::max(worst, psi);
  }
  const DriftReading after = PsiAfterScoring(store, store.drift_csv, defaults);
  for (const std::string& feature : kShifted) {
    ASSERT_TRUE(after.feature_psi.contains(feature)) << feature;
    EXPECT_GT(after.feature_psi.at(feature), 0.25) << feature;
    std::printf("default flags, %s: PSI %.3f ordinary, %.3f with --drift\n",
                feature.c_str(), before.feature_psi.at(feature),
                after.feature_psi.at(feature));
  }
  std::printf("default flags: highest feature PSI of the ordinary month %.3f\n",
              worst);
}

}  // namespace
}  // namespace recsys
