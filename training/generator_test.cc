// GenerateDataset: the three files, their layout, determinism, the truth
// file and --drift.
#include "training/generator.h"

#include <unistd.h>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/inspect.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "records/ingest.h"
#include "training/gen_customer.h"
#include "training/gen_tables.h"
#include "training/gen_test_util.h"

namespace recsys {
namespace {

using namespace gen::testing;  // NOLINT: the test helpers and constants

TEST(GeneratorTest, FilesReadBackWithoutRowErrors) {
  const GeneratedData& data = SeedOneData();
  ASSERT_TRUE(data.train.status.ok()) << data.train.status;
  ASSERT_TRUE(data.test.status.ok()) << data.test.status;
  EXPECT_EQ(data.train.layout, FileLayout::kTrain);
  EXPECT_EQ(data.test.layout, FileLayout::kTest);
  EXPECT_THAT(data.train.errors, ::testing::IsEmpty())
      << data.train.errors[0].ToString();
  EXPECT_THAT(data.test.errors, ::testing::IsEmpty())
      << data.test.errors[0].ToString();
  EXPECT_GT(data.train.records.size(), 12u * kTestCustomers);
}

TEST(GeneratorTest, InspectFindsNoErrors) {
  const GeneratedData& data = SeedOneData();
  for (absl::string_view file : {kTrainFileName, kTestFileName}) {
    InspectReport report;
    ASSERT_TRUE(InspectFile(PathIn(data.dir, file), &report).ok());
    EXPECT_THAT(report.errors, ::testing::IsEmpty()) << file;
    EXPECT_GT(report.rows, 0) << file;
  }
}

TEST(GeneratorTest, TrainHasTheSeventeenMonthsInOrder) {
  const GeneratedData& data = SeedOneData();
  std::vector<Date> months;
  for (const RawRecord& r : data.train.records) {
    if (months.empty() || !(months.back() == r.fecha_dato.value))
      months.push_back(r.fecha_dato.value);
  }
  ASSERT_EQ(months.size(), 17u);
  for (int m = 0; m < 17; ++m) EXPECT_EQ(months[m], gen::MonthDate(m));
  EXPECT_EQ(months.front().ToString(), "2015-01-28");
  EXPECT_EQ(months.back().ToString(), "2016-05-28");
}

TEST(GeneratorTest, TestFileIsJune2016WithTheDemographicColumnsOnly) {
  const GeneratedData& data = SeedOneData();
  const std::string bytes = ReadFileBytes(PathIn(data.dir, kTestFileName));
  const std::string header = bytes.substr(0, bytes.find('\n'));
  EXPECT_EQ(SplitRawFields(header).size(), 24u);
  EXPECT_THAT(header, ::testing::EndsWith("\"renta\",\"segmento\""));
  ASSERT_FALSE(data.test.records.empty());
  for (const RawRecord& r : data.test.records) {
    ASSERT_EQ(r.fecha_dato.value.ToString(), "2016-06-28");
    ASSERT_FALSE(r.has_products);
  }
}

TEST(GeneratorTest, SameSeedSameBytesOtherSeedOtherBytes) {
  const GeneratedData& data = SeedOneData();
  for (absl::string_view file :
       {kTrainFileName, kTestFileName, kTruthFileName}) {
    const std::string a = ReadFileBytes(PathIn(data.dir, file));
    ASSERT_FALSE(a.empty());
    EXPECT_TRUE(a ==
                ReadFileBytes(PathIn(GeneratedDir("a_again", 1, false), file)))
        << file;
    EXPECT_FALSE(a ==
                 ReadFileBytes(PathIn(GeneratedDir("seed2", 2, false), file)))
        << file;
  }
}

TEST(GeneratorTest, TruthIsTheTestMonthVersusTheLastTrainMonth) {
  const GeneratedData& data = SeedOneData();
  const std::vector<TruthRow> truth =
      gen::testing::ReadTruth(PathIn(data.dir, kTruthFileName));
  const std::string bytes = ReadFileBytes(PathIn(data.dir, kTruthFileName));
  EXPECT_EQ(bytes.substr(0, bytes.find('\n')),
            "ncodpers,added_products,owned_products");
  ASSERT_EQ(truth.size(), data.test.records.size());
  const auto& may = data.months.at(kLastTrainMonth);
  int adding = 0;
  for (size_t i = 0; i < truth.size(); ++i) {
    ASSERT_EQ(truth[i].ncodpers, data.test.records[i].ncodpers.value);
    auto it = may.find(truth[i].ncodpers);
    const ProductMask before = it == may.end() ? 0 : it->second;
    ASSERT_EQ(truth[i].added, truth[i].owned & ~before) << truth[i].ncodpers;
    if (truth[i].added) ++adding;
  }
  EXPECT_GT(adding, 0);
}

// --drift changes age, renta, canal_entrada and segmento in the test month and
// nothing else.
TEST(GeneratorTest, DriftShiftsOnlyTheNamedTestColumns) {
  const GeneratedData& data = SeedOneData();
  EXPECT_TRUE(
      ReadFileBytes(PathIn(data.dir, kTrainFileName)) ==
      ReadFileBytes(PathIn(GeneratedDir("drift", 1, true), kTrainFileName)));
  EXPECT_TRUE(
      ReadFileBytes(PathIn(data.dir, kTruthFileName)) ==
      ReadFileBytes(PathIn(GeneratedDir("drift", 1, true), kTruthFileName)));
  const ReadBack drift =
      ReadRawFile(PathIn(GeneratedDir("drift", 1, true), kTestFileName));
  ASSERT_EQ(drift.records.size(), data.test.records.size());
  int64_t rows = 0, older = 0, richer = 0, drift_channel = 0, base_channel = 0,
          base_top = 0, drift_top = 0;
  const std::string plain_text = ReadFileBytes(PathIn(data.dir, kTestFileName));
  const std::string drift_text =
      ReadFileBytes(PathIn(GeneratedDir("drift", 1, true), kTestFileName));
  std::vector<absl::string_view> plain_lines = absl::StrSplit(plain_text, '\n');
  std::vector<absl::string_view> drift_lines = absl::StrSplit(drift_text, '\n');
  ASSERT_EQ(plain_lines.size(), drift_lines.size());
  const std::set<int> shifted = {5, 16, 22,
                                 23};  // age canal_entrada renta segmento
  for (size_t i = 1; i + 1 < plain_lines.size(); ++i) {
    const auto a = SplitRawFields(plain_lines[i]),
               b = SplitRawFields(drift_lines[i]);
    for (int c = 0; c < 24; ++c) {
      if (!shifted.count(c)) {
        ASSERT_EQ(a[c], b[c]) << "line " << i + 1 << " column " << c;
      }
    }
  }
  for (size_t i = 0; i < drift.records.size(); ++i) {
    const RawRecord& a = data.test.records[i];
    const RawRecord& b = drift.records[i];
    ++rows;
    if (a.age.present() && b.age.value != a.age.value) {
      ++older;
      EXPECT_GE(b.age.value, 65);
      EXPECT_LE(b.age.value, 90);
    }
    if (a.renta.present() && b.renta.value > 4.9 * a.renta.value) ++richer;
    base_channel += a.canal_entrada.value == gen::kDriftChannel;
    drift_channel += b.canal_entrada.value == gen::kDriftChannel;
    base_top += a.segmento.value == gen::kSegmentTop;
    drift_top += b.segmento.value == gen::kSegmentTop;
  }
  // Redrawn ages that happen to equal the old one are not counted: a few.
  EXPECT_NEAR(static_cast<double>(older) / rows, 0.35, 0.05);
  EXPECT_NEAR(static_cast<double>(richer) / rows, 0.40 * 0.8, 0.06);
  EXPECT_LT(base_channel, rows / 50);
  EXPECT_GT(drift_channel, rows / 5);
  EXPECT_GT(drift_top, 3 * base_top);
}

// --extra-months: the test month and the months after it in the train
// layout; nothing else changes, and the products added in 2016-06 derived
// from the records database are test_truth.csv's.
TEST(GeneratorTest, ExtraMonthsAreTheTestMonthAndAfterWithProducts) {
  const GeneratedData& data = SeedOneData();
  const std::string dir = absl::StrCat(::testing::TempDir(),
                                       "/recsys_gen_extra_", ::getpid());
  GeneratorOptions options;
  options.customers = kTestCustomers;
  options.seed = 1;
  options.out_dir = dir;
  options.extra_months = 2;
  GeneratorSummary summary;
  ASSERT_TRUE(GenerateDataset(options, &summary).ok());
  for (absl::string_view file :
       {kTrainFileName, kTestFileName, kTruthFileName}) {
    EXPECT_TRUE(ReadFileBytes(PathIn(data.dir, file)) ==
                ReadFileBytes(PathIn(dir, file)))
        << file;
  }
  EXPECT_EQ(ExtraMonthFileName(2016 * 12 + 5), "train_2016-06.csv");
  const ReadBack june = ReadRawFile(PathIn(dir, "train_2016-06.csv"));
  const ReadBack july = ReadRawFile(PathIn(dir, "train_2016-07.csv"));
  const std::vector<TruthRow> truth =
      gen::testing::ReadTruth(PathIn(dir, kTruthFileName));
  ASSERT_TRUE(june.status.ok()) << june.status;
  EXPECT_EQ(june.layout, FileLayout::kTrain);
  EXPECT_THAT(june.errors, ::testing::IsEmpty());
  EXPECT_THAT(july.errors, ::testing::IsEmpty());
  ASSERT_EQ(june.records.size(), data.test.records.size());
  ASSERT_EQ(july.records.size(), june.records.size());  // nobody joins or leaves
  EXPECT_EQ(summary.extra_rows, 2 * static_cast<int64_t>(june.records.size()));
  int changed = 0;
  for (size_t i = 0; i < june.records.size(); ++i) {
    const RawRecord& j = june.records[i];
    const RawRecord& t = data.test.records[i];
    ASSERT_EQ(j.fecha_dato.value.ToString(), "2016-06-28");
    ASSERT_EQ(j.ncodpers.value, t.ncodpers.value);
    ASSERT_EQ(j.age.value, t.age.value);
    ASSERT_EQ(j.renta.state, t.renta.state);
    ASSERT_EQ(j.segmento.value, t.segmento.value);
    ASSERT_EQ(j.products, truth[i].owned) << j.ncodpers.value;
    ASSERT_EQ(j.products_missing, 0u);
    ASSERT_EQ(july.records[i].fecha_dato.value.ToString(), "2016-07-28");
    ASSERT_EQ(july.records[i].ncodpers.value, j.ncodpers.value);
    changed += july.records[i].products != j.products;
  }
  EXPECT_GT(changed, 0);  // products keep evolving

  auto db = RecordsDb::Open(PathIn(dir, "records.db"), {});
  ASSERT_TRUE(db.ok()) << db.status();
  for (const char* file : {"train_ver2.csv", "train_2016-06.csv"}) {
    auto report = IngestFile(db->get(), PathIn(dir, file), {});
    ASSERT_TRUE(report.ok()) << report.status();
  }
  auto derived = (*db)->Truth("2016-06");
  ASSERT_TRUE(derived.ok()) << derived.status();
  ASSERT_EQ(derived->size(), truth.size());
  for (size_t i = 0; i < truth.size(); ++i) {
    ASSERT_EQ((*derived)[i].ncodpers, truth[i].ncodpers);
    ASSERT_EQ((*derived)[i].added, truth[i].added) << truth[i].ncodpers;
    ASSERT_EQ((*derived)[i].owned, truth[i].owned) << truth[i].ncodpers;
  }
  db->reset();
  std::filesystem::remove_all(dir);
}

TEST(GeneratorOptionsTest, RejectsBadOptions) {
  GeneratorOptions options;
  options.customers = 0;
  options.out_dir = "/nonexistent-unused";
  EXPECT_EQ(GenerateDataset(options).code(),
            absl::StatusCode::kInvalidArgument);
  options.customers = 10;
  options.out_dir = "";
  EXPECT_EQ(GenerateDataset(options).code(),
            absl::StatusCode::kInvalidArgument);
  options.out_dir = "/nonexistent-unused";
  options.extra_months = kMaxExtraMonths + 1;
  EXPECT_EQ(GenerateDataset(options).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(GeneratorOptionsTest, ReportsAnOutputDirectoryThatCannotBeCreated) {
  const std::string file =
      absl::StrCat(::testing::TempDir(), "/recsys_gen_plain_file_", ::getpid());
  { std::ofstream(file) << "x"; }
  GeneratorOptions options;
  options.customers = 10;
  options.out_dir = file + "/sub";
  const absl::Status status = GenerateDataset(options);
  EXPECT_FALSE(status.ok());
  EXPECT_THAT(std::string(status.message()), ::testing::HasSubstr(file));
  std::filesystem::remove(file);
}

}  // namespace
}  // namespace recsys
