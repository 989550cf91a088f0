#include "records/records_reader.h"

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/str_join.h"
#include "common/raw_columns.h"
#include "common/raw_reader_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "records/ingest.h"
#include "records/records_test_util.h"

namespace recsys {
namespace {

using ::recsys::testing::InMonth;
using ::recsys::testing::kRealTest;
using ::recsys::testing::kRealTrain;
using ::recsys::testing::RealTrainLines;
using ::recsys::testing::RowText;
using ::recsys::testing::TempDir;
using ::recsys::testing::WriteText;
using ::testing::HasSubstr;

// Every field of a record, its state and value, as text.
std::string Describe(const RawRecord& r) {
  auto field = [](const auto& f) {
    return absl::StrCat(static_cast<int>(f.state), ":", f.value);
  };
  auto date = [](const DateField& f) {
    return absl::StrCat(static_cast<int>(f.state), ":", f.value.ToString());
  };
  return absl::StrJoin(
      {absl::StrCat(r.line), date(r.fecha_dato), field(r.ncodpers),
       field(r.ind_empleado), field(r.pais_residencia), field(r.sexo),
       field(r.age), date(r.fecha_alta), field(r.ind_nuevo),
       field(r.antiguedad), field(r.indrel), date(r.ult_fec_cli_1t),
       field(r.indrel_1mes), field(r.tiprel_1mes), field(r.indresi),
       field(r.indext), field(r.conyuemp), field(r.canal_entrada),
       field(r.indfall), field(r.tipodom), field(r.cod_prov), field(r.nomprov),
       field(r.ind_actividad_cliente), field(r.renta), field(r.segmento),
       absl::StrCat(r.has_products, ":", r.products, ":", r.products_missing,
                    ":", r.products_invalid)},
      "|");
}

// Every record and error a reader yields, one line each.
std::vector<std::string> ReadAll(RawReader* reader) {
  std::vector<std::string> out;
  RawRecord record;
  std::vector<RowError> errors;
  while (reader->Next(&record, &errors)) {
    out.push_back(Describe(record));
    for (const RowError& e : errors) out.push_back(e.ToString());
  }
  EXPECT_TRUE(reader->status().ok()) << reader->status();
  return out;
}

// The ncodpers of a data line (the second field, before any quoted one).
int64_t CustomerOf(absl::string_view line) {
  std::vector<absl::string_view> fields = absl::StrSplit(line, ',');
  int64_t id = 0;
  EXPECT_TRUE(absl::SimpleAtoi(absl::StripAsciiWhitespace(fields[1]), &id));
  return id;
}

class RecordsReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(kRealTrain)) {
      GTEST_SKIP() << "real rows not found at " << kRealTrain;
    }
  }
  void Ingest(const std::string& path) {
    auto db = RecordsDb::Open(db_path_, {});
    ASSERT_TRUE(db.ok()) << db.status();
    auto report = IngestFile(db->get(), path, {});
    ASSERT_TRUE(report.ok()) << report.status();
  }
  std::string TrainFile(absl::string_view name,
                        const std::vector<std::string>& lines) {
    const std::string path = dir_.File(name);
    testing::WriteTrainFile(path, lines);
    return path;
  }

  TempDir dir_;
  const std::string db_path_ = dir_.File("records.db");
};

TEST_F(RecordsReaderTest, YieldsTheRecordsAndErrorsTheCsvReaderYields) {
  // The real rows, plus stored rows with field errors (both paths keep them).
  std::vector<std::string> lines = RealTrainLines();
  lines.erase(lines.begin());
  lines[3] = RowText(lines[3]).Set("age", "3x").str();
  lines[4] = RowText(lines[4]).Set("ind_nomina_ult1", "NA").str();
  lines[5] = RowText(lines[5]).Set("fecha_alta", "2015-02-30").str();
  std::vector<std::string> february = InMonth(lines, "2015-02-28");
  lines.insert(lines.end(), february.begin(), february.end());
  const std::string path = TrainFile("train.csv", lines);
  Ingest(path);

  auto csv = RawReader::Open(path);
  ASSERT_TRUE(csv.ok());
  auto snapshot = RecordsSnapshot::Open(db_path_, "");
  ASSERT_TRUE(snapshot.ok()) << snapshot.status();
  EXPECT_EQ((*snapshot)->months().size(), 2u);
  auto db = (*snapshot)->NewReader();
  ASSERT_TRUE(db.ok()) << db.status();
  const std::vector<std::string> from_csv = ReadAll(csv->get());
  EXPECT_EQ(ReadAll(db->get()), from_csv);
  EXPECT_EQ(from_csv.size(), 2 * 999 + 2 * 2u);  // "NA" is no error
  // A second reader of the same snapshot starts again.
  auto again = (*snapshot)->NewReader();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(ReadAll(again->get()), from_csv);
}

