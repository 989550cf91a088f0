#include "records/ingest.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/raw_reader.h"
#include "common/raw_reader_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "records/records_test_util.h"

namespace recsys {
namespace {

using ::recsys::testing::ContentDigest;
using ::recsys::testing::InMonth;
using ::recsys::testing::kRealTest;
using ::recsys::testing::kRealTrain;
using ::recsys::testing::RealTrainLines;
using ::recsys::testing::RowText;
using ::recsys::testing::TempDir;
using ::recsys::testing::WriteText;
using ::testing::HasSubstr;

class IngestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(kRealTrain)) {
      GTEST_SKIP() << "real rows not found at " << kRealTrain;
    }
    auto db = RecordsDb::Open(db_path_, {});
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
  }

  absl::StatusOr<IngestReport> Ingest(const std::string& path) {
    return IngestFile(db_.get(), path, {});
  }

  // Writes a train-layout file of `lines` (data lines) and returns its path.
  std::string TrainFile(absl::string_view name,
                        const std::vector<std::string>& lines) {
    const std::string path = dir_.File(name);
    testing::WriteTrainFile(path, lines);
    return path;
  }

  int64_t Count(const std::string& sql) {
    auto n = db_->sqlite()->QueryInt64(sql);
    EXPECT_TRUE(n.ok()) << n.status();
    return n.value_or(-1);
  }

  // Rows the CSV reader yields for `path` (the reader's own count).
  static int64_t RowsInFile(const std::string& path) {
    auto reader = RawReader::Open(path);
    EXPECT_TRUE(reader.ok()) << reader.status();
    RawRecord record;
    std::vector<RowError> errors;
    int64_t rows = 0;
    while ((*reader)->Next(&record, &errors)) ++rows;
    return rows;
  }

  // Every count the database and the report keep agrees: rows read = stored
  // + refused, per file and summed over months.
  void ExpectCountsAddUp(const IngestReport& r, int64_t rows_in_file) {
    EXPECT_EQ(r.rows_read, rows_in_file);
    EXPECT_EQ(r.rows_read, r.rows_stored + r.rows_refused);
    int64_t stored = 0, refused = 0;
    for (const IngestedMonth& m : r.months) {
      stored += m.rows;
      refused += m.rows_refused;
    }
    EXPECT_EQ(stored, r.rows_stored);
    EXPECT_EQ(refused, r.rows_refused);
    EXPECT_EQ(Count("SELECT count(*) FROM records"), r.rows_stored);
    EXPECT_EQ(Count("SELECT sum(rows) FROM months"), r.rows_stored);
    EXPECT_EQ(Count("SELECT sum(rows_refused) FROM months"), r.rows_refused);
    EXPECT_EQ(Count("SELECT count(DISTINCT line) FROM row_errors WHERE refused = 1"),
              r.rows_refused);
    EXPECT_EQ(Count("SELECT count(DISTINCT line) FROM row_errors WHERE refused = 0"),
              r.rows_with_field_errors);
    EXPECT_EQ(Count("SELECT rows_read - rows_stored - rows_refused FROM files "
                    "ORDER BY file_id DESC LIMIT 1"),
              0);
  }

  TempDir dir_;
  const std::string db_path_ = dir_.File("records.db");
  std::unique_ptr<RecordsDb> db_;
};

TEST_F(IngestTest, RealTrainRowsAreAllStoredAndCountsAddUp) {
  auto report = Ingest(kRealTrain);
  ASSERT_TRUE(report.ok()) << report.status();
  ExpectCountsAddUp(*report, RowsInFile(kRealTrain));
  EXPECT_EQ(report->rows_read, 999);
  EXPECT_EQ(report->rows_refused, 0);
  ASSERT_EQ(report->months.size(), 1u);
  EXPECT_EQ(report->months[0].month, "2015-01");
  EXPECT_EQ(report->layout, FileLayout::kTrain);
  EXPECT_EQ(report->checksum.size(), 16u);
}

