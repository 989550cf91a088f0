// The reader on malformed rows (tests/data/malformed_train.csv): every
// problem is a line-numbered error naming the column and the text, and the
// good rows around it are read with their values.
#include <string>
#include <vector>

#include "common/raw_reader.h"
#include "common/raw_reader_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace recsys {
namespace {

using ::recsys::testing::ReadCsvFile;
using ::recsys::testing::ReadResult;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kMalformedTrain[] =
    RECSYS_SOURCE_DIR "/tests/data/malformed_train.csv";

class MalformedTrainFile : public ::testing::Test {
 protected:
  void SetUp() override {
    result_ = ReadCsvFile(kMalformedTrain);
    ASSERT_TRUE(result_.open_status.ok()) << result_.open_status;
    ASSERT_TRUE(result_.status.ok()) << result_.status;
  }

  // The record read from physical line `line`.
  const RawRecord& RowAtLine(int64_t line) {
    for (const RawRecord& r : result_.records) {
      if (r.line == line) return r;
    }
    ADD_FAILURE() << "no row at line " << line;
    static const RawRecord kNone;
    return kNone;
  }

  // The errors reported for line `line`, as ToString() texts.
  std::vector<std::string> ErrorsAtLine(int64_t line) {
    std::vector<std::string> texts;
    for (const RowError& e : result_.errors) {
      if (e.line == line) texts.push_back(e.ToString());
    }
    return texts;
  }

  ReadResult result_;
};

TEST_F(MalformedTrainFile, EveryRowIsReadInFileOrder) {
  std::vector<int64_t> lines;
  for (const RawRecord& r : result_.records) lines.push_back(r.line);
  EXPECT_THAT(lines, ElementsAre(2, 3, 4, 5, 6, 7, 8, 9, 10, 11));
}

TEST_F(MalformedTrainFile, GoodRowsAroundBadOnesKeepTheirValues) {
  EXPECT_EQ(RowAtLine(2).ncodpers.value, 1375586);
  EXPECT_EQ(RowAtLine(2).age.value, 35);
  EXPECT_EQ(RowAtLine(4).ncodpers.value, 1050612);
  EXPECT_DOUBLE_EQ(RowAtLine(4).renta.value, 122179.11);
  EXPECT_EQ(RowAtLine(8).ncodpers.value, 1050616);
  EXPECT_EQ(RowAtLine(8).nomprov.value, "LEON");
  EXPECT_EQ(RowAtLine(11).ncodpers.value, 1050620);
  EXPECT_EQ(RowAtLine(11).nomprov.value, "CACERES");
  for (int64_t line : {2, 4, 8, 11})
    EXPECT_THAT(ErrorsAtLine(line), ElementsAre()) << line;
}

TEST_F(MalformedTrainFile, TooFewFieldsIsAnErrorForTheRow) {
  std::vector<std::string> errors = ErrorsAtLine(3);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_THAT(
      errors[0],
      HasSubstr("line 3: expected 48 fields, found 30: \"2015-01-28,1050611,"));
  EXPECT_EQ(RowAtLine(3).ncodpers.value, 1050611);  // what could be parsed
  EXPECT_TRUE(RowAtLine(3).products_missing != 0);
}

TEST_F(MalformedTrainFile, NonIntegerAgeNamesColumnAndText) {
  EXPECT_THAT(ErrorsAtLine(5),
              ElementsAre("line 5, column age: not an integer: \"3x\""));
  EXPECT_TRUE(RowAtLine(5).age.invalid());
  EXPECT_EQ(RowAtLine(5).ncodpers.value, 1050613);
}

TEST_F(MalformedTrainFile, ImpossibleDateNamesColumnAndText) {
  EXPECT_THAT(
      ErrorsAtLine(6),
      ElementsAre(
          "line 6, column fecha_alta: impossible date: \"2015-02-30\""));
  EXPECT_TRUE(RowAtLine(6).fecha_alta.invalid());
}

TEST_F(MalformedTrainFile, MissingCustomerCodeIsAnError) {
  EXPECT_THAT(
      ErrorsAtLine(7),
      ElementsAre("line 7, column ncodpers: required value is missing: \"\""));
  EXPECT_TRUE(RowAtLine(7).ncodpers.missing());
  EXPECT_EQ(RowAtLine(7).nomprov.value, "TOLEDO");
}

TEST_F(MalformedTrainFile, EachBadFieldOfARowHasItsOwnError) {
  EXPECT_THAT(ErrorsAtLine(9),
              ElementsAre("line 9, column indrel_1mes: not a customer type (1, "
                          "2, 3, 4 or P): \"7\"",
                          "line 9, column renta: not a number: \"abc\"",
                          "line 9, column ind_recibo_ult1: not a product flag "
                          "(0, 1 or NA): \"2\""));
  const RawRecord& row = RowAtLine(9);
  EXPECT_TRUE(row.indrel_1mes.invalid());
  EXPECT_TRUE(row.renta.invalid());
  EXPECT_EQ(row.products_invalid, ProductBit(*FindProduct("ind_recibo_ult1")));
  EXPECT_EQ(row.segmento.value, "03 - UNIVERSITARIO");
}

TEST_F(MalformedTrainFile, UnclosedQuoteIsAnErrorAndTheNextLineIsStillRead) {
  std::vector<std::string> errors = ErrorsAtLine(10);
  ASSERT_FALSE(errors.empty());
  EXPECT_THAT(errors[0], HasSubstr("line 10"));
  EXPECT_THAT(errors, ::testing::Contains(HasSubstr(
                          "column nomprov: unterminated quoted field")));
  EXPECT_TRUE(RowAtLine(10).nomprov.invalid());
  EXPECT_EQ(RowAtLine(10).ncodpers.value, 1050619);
}

}  // namespace
}  // namespace recsys
