// Realized quality end to end: a real server with --served-log scores the
// whole test month (2016-06) through the batch scorer; June's actual records
// arrive (the generator's --extra-months file), the history serving 2016-07
// is published into STORE/history, and the server's realized counters then
// equal `recsys evaluate --db records.db --month 2016-06` of the submission
// the batch wrote (the functions that command runs: ReadSubmission,
// RecordsDb::Truth, Evaluate), to 1e-9.
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "client/batch_scorer.h"
#include "common/date.h"
#include "common/file_util.h"
#include "common/raw_reader.h"
#include "common/submission.h"
#include "featurizer/history_records.h"
#include "gtest/gtest.h"
#include "model_store/history_store.h"
#include "records/ingest.h"
#include "records/records_db.h"
#include "tests/server_e2e_util.h"
#include "training/generator.h"

namespace recsys {
namespace {

namespace fs = std::filesystem;

const int kJune = Date{2016, 6, 28}.MonthIndex();

// Sum of the values of `metric`'s series whose labels include `label`.
double SumOf(const std::string& scrape, absl::string_view metric,
             absl::string_view label, int* series = nullptr) {
  double sum = 0;
  int n = 0;
  for (absl::string_view line : absl::StrSplit(scrape, '\n')) {
    if (!absl::StartsWith(line, absl::StrCat(metric, "{")) ||
        !absl::StrContains(line, label)) {
      continue;
    }
    double value = 0;
    EXPECT_TRUE(absl::SimpleAtod(line.substr(line.rfind(' ') + 1), &value))
        << line;
    sum += value;
    ++n;
  }
  if (series != nullptr) *series = n;
  return sum;
}

// The records of several files, one after the other.
RecordSource Chain(std::vector<std::unique_ptr<RawReader>>* readers) {
  auto sources = std::make_shared<std::vector<RecordSource>>();
  for (auto& reader : *readers) sources->push_back(ReaderSource(reader.get()));
  auto at = std::make_shared<size_t>(0);
  return [sources, at](RawRecord* record) -> absl::StatusOr<bool> {
    while (*at < sources->size()) {
      absl::StatusOr<bool> got = (*sources)[*at](record);
      if (!got.ok() || *got) return got;
      ++*at;
    }
    return false;
  };
}

TEST(RealizedE2eTest, TheServedMonthMeetsItsOutcomeAsRecsysEvaluateScoresIt) {
  const std::string work = testing::NewTempDir("realized_e2e");
  const std::string served_dir = work + "/served";
  testing::HarnessOptions options;
  options.real_metrics = true;
  options.poll_interval = absl::Milliseconds(100);
  options.adjust = [served_dir](RecsysServerOptions* o) {
    o->served_log_dir = served_dir;
  };
  auto h = testing::ServerHarness::Start(options);
  ASSERT_NE(h, nullptr);

  // June's actual records: the fixture's data set again, with one extra
  // month (the same bytes for the months the fixture has).
  GeneratorOptions gen;
  gen.customers = testing::FixtureOptions().customers;
  gen.seed = testing::FixtureOptions().seed;
  gen.extra_months = 1;
  gen.out_dir = work + "/data";
  ASSERT_TRUE(GenerateDataset(gen).ok());
  ASSERT_EQ(*ReadFileToString(gen.out_dir + "/test_ver2.csv"),
            *ReadFileToString(h->fixture().test_csv));
  const std::string june_csv = gen.out_dir + "/" + ExtraMonthFileName(kJune);

  // The batch scores the whole test month; the submission is kept.
  auto reader = RawReader::Open(h->fixture().test_csv);
  ASSERT_TRUE(reader.ok()) << reader.status();
  auto scorer = BatchScorer::Create(h->stub(), BatchScoreOptions{});
  ASSERT_TRUE(scorer.ok()) << scorer.status();
  std::ostringstream submission, errors;
  auto summary = (*scorer)->Run(reader->get(), &submission, &errors);
  ASSERT_TRUE(summary.ok()) << summary.status();
  ASSERT_TRUE(summary->all_scored()) << errors.str();
  const std::string submission_csv = work + "/submission.csv";
  ASSERT_TRUE(WriteFileDurably(submission_csv, submission.str()).ok());
  EXPECT_EQ(SumOf(h->metrics()->Scrape(), "recsys_realized_customers_total",
                  "2016-06"),
            0)
      << "no outcome yet";

  // The history serving 2016-07, built from the records through June.
  std::vector<std::unique_ptr<RawReader>> readers;
  for (const std::string& path :
       {h->fixture().train_csv, june_csv}) {
    auto r = RawReader::Open(path);
    ASSERT_TRUE(r.ok()) << r.status();
    readers.push_back(*std::move(r));
  }
  HistoryBuildReport built;
  auto snapshot = BuildHistorySnapshot(Chain(&readers),
                                       {.depth = kDefaultHistoryDepth},
                                       std::nullopt, &built);
  ASSERT_TRUE(snapshot.ok()) << snapshot.status();
  ASSERT_EQ((*snapshot)->target_month(), kJune + 1);
  ASSERT_TRUE(PublishHistory(h->store_dir(), **snapshot, "test").ok());

  std::string scrape;
  ASSERT_TRUE(testing::WaitFor([&] {
    scrape = h->metrics()->Scrape();
    return absl::StrContains(scrape, "recsys_realized_customers_total{");
  })) << scrape;
  int series = 0;
  const double ap_sum =
      SumOf(scrape, "recsys_realized_ap_sum", "month=\"2016-06\"", &series);
  const double customers = SumOf(scrape, "recsys_realized_customers_total",
                                 "month=\"2016-06\"");
  EXPECT_EQ(series, 1) << "one version served the month";
  EXPECT_TRUE(absl::StrContains(
      scrape, "recsys_model_validation_map7{model=\"santander\",version=\"1\"}"))
      << scrape;

  // recsys evaluate --db records.db --month 2016-06 --submission F.
  auto db = RecordsDb::Open(work + "/records.db", {});
  ASSERT_TRUE(db.ok()) << db.status();
  for (const std::string& path : {h->fixture().train_csv, june_csv})
    ASSERT_TRUE(IngestFile(db->get(), path, {}).ok()) << path;
  auto truth = (*db)->Truth("2016-06");
  ASSERT_TRUE(truth.ok()) << truth.status();
  auto rows = ReadSubmission(submission_csv);
  ASSERT_TRUE(rows.ok()) << rows.status();
  auto report = Evaluate(*rows, *truth);
  ASSERT_TRUE(report.ok()) << report.status();

  EXPECT_EQ(report->missing_from_submission, 0);
  EXPECT_EQ(customers, report->truth_customers);
  EXPECT_GT(report->map, 0);
  EXPECT_NEAR(ap_sum / customers, report->map, 1e-9)
      << "served " << ap_sum << " / " << customers << ", recsys evaluate "
      << FormatReport(*report);
}

TEST(RealizedE2eTest, TheServedLogBoundsMustBePositive) {
  RecsysServerOptions options;
  options.store_dir = testing::NewTempDir("realized_flags");
  options.served_log_dir = options.store_dir + "/served";
  options.served_log_months = 0;
  absl::StatusOr<std::unique_ptr<RecsysServer>> server =
      RecsysServer::Create(options);
  EXPECT_EQ(server.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(server.status().message(),
                                "--served-log-months must be at least 1"))
      << server.status();
}

}  // namespace
}  // namespace recsys