TEST_F(IngestTest, RealTestRowsAreAllStoredWithoutProducts) {
  auto report = Ingest(kRealTest);
  ASSERT_TRUE(report.ok()) << report.status();
  ExpectCountsAddUp(*report, RowsInFile(kRealTest));
  EXPECT_EQ(report->rows_read, 38171);
  EXPECT_EQ(report->rows_refused, 0);  // M/D/YYYY dates, CRLF: all usable
  EXPECT_EQ(report->layout, FileLayout::kTest);
  EXPECT_EQ(Count("SELECT count(*) FROM records WHERE owned IS NULL AND "
                  "ind_recibo_ult1 IS NULL AND month = '2016-06'"),
            report->rows_stored);
  auto months = db_->ListMonths();
  ASSERT_TRUE(months.ok());
  ASSERT_EQ(months->size(), 1u);
  EXPECT_FALSE((*months)[0].has_products);
  EXPECT_FALSE((*months)[0].products_added.has_value());
}

TEST_F(IngestTest, KeepsEveryColumnTextAsRead) {
  ASSERT_TRUE(Ingest(kRealTrain).ok());
  auto query = db_->sqlite()->Prepare(
      "SELECT age, antiguedad, nomprov, renta, indrel_1mes, ind_nomina_ult1, "
      "customer, owned FROM records WHERE id = ?1");
  ASSERT_TRUE(query.ok());
  query->BindInt64(1, RecordId(2015 * 12, 2));  // line 2: the first row
  ASSERT_TRUE(*query->Step());
  EXPECT_EQ(query->ColumnText(0), " 35");
  EXPECT_EQ(query->ColumnText(1), "      6");
  EXPECT_EQ(query->ColumnText(2), "MALAGA");  // unquoted
  EXPECT_EQ(query->ColumnText(3), "87218.1");
  EXPECT_EQ(query->ColumnText(4), "1.0");
  EXPECT_EQ(query->ColumnText(5), " 0");
  EXPECT_EQ(query->ColumnInt64(6), 1375586);
  EXPECT_EQ(query->ColumnInt64(7), ProductBit(2));  // ind_cco_fin_ult1 only
}

TEST_F(IngestTest, MutatedRowsAreRefusedOrStoredWithTheirErrorsAndCountsAddUp) {
  std::vector<std::string> lines = RealTrainLines();
  lines.erase(lines.begin());  // the header
  const std::string first = lines[0];
  // Before the first stored row: refused, counted in the first month.
  lines.insert(lines.begin(), RowText(first).Set("ncodpers", "NA").str());
  lines[5] = RowText(lines[5]).Set("age", "3x").str();           // stored
  lines[6] = RowText(lines[6]).Set("fecha_dato", "2015-13-28").str();  // refused
  lines[7] = RowText(lines[7]).DropLast(1).str();                // refused
  lines[8] = RowText(lines[8]).Set("ncodpers", "99999999999").str();  // refused
  lines[9] = first;                                              // duplicate
  lines[10] = RowText(lines[10]).Set("segmento", "\"01 - TOP").str();  // refused
  lines[11] = RowText(lines[11]).Set("ind_recibo_ult1", "7").str();    // stored
  const std::string path = TrainFile("mutated.csv", lines);

  auto report = Ingest(path);
  ASSERT_TRUE(report.ok()) << report.status();
  ExpectCountsAddUp(*report, RowsInFile(path));
  EXPECT_EQ(report->rows_read, 1000);
  EXPECT_EQ(report->rows_refused, 6);
  EXPECT_EQ(report->rows_with_field_errors, 2);
  ASSERT_EQ(report->months.size(), 1u);
  EXPECT_EQ(report->months[0].rows_refused, 6);
  // Each refused line has its reason, with line numbers of the file.
  EXPECT_EQ(Count("SELECT count(*) FROM row_errors WHERE line = 2 AND "
                  "column_name = 'ncodpers' AND refused = 1"),
            1);
  EXPECT_EQ(Count("SELECT count(*) FROM row_errors WHERE line = 11 AND "
                  "reason LIKE 'customer listed twice in 2015-01 (first at "
                  "line 3)%'"),
            1);
  EXPECT_EQ(Count("SELECT count(*) FROM row_errors WHERE line = 10 AND "
                  "value = '99999999999' AND refused = 1"),
            1);
  EXPECT_EQ(Count("SELECT count(*) FROM row_errors WHERE line = 7 AND "
                  "column_name = 'age' AND value = '3x' AND refused = 0"),
            1);
  // The stored row with a bad field keeps its text.
  EXPECT_EQ(Count("SELECT count(*) FROM records WHERE age = '3x'"), 1);
  EXPECT_THAT(FormatIngestReport(*report),
              HasSubstr("1000 rows read = 994 stored + 6 refused"));
}

