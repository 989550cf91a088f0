#include "server/realized_quality.h"

#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/date.h"
#include "common/submission.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/metrics.h"

namespace recsys {
namespace {

const int kJune = Date{2016, 6, 28}.MonthIndex();

// Generated months: who owned what in May and June, and what was served for
// June. Customers 0..N-1; some are absent in May (new), some in June
// (gone), some never served, some served but gone.
struct World {
  std::map<uint32_t, ProductMask> may, june;
  ServedMonth served;
  std::vector<SubmissionRow> submission;
  std::vector<TruthRecord> truth;
  std::shared_ptr<const ProductHistorySnapshot> snapshot;  // serves July
};

World Generate(uint32_t seed, int customers) {
  std::mt19937 rng(seed);
  auto chance = [&](double p) {
    return std::uniform_real_distribution<double>(0, 1)(rng) < p;
  };
  World w;
  w.served.month = kJune;
  w.served.versions = {{"santander", 3, 0.03}, {"santander", 4, 0.04}};
  for (uint32_t c = 0; c < static_cast<uint32_t>(customers); ++c) {
    ProductMask owned = 0;
    for (int p = 0; p < kNumProducts; ++p)
      if (chance(0.15)) owned |= ProductBit(p);
    if (!chance(0.1)) w.may[c] = owned;
    ProductMask next = owned;
    for (int p = 0; p < kNumProducts; ++p)
      if (chance(0.03)) next ^= ProductBit(p);
    if (!chance(0.05)) w.june[c] = next;
    if (chance(0.9)) {
      TopKResult top;
      std::vector<int> products(kNumProducts);
      for (int p = 0; p < kNumProducts; ++p) products[p] = p;
      std::shuffle(products.begin(), products.end(), rng);
      const int k = 1 + static_cast<int>(rng() % 9);  // beyond 7 at times
      SubmissionRow& row = w.submission.emplace_back();
      row.ncodpers = c;
      for (int i = 0; i < k; ++i) {
        top.items[top.size++].product = products[i];
        row.products.push_back(products[i]);
      }
      w.served.answers[c] = PackAnswer(static_cast<int>(c % 2), top);
    }
  }
  for (const auto& [c, owned] : w.june) {
    auto before = w.may.find(c);
    w.truth.push_back(
        {.ncodpers = c,
         .added = owned & ~(before == w.may.end() ? 0 : before->second),
         .owned = owned});
  }
  auto builder = ProductHistoryBuilder::Create({.depth = 6});
  EXPECT_TRUE(builder.ok());
  for (const auto& [c, owned] : w.may)
    EXPECT_TRUE((*builder)->Observe(kJune - 1, c, owned).ok());
  for (const auto& [c, owned] : w.june)
    EXPECT_TRUE((*builder)->Observe(kJune, c, owned).ok());
  w.snapshot = *(*builder)->Snapshot();
  return w;
}

TEST(ScoreServedMonthTest, EqualsKaggleEvaluationOfTheSameAnswers) {
  for (uint32_t seed : {1u, 2u, 3u}) {
    const World w = Generate(seed, 5000);
    absl::StatusOr<RealizedMonth> r = ScoreServedMonth(w.served, *w.snapshot);
    ASSERT_TRUE(r.ok()) << r.status();
    absl::StatusOr<EvaluationReport> kaggle = Evaluate(w.submission, w.truth);
    ASSERT_TRUE(kaggle.ok()) << kaggle.status();
    double ap_sum = 0;
    int64_t customers = 0;
    ASSERT_EQ(r->versions.size(), 2u);
    for (const RealizedVersion& v : r->versions) {
      ap_sum += v.ap_sum;
      customers += v.customers;
    }
    EXPECT_EQ(r->truth_customers, kaggle->truth_customers);
    EXPECT_EQ(r->unserved, kaggle->missing_from_submission);
    EXPECT_EQ(r->not_in_truth, kaggle->not_in_truth);
    EXPECT_EQ(customers + r->unserved, kaggle->truth_customers);
    EXPECT_NEAR(ap_sum / (customers + r->unserved), kaggle->map, 1e-9);
    EXPECT_GT(ap_sum, 0);
  }
}

TEST(ScoreServedMonthTest, SplitsTheMonthByTheVersionThatAnswered) {
  const World w = Generate(7, 3000);
  absl::StatusOr<RealizedMonth> r = ScoreServedMonth(w.served, *w.snapshot);
  ASSERT_TRUE(r.ok());
  // Version 4 answered the odd customers: score them alone.
  std::vector<SubmissionRow> odd;
  for (const SubmissionRow& row : w.submission)
    if (row.ncodpers % 2 == 1) odd.push_back(row);
  std::vector<TruthRecord> odd_truth;
  for (const TruthRecord& t : w.truth)
    if (t.ncodpers % 2 == 1 && w.served.answers.count(t.ncodpers))
      odd_truth.push_back(t);
  absl::StatusOr<EvaluationReport> kaggle = Evaluate(odd, odd_truth);
  ASSERT_TRUE(kaggle.ok());
  const RealizedVersion& v4 = r->versions[1];
  EXPECT_EQ(v4.version.version, 4);
  EXPECT_EQ(v4.customers, kaggle->truth_customers);
  EXPECT_NEAR(v4.map7(), kaggle->map, 1e-9);
}

TEST(ScoreServedMonthTest, RefusesAHistoryThatDoesNotHoldTheMonth) {
  World w = Generate(1, 100);
  w.served.month = kJune + 1;  // the month the snapshot serves: no outcome
  EXPECT_EQ(ScoreServedMonth(w.served, *w.snapshot).status().code(),
            absl::StatusCode::kFailedPrecondition);
  w.served.month = kJune - 1;  // needs April, not in the data
  EXPECT_EQ(ScoreServedMonth(w.served, *w.snapshot).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

// Records what RealizedMonth was told.
class RealizedRecorder : public NullMetrics {
 public:
  void RealizedMonth(absl::string_view model, int64_t version,
                     absl::string_view month, double ap_sum, int64_t customers,
                     double validation) override {
    calls.push_back(absl::StrCat(model, " ", version, " ", month, " ",
                                 customers, " ", validation));
  }
  std::vector<std::string> calls;
};

TEST(RealizedQualityTest, EvaluatesEachMonthOncePerProcess) {
  const World w = Generate(5, 500);
  const std::string dir =
      (std::filesystem::path(::testing::TempDir()) / "realized_once").string();
  std::filesystem::remove_all(dir);
  std::map<int64_t, std::shared_ptr<const ModelVersion>> versions;
  for (int64_t v : {3, 4}) {
    ModelVersion::Parts parts;
    parts.manifest.model_name = "santander";
    parts.manifest.version = v;
    parts.manifest.metrics.model_map7 = v / 100.0;
    versions[v] = std::make_shared<ModelVersion>(std::move(parts));
  }
  auto log = ServedLog::Create({.dir = dir});
  ASSERT_TRUE(log.ok());
  // Feed the served answers through Record, as the services do.
  for (const auto& [customer, packed] : w.served.answers) {
    const ServedAnswer a = UnpackAnswer(packed);
    DecodedRequest request;
    request.record.ncodpers.Set(customer);
    RowScore row;
    row.target_month = kJune;
    for (int p : a.ranked()) row.top.items[row.top.size++].product = p;
    (*log)->Record({.model = versions[a.version == 0 ? 3 : 4].get(),
                    .history_month = "2016-07",
                    .requests = {&request, 1},
                    .scores = {&row, 1},
                    .row_models = {},
                    .challenger_history_month = {},
                    .explanations = {}});
  }
  RealizedRecorder metrics;
  RealizedQuality realized(log->get(), &metrics);
  HistoryVersion history;
  history.month = kJune + 1;
  history.snapshot = w.snapshot;
  const std::vector<RealizedMonth> first = realized.OnHistory(history);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].month, kJune);
  EXPECT_THAT(metrics.calls,
              ::testing::UnorderedElementsAre(
                  ::testing::AllOf(::testing::StartsWith("santander 3 2016-06 "),
                                   ::testing::EndsWith(" 0.03")),
                  ::testing::AllOf(::testing::StartsWith("santander 4 2016-06 "),
                                   ::testing::EndsWith(" 0.04"))));
  // The same history again (a republish): nothing is counted twice.
  EXPECT_TRUE(realized.OnHistory(history).empty());
  EXPECT_EQ(metrics.calls.size(), 2u);
  // A new process on the same log and history derives the same numbers.
  RealizedRecorder again;
  RealizedQuality restarted(log->get(), &again);
  const std::vector<RealizedMonth> second = restarted.OnHistory(history);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(again.calls, metrics.calls);
  for (size_t v = 0; v < first[0].versions.size(); ++v) {
    EXPECT_EQ(second[0].versions[v].ap_sum, first[0].versions[v].ap_sum);
  }
  EXPECT_THAT(DescribeRealized(first[0])[0],
              ::testing::MatchesRegex(
                  "realized 2016-06: santander version [34]: [0-9]+ "
                  "customers, MAP@7 0\\.[0-9]+ \\(validation 0\\.0[34]0000\\);"
                  " month: [0-9]+ customers, [0-9]+ not served, [0-9]+ "
                  "served not in the month"));
}

}  // namespace
}  // namespace recsys
