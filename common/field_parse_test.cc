#include "common/field_parse.h"

#include "gtest/gtest.h"

namespace recsys {
namespace {

// The integer `text` parses to; fails the test when it is not a value.
int64_t IntOf(absl::string_view text) {
  int64_t v = -1;
  EXPECT_EQ(ParseIntText(text, &v), ParseOutcome::kValue)
      << "\"" << text << "\"";
  return v;
}

ParseOutcome IntOutcome(absl::string_view text) {
  int64_t v = 0;
  return ParseIntText(text, &v);
}

ParseOutcome DoubleOutcome(absl::string_view text) {
  double v = 0;
  return ParseDoubleText(text, &v);
}

std::string CustomerTypeOf(absl::string_view text) {
  absl::string_view v;
  EXPECT_EQ(ParseCustomerTypeText(text, &v), ParseOutcome::kValue)
      << "\"" << text << "\"";
  return std::string(v);
}

TEST(ParseIntText, ReadsPaddedIntegers) {
  EXPECT_EQ(IntOf(" 35"), 35);
  EXPECT_EQ(IntOf("      6"), 6);
  EXPECT_EQ(IntOf("-999999"), -999999);
  EXPECT_EQ(IntOf("99"), 99);
  EXPECT_EQ(IntOf("1375586"), 1375586);
}

TEST(ParseIntText, ReadsSpreadsheetZeroFraction) {
  EXPECT_EQ(IntOf("1.0"), 1);
  EXPECT_EQ(IntOf(" 28.00"), 28);
}

TEST(ParseIntText, NaEmptyAndSpacesAreMissing) {
  EXPECT_EQ(IntOutcome("NA"), ParseOutcome::kMissing);
  EXPECT_EQ(IntOutcome(" NA"), ParseOutcome::kMissing);
  EXPECT_EQ(IntOutcome("     NA"), ParseOutcome::kMissing);
  EXPECT_EQ(IntOutcome(""), ParseOutcome::kMissing);
  EXPECT_EQ(IntOutcome("   "), ParseOutcome::kMissing);
}

TEST(ParseIntText, RejectsNonIntegers) {
  EXPECT_EQ(IntOutcome("3x"), ParseOutcome::kInvalid);
  EXPECT_EQ(IntOutcome("35.5"), ParseOutcome::kInvalid);
  EXPECT_EQ(IntOutcome("35."), ParseOutcome::kInvalid);
  EXPECT_EQ(IntOutcome("+3"), ParseOutcome::kInvalid);
  EXPECT_EQ(IntOutcome("3 5"), ParseOutcome::kInvalid);
  EXPECT_EQ(IntOutcome("N A"), ParseOutcome::kInvalid);
  EXPECT_EQ(IntOutcome("99999999999999999999"), ParseOutcome::kInvalid);
}

TEST(ParseDoubleText, ReadsIncomeWithFloatPrintingArtifacts) {
  double v = 0;
  ASSERT_EQ(ParseDoubleText("122179.11000000002", &v), ParseOutcome::kValue);
  EXPECT_DOUBLE_EQ(v, 122179.11);
  ASSERT_EQ(ParseDoubleText("87218.1", &v), ParseOutcome::kValue);
  EXPECT_EQ(v, 87218.1);
  ASSERT_EQ(ParseDoubleText(" 1202.73 ", &v), ParseOutcome::kValue);
  EXPECT_EQ(v, 1202.73);
}

TEST(ParseDoubleText, PaddedNaIsMissing) {
  EXPECT_EQ(DoubleOutcome("         NA"), ParseOutcome::kMissing);
  EXPECT_EQ(DoubleOutcome(""), ParseOutcome::kMissing);
}

TEST(ParseDoubleText, RejectsNonNumbers) {
  EXPECT_EQ(DoubleOutcome("inf"), ParseOutcome::kInvalid);
  EXPECT_EQ(DoubleOutcome("nan"), ParseOutcome::kInvalid);
  EXPECT_EQ(DoubleOutcome("12,5"), ParseOutcome::kInvalid);
  EXPECT_EQ(DoubleOutcome("1e"), ParseOutcome::kInvalid);
  EXPECT_EQ(DoubleOutcome("abc"), ParseOutcome::kInvalid);
  EXPECT_EQ(DoubleOutcome("-"), ParseOutcome::kInvalid);
}

TEST(ParseCustomerTypeText, CanonicalizesNumbersAndKeepsP) {
  EXPECT_EQ(CustomerTypeOf("1"), "1");
  EXPECT_EQ(CustomerTypeOf("1.0"), "1");
  EXPECT_EQ(CustomerTypeOf("2.0"), "2");
  EXPECT_EQ(CustomerTypeOf("4"), "4");
  EXPECT_EQ(CustomerTypeOf("P"), "P");
}

TEST(ParseCustomerTypeText, RejectsOtherTypes) {
  absl::string_view v;
  EXPECT_EQ(ParseCustomerTypeText("", &v), ParseOutcome::kMissing);
  EXPECT_EQ(ParseCustomerTypeText("5", &v), ParseOutcome::kInvalid);
  EXPECT_EQ(ParseCustomerTypeText("0", &v), ParseOutcome::kInvalid);
  EXPECT_EQ(ParseCustomerTypeText("1.5", &v), ParseOutcome::kInvalid);
  EXPECT_EQ(ParseCustomerTypeText("Q", &v), ParseOutcome::kInvalid);
}

TEST(ParseProductFlagText, ReadsZeroOneAndPaddedFlags) {
  int v = -1;
  EXPECT_EQ(ParseProductFlagText("0", &v), ParseOutcome::kValue);
  EXPECT_EQ(v, 0);
  EXPECT_EQ(ParseProductFlagText(" 1", &v), ParseOutcome::kValue);
  EXPECT_EQ(v, 1);
  EXPECT_EQ(ParseProductFlagText("NA", &v), ParseOutcome::kMissing);
  EXPECT_EQ(ParseProductFlagText("2", &v), ParseOutcome::kInvalid);
  EXPECT_EQ(ParseProductFlagText("y", &v), ParseOutcome::kInvalid);
}

}  // namespace
}  // namespace recsys