TEST_F(IngestTest, IngestingTheSameFileAgainGivesTheSameContents) {
  ASSERT_TRUE(Ingest(kRealTrain).ok());
  const uint64_t once = ContentDigest(db_.get());
  auto again = Ingest(kRealTrain);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->months[0].replaced);
  EXPECT_EQ(ContentDigest(db_.get()), once);
  EXPECT_EQ(Count("SELECT count(*) FROM records"), 999);
  EXPECT_EQ(Count("SELECT count(*) FROM files"), 2);  // the ingest log
}

TEST_F(IngestTest, AMonthIngestedAgainIsReplacedWhole) {
  std::vector<std::string> lines = RealTrainLines();
  lines.erase(lines.begin());
  std::vector<std::string> january(lines.begin(), lines.begin() + 500);
  std::vector<std::string> february = InMonth(january, "2015-02-28");
  std::vector<std::string> both = january;
  both.insert(both.end(), february.begin(), february.end());
  both.push_back("garbage");  // refused, counted in 2015-02
  ASSERT_TRUE(Ingest(TrainFile("both.csv", both)).ok());
  EXPECT_EQ(Count("SELECT rows_refused FROM months WHERE month = '2015-02'"), 1);

  // 2015-02 again, from a file with fewer rows: its rows, errors and counts
  // are the new file's; 2015-01 is untouched.
  std::vector<std::string> fewer(february.begin(), february.begin() + 100);
  auto report = Ingest(TrainFile("february.csv", fewer));
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(report->months[0].replaced);
  EXPECT_EQ(Count("SELECT count(*) FROM records WHERE month = '2015-02'"), 100);
  EXPECT_EQ(Count("SELECT rows FROM months WHERE month = '2015-02'"), 100);
  EXPECT_EQ(Count("SELECT count(*) FROM row_errors WHERE month = '2015-02'"), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM records WHERE month = '2015-01'"), 500);
}

TEST_F(IngestTest, CountsProductsAddedAgainstTheMonthBefore) {
  std::vector<std::string> lines = RealTrainLines();
  lines.erase(lines.begin());
  std::vector<std::string> january(lines.begin(), lines.begin() + 50);
  std::vector<std::string> february = InMonth(january, "2015-02-28");
  // Two customers add direct debit; one new customer brings one product.
  february[0] = RowText(february[0]).Set("ind_recibo_ult1", "1").str();
  february[1] = RowText(february[1]).Set("ind_recibo_ult1", "1").str();
  february.push_back(InMonth({lines[60]}, "2015-02-28")[0]);
  std::vector<std::string> both = january;
  both.insert(both.end(), february.begin(), february.end());
  ASSERT_TRUE(Ingest(TrainFile("both.csv", both)).ok());
  const int64_t new_customer_products =
      Count("SELECT owned FROM records WHERE month = '2015-02' ORDER BY id "
            "DESC LIMIT 1");
  const int64_t expected = 2 + CountProducts(static_cast<ProductMask>(new_customer_products));
  EXPECT_EQ(Count("SELECT products_added FROM months WHERE month = '2015-02'"),
            expected);
  EXPECT_EQ(Count("SELECT products_added IS NULL FROM months WHERE month = '2015-01'"),
            1);

  // January again, now already owning direct debit for everybody: February's
  // count follows (the month after an ingested month is recounted).
  std::vector<std::string> january2 = january;
  for (std::string& l : january2) l = RowText(l).Set("ind_recibo_ult1", "1").str();
  ASSERT_TRUE(Ingest(TrainFile("january.csv", january2)).ok());
  EXPECT_EQ(Count("SELECT products_added FROM months WHERE month = '2015-02'"),
            expected - 2);

  // The truth of February agrees with the counts.
  auto truth = db_->Truth("2015-02");
  ASSERT_TRUE(truth.ok()) << truth.status();
  ASSERT_EQ(truth->size(), 51u);
  int64_t added = 0;
  for (const TruthRecord& t : *truth) added += CountProducts(t.added);
  EXPECT_EQ(added, expected - 2);
  EXPECT_EQ(truth->back().added, truth->back().owned);  // a new customer
  EXPECT_EQ(db_->Truth("2015-01").status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(db_->Truth("2015-03").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(db_->Truth("2015-3").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(IngestTest, MonthsOutOfOrderRefuseTheFileAndChangeNothing) {
  ASSERT_TRUE(Ingest(kRealTrain).ok());
  const uint64_t before = ContentDigest(db_.get());
  std::vector<std::string> lines = RealTrainLines();
  lines.erase(lines.begin());
  std::vector<std::string> rows = InMonth({lines[0]}, "2015-03-28");
  rows.push_back(lines[1]);  // January after March
  auto report = Ingest(TrainFile("disorder.csv", rows));
  EXPECT_EQ(report.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(report.status().message(),
              HasSubstr("line 3 has 2015-01 after 2015-03"));
  EXPECT_EQ(ContentDigest(db_.get()), before);
  EXPECT_EQ(Count("SELECT count(*) FROM files"), 1);
}

// The real rows moved to months `first`..`last` of 2015 (998 rows each):
// files of several thousand rows.
std::vector<std::string> RealRowsInMonths(int first, int last) {
  std::vector<std::string> lines = RealTrainLines();
  lines.erase(lines.begin());
  std::vector<std::string> rows;
  for (int month = first; month <= last; ++month) {
    for (std::string& row :
         InMonth(lines, absl::StrFormat("2015-%02d-28", month))) {
      rows.push_back(std::move(row));
    }
  }
  return rows;
}

TEST_F(IngestTest, AFileOfManyMonthsIsStoredRowForRowUnderItsLines) {
  const std::string path = TrainFile("big.csv", RealRowsInMonths(1, 11));
  auto report = Ingest(path);
  ASSERT_TRUE(report.ok()) << report.status();
  ExpectCountsAddUp(*report, RowsInFile(path));
  EXPECT_EQ(report->months.size(), 11u);
  // Each row under the line it was read from: the reader's (line, customer)
  // pairs are the database's.
  auto reader = RawReader::Open(path);
  ASSERT_TRUE(reader.ok());
  RawRecord record;
  std::vector<RowError> errors;
  int64_t rows = 0, matched = 0;
  auto find = db_->sqlite()->Prepare(
      "SELECT customer FROM records WHERE id = ?1");
  ASSERT_TRUE(find.ok());
  while ((*reader)->Next(&record, &errors)) {
    if (!record.fecha_dato.present() || !record.ncodpers.present()) continue;
    ++rows;
    find->BindInt64(1, RecordId(record.fecha_dato.value.MonthIndex(),
                                record.line));
    auto row = find->Step();
    ASSERT_TRUE(row.ok());
    if (*row && find->ColumnInt64(0) == record.ncodpers.value) ++matched;
    find->Reset();
  }
  EXPECT_GT(rows, 10000);
  EXPECT_EQ(matched, report->rows_stored);
}

TEST_F(IngestTest, AnErrorThousandsOfRowsInChangesNothing) {
  ASSERT_TRUE(Ingest(kRealTrain).ok());
  const uint64_t before = ContentDigest(db_.get());
  std::vector<std::string> rows = RealRowsInMonths(2, 6);
  const int64_t bad_line = static_cast<int64_t>(rows.size()) + 2;
  rows.push_back(RealRowsInMonths(1, 1)[0]);  // January after June
  for (std::string& row : RealRowsInMonths(7, 12)) rows.push_back(row);
  auto report = Ingest(TrainFile("late_disorder.csv", rows));
  EXPECT_EQ(report.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(report.status().message(),
              HasSubstr(absl::StrCat("line ", bad_line,
                                     " has 2015-01 after 2015-06")));
  EXPECT_EQ(ContentDigest(db_.get()), before);
  EXPECT_EQ(Count("SELECT count(*) FROM files"), 1);
}

TEST_F(IngestTest, AKillInTheMiddleLeavesTheDatabaseAsItWas) {
  ASSERT_TRUE(Ingest(kRealTrain).ok());
  const uint64_t before = ContentDigest(db_.get());
  // The same month from another file (so a finished ingest would change it)
  // plus a second month; the child dies half-way through, mid-transaction.
  std::vector<std::string> lines = RealTrainLines();
  lines.erase(lines.begin());
  std::vector<std::string> rows(lines.begin() + 100, lines.end());
  std::vector<std::string> february = InMonth(rows, "2015-02-28");
  rows.insert(rows.end(), february.begin(), february.end());
  const std::string path = TrainFile("two_months.csv", rows);

  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto db = RecordsDb::Open(db_path_, {});
    if (!db.ok()) _exit(3);
    IngestOptions options;
    options.progress_every_rows = 1500;  // inside February
    options.progress = [](int64_t) { raise(SIGKILL); };
    (void)IngestFile(db->get(), path, options);
    _exit(4);  // not reached when the kill happened
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status)) << "child exit status " << WEXITSTATUS(status);
  ASSERT_EQ(WTERMSIG(status), SIGKILL);

  // A fresh connection (the state another process would see after the crash).
  db_.reset();
  auto reopened = RecordsDb::Open(db_path_, {});
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  db_ = std::move(*reopened);
  EXPECT_EQ(ContentDigest(db_.get()), before);
  auto check = db_->sqlite()->Prepare("PRAGMA integrity_check");
  ASSERT_TRUE(check.ok());
  ASSERT_TRUE(*check->Step());
  EXPECT_EQ(check->ColumnText(0), "ok");
  EXPECT_EQ(Count("SELECT count(*) FROM files"), 1);
  // And the same ingest, not killed, goes through.
  auto report = Ingest(path);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(Count("SELECT count(*) FROM records"), 2 * 899);
}

TEST_F(IngestTest, ASecondWriterWaitsThenFailsClearlyAndChangesNothing) {
  ASSERT_TRUE(Ingest(kRealTrain).ok());
  const uint64_t before = ContentDigest(db_.get());
  // Another connection holds the write lock (as a running ingest does).
  auto other = SqliteDb::Open(db_path_, {});
  ASSERT_TRUE(other.ok());
  auto holding = SqliteTransaction::Begin(other->get(), /*write=*/true);
  ASSERT_TRUE(holding.ok()) << holding.status();

  auto impatient = RecordsDb::Open(db_path_, {.busy_timeout = absl::Milliseconds(50)});
  ASSERT_TRUE(impatient.ok()) << impatient.status();
  auto report = IngestFile(impatient->get(), kRealTrain, {});
  EXPECT_EQ(report.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(report.status().message(), HasSubstr("database is locked"));
  EXPECT_THAT(report.status().message(), HasSubstr(db_path_));
  ASSERT_TRUE(holding->Commit().ok());
  EXPECT_EQ(ContentDigest(db_.get()), before);
  // Once the lock is free the same connection ingests.
  EXPECT_TRUE(IngestFile(impatient->get(), kRealTrain, {}).ok());
}

TEST_F(IngestTest, TwoIngestsAtOnceBothFinishOneAfterTheOther) {
  std::vector<std::string> lines = RealTrainLines();
  lines.erase(lines.begin());
  const std::string february =
      TrainFile("february.csv", InMonth(lines, "2015-02-28"));
  absl::Status results[2];
  std::thread threads[2];
  const std::string paths[2] = {kRealTrain, february};
  for (int i = 0; i < 2; ++i) {
    threads[i] = std::thread([&, i] {
      auto db = RecordsDb::Open(db_path_, {});
      results[i] = db.ok() ? IngestFile(db->get(), paths[i], {}).status()
                           : db.status();
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_TRUE(results[0].ok()) << results[0];
  EXPECT_TRUE(results[1].ok()) << results[1];
  EXPECT_EQ(Count("SELECT count(*) FROM records"), 2 * 999);
  EXPECT_EQ(Count("SELECT count(*) FROM months"), 2);
  EXPECT_EQ(Count("SELECT products_added IS NOT NULL FROM months WHERE "
                  "month = '2015-02'"),
            1);  // whichever came second saw the other's month
}

TEST_F(IngestTest, ADatabaseMadeBeforeAColumnExistedGetsItOnOpen) {
  ASSERT_TRUE(Ingest(kRealTrain).ok());
  ASSERT_TRUE(db_->sqlite()->Exec("ALTER TABLE records DROP COLUMN segmento").ok());
  db_.reset();
  auto reopened = RecordsDb::Open(db_path_, {});
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  db_ = std::move(*reopened);
  EXPECT_EQ(Count("SELECT count(*) FROM records WHERE segmento IS NULL"), 999);
  ASSERT_TRUE(Ingest(kRealTrain).ok());
  EXPECT_EQ(Count("SELECT count(*) FROM records WHERE segmento IS NULL"), 0);
}

TEST_F(IngestTest, AFileWithoutAUsableRowIsRefused) {
  const std::string path = TrainFile("bad.csv", {"garbage", "more,garbage"});
  auto report = Ingest(path);
  EXPECT_EQ(report.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(report.status().message(), HasSubstr("2 rows read"));
  EXPECT_EQ(Count("SELECT count(*) FROM files"), 0);
  EXPECT_EQ(Ingest(dir_.File("missing.csv")).status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace recsys