TEST_F(RecordsReaderTest, StopsAtTheThroughMonth) {
  std::vector<std::string> lines = RealTrainLines();
  lines.erase(lines.begin());
  std::vector<std::string> february = InMonth(lines, "2015-02-28");
  lines.insert(lines.end(), february.begin(), february.end());
  Ingest(TrainFile("train.csv", lines));
  auto snapshot = RecordsSnapshot::Open(db_path_, "2015-01");
  ASSERT_TRUE(snapshot.ok()) << snapshot.status();
  auto reader = (*snapshot)->NewReader();
  ASSERT_TRUE(reader.ok());
  EXPECT_EQ(ReadAll(reader->get()).size(), 999u);
  EXPECT_EQ((*snapshot)->name(), db_path_ + " through 2015-01");
  EXPECT_EQ(RecordsSnapshot::Open(db_path_, "2014-12").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(RecordsSnapshot::Open(db_path_, "2015-1").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(RecordsReaderTest, KeepsItsSnapshotWhileAnIngestReplacesAMonth) {
  Ingest(kRealTrain);
  auto snapshot = RecordsSnapshot::Open(db_path_, "");
  ASSERT_TRUE(snapshot.ok()) << snapshot.status();
  std::vector<std::string> lines = RealTrainLines();
  Ingest(TrainFile("fewer.csv", {lines[1], lines[2]}));  // replaces 2015-01
  auto reader = (*snapshot)->NewReader();
  ASSERT_TRUE(reader.ok());
  EXPECT_EQ(ReadAll(reader->get()).size(), 999u);
  auto fresh = RecordsSnapshot::Open(db_path_, "");
  ASSERT_TRUE(fresh.ok());
  auto fresh_reader = (*fresh)->NewReader();
  ASSERT_TRUE(fresh_reader.ok());
  EXPECT_EQ(ReadAll(fresh_reader->get()).size(), 2u);
}

TEST_F(RecordsReaderTest, RefusesToTrainOnATestLayoutMonth) {
  Ingest(kRealTrain);
  Ingest(kRealTest);  // 2016-06, no products
  auto snapshot = RecordsSnapshot::Open(db_path_, "2016-06");
  EXPECT_EQ(snapshot.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(snapshot.status().message(),
              HasSubstr("month 2016-06 was ingested from a test-layout file"));
  // By default: through the newest month with products.
  auto latest = RecordsSnapshot::Open(db_path_, "");
  ASSERT_TRUE(latest.ok()) << latest.status();
  EXPECT_EQ((*latest)->months().back().month, "2015-01");
}

TEST_F(RecordsReaderTest, AMissingDatabaseIsNotFound) {
  auto snapshot = RecordsSnapshot::Open(dir_.File("none.db"), "");
  EXPECT_EQ(snapshot.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(snapshot.status().message(), HasSubstr("none.db"));
}


TEST_F(RecordsReaderTest, ReadNewestRecordFindsTheCustomersNewestMonth) {
  std::vector<std::string> lines = RealTrainLines();
  lines.erase(lines.begin());
  std::vector<std::string> february = InMonth(lines, "2015-02-28");
  february[0] = RowText(february[0]).Set("age", "77").str();
  // January and February; the second customer only in January.
  february.erase(february.begin() + 1);
  lines.insert(lines.end(), february.begin(), february.end());
  Ingest(TrainFile("train.csv", lines));
  auto db = RecordsDb::Open(db_path_, {.read_only = true});
  ASSERT_TRUE(db.ok()) << db.status();
  EXPECT_EQ((*db)->HasCustomerIndex().value_or(false), true);

  const int64_t first = CustomerOf(lines[0]);
  auto newest = ReadNewestRecord(db->get(), first);
  ASSERT_TRUE(newest.ok()) << newest.status();
  ASSERT_TRUE(newest->has_value());
  EXPECT_EQ((*newest)->month, "2015-02");
  EXPECT_EQ((*newest)->record.ncodpers.value, first);
  EXPECT_EQ((*newest)->record.fecha_dato.value.ToString(), "2015-02-28");
  EXPECT_EQ((*newest)->record.age.value, 77);

  const int64_t second = CustomerOf(lines[1]);
  auto january = ReadNewestRecord(db->get(), second);
  ASSERT_TRUE(january.ok() && january->has_value());
  EXPECT_EQ((*january)->month, "2015-01");

  auto unknown = ReadNewestRecord(db->get(), 999999999);
  ASSERT_TRUE(unknown.ok()) << unknown.status();
  EXPECT_FALSE(unknown->has_value());
}

TEST_F(RecordsReaderTest, OpeningASchemaOneFileReadWriteAddsTheCustomerIndex) {
  std::vector<std::string> lines = RealTrainLines();
  lines.erase(lines.begin());
  Ingest(TrainFile("train.csv", lines));
  {
    auto db = RecordsDb::Open(db_path_, {});
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->sqlite()->Exec("DROP INDEX records_by_customer; "
                                      "PRAGMA user_version = 1").ok());
  }
  {
    auto old = RecordsDb::Open(db_path_, {.read_only = true});
    ASSERT_TRUE(old.ok()) << old.status();
    EXPECT_EQ((*old)->HasCustomerIndex().value_or(true), false);
  }
  auto migrated = RecordsDb::Open(db_path_, {});
  ASSERT_TRUE(migrated.ok()) << migrated.status();
  EXPECT_EQ((*migrated)->HasCustomerIndex().value_or(false), true);
  EXPECT_EQ((*migrated)->sqlite()->QueryInt64("PRAGMA user_version").value_or(0),
            kRecordsSchemaVersion);
}

}  // namespace
}  // namespace recsys
