#include "common/inspect.h"

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "common/raw_reader_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace recsys {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

constexpr char kRealTrain[] =
    RECSYS_SHARED_DIR "/data/real/train_ver2_first999.csv";
constexpr char kMalformedTrain[] =
    RECSYS_SOURCE_DIR "/tests/data/malformed_train.csv";

// The missing (or invalid) count of `column` in `report`.
int64_t MissingIn(const InspectReport& report, const std::string& column) {
  for (size_t i = 0; i < report.columns.size(); ++i) {
    if (report.columns[i] == column) return report.missing[i];
  }
  ADD_FAILURE() << "no column " << column;
  return -1;
}
int64_t InvalidIn(const InspectReport& report, const std::string& column) {
  for (size_t i = 0; i < report.columns.size(); ++i) {
    if (report.columns[i] == column) return report.invalid[i];
  }
  ADD_FAILURE() << "no column " << column;
  return -1;
}

TEST(InspectFile, CountsRowsMonthsCustomersAndMissingValuesOfRealFile) {
  if (!std::ifstream(kRealTrain).good())
    GTEST_SKIP() << "real rows not found at " << kRealTrain;
  InspectReport report;
  ASSERT_TRUE(InspectFile(kRealTrain, &report).ok());
  EXPECT_EQ(report.layout, FileLayout::kTrain);
  EXPECT_EQ(report.rows, 999);
  EXPECT_THAT(report.rows_per_month, ElementsAre(Pair("2015-01-28", 999)));
  EXPECT_EQ(report.customers, 999);
  EXPECT_EQ(report.columns.size(), 48u);
  EXPECT_EQ(MissingIn(report, "age"), 1);
  EXPECT_EQ(MissingIn(report, "renta"), 165);
  EXPECT_EQ(MissingIn(report, "conyuemp"), 999);
  EXPECT_EQ(MissingIn(report, "ult_fec_cli_1t"), 998);
  EXPECT_EQ(MissingIn(report, "ind_cco_fin_ult1"), 0);
  EXPECT_TRUE(report.errors.empty());
}

TEST(InspectFile, ListsEveryRowErrorAndCountsInvalidFields) {
  InspectReport report;
  ASSERT_TRUE(InspectFile(kMalformedTrain, &report).ok());
  EXPECT_EQ(report.rows, 10);
  EXPECT_EQ(report.customers, 9);  // one row has no ncodpers
  EXPECT_EQ(InvalidIn(report, "age"), 1);
  EXPECT_EQ(InvalidIn(report, "fecha_alta"), 1);
  EXPECT_EQ(InvalidIn(report, "ind_recibo_ult1"), 1);
  EXPECT_EQ(MissingIn(report, "ncodpers"), 1);
  EXPECT_GE(report.errors.size(), 8u);
  EXPECT_EQ(report.errors.front().line, 3);
}

TEST(InspectFile, MissingFileIsAnError) {
  InspectReport report;
  EXPECT_EQ(InspectFile("/nonexistent/train_ver2.csv", &report).code(),
            absl::StatusCode::kNotFound);
}

TEST(PrintInspectReport, ShowsSummaryAndEveryRowError) {
  InspectReport report;
  ASSERT_TRUE(InspectFile(kMalformedTrain, &report).ok());
  std::ostringstream out;
  PrintInspectReport(report, out);
  EXPECT_THAT(out.str(), HasSubstr("rows: 10\n"));
  EXPECT_THAT(out.str(), HasSubstr("2015-01-28"));
  EXPECT_THAT(out.str(),
              HasSubstr("line 5, column age: not an integer: \"3x\"\n"));
  EXPECT_THAT(
      out.str(),
      HasSubstr("line 6, column fecha_alta: impossible date: \"2015-02-30\""));
  EXPECT_THAT(out.str(),
              HasSubstr("row errors: " + std::to_string(report.errors.size())));
}

// Issue 10 item 14: a customer twice in a test file gave two submission
// lines, and nothing said so. Inspect lists the later rows with the first.
TEST(InspectFile, ReportsCustomersListedTwiceInOneMonth) {
  const std::string path =
      ::testing::TempDir() + "/inspect_duplicates_test.csv";
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << recsys::testing::TestHeader() << "\n";
    const std::string row = recsys::testing::kFirstTestRow;
    const std::string other =
        recsys::testing::RowText(row).Set("ncodpers", "15890").str();
    out << row << "\n" << other << "\n" << row << "\n" << row << "\n";
  }
  InspectReport report;
  ASSERT_TRUE(InspectFile(path, &report).ok());
  EXPECT_EQ(report.rows, 4);
  EXPECT_EQ(report.customers, 2);
  EXPECT_EQ(report.duplicate_rows, 2);
  ASSERT_EQ(report.duplicates.size(), 2u);
  EXPECT_EQ(report.duplicates[0].line, 4);
  EXPECT_EQ(report.duplicates[0].first_line, 2);
  EXPECT_EQ(report.duplicates[0].ncodpers, 15889);
  std::ostringstream text;
  PrintInspectReport(report, text);
  EXPECT_THAT(text.str(),
              HasSubstr("duplicate customers (a customer's second row in one "
                        "month): 2\n  line 4: ncodpers 15889 again (first on "
                        "line 2)\n"));
  std::remove(path.c_str());
}

}  // namespace
}  // namespace recsys
