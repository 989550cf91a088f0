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

TEST(IsValidUtf8, AcceptsAsciiAndWellFormedSequences) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("02 - PARTICULARES"));
  EXPECT_TRUE(IsValidUtf8("M\xC3\xA1LAGA"));        // á
  EXPECT_TRUE(IsValidUtf8("\xE2\x82\xAC"));         // €
  EXPECT_TRUE(IsValidUtf8("\xF0\x9F\x98\x80"));     // U+1F600
  EXPECT_TRUE(IsValidUtf8(absl::string_view("a\0b", 3)));
}

TEST(IsValidUtf8, RejectsLatin1OverlongSurrogatesAndTruncatedSequences) {
  EXPECT_FALSE(IsValidUtf8("M\xE1LAGA"));           // Latin-1 á
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));            // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xE0\x80\xAF"));        // overlong
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));        // surrogate U+D800
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));    // above U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xC3"));                // cut short
  EXPECT_FALSE(IsValidUtf8("\xE2\x82"));
  EXPECT_FALSE(IsValidUtf8("\x80"));                // lone continuation
  EXPECT_FALSE(IsValidUtf8("\xFF"));
}

TEST(ParseTextField, TrimsAndRejectsTextThatIsNotUtf8) {
  absl::string_view v;
  ASSERT_EQ(ParseTextField("  MADRID ", &v), ParseOutcome::kValue);
  EXPECT_EQ(v, "MADRID");
  EXPECT_EQ(ParseTextField(" NA", &v), ParseOutcome::kMissing);
  EXPECT_EQ(ParseTextField("", &v), ParseOutcome::kMissing);
  EXPECT_EQ(ParseTextField("M\xE1LAGA", &v), ParseOutcome::kInvalid);
}

TEST(EscapeForMessage, ShowsBytesThatAreNotUtf8AndControlsAsHex) {
  EXPECT_EQ(EscapeForMessage("M\xE1LAGA"), "M\\xE1LAGA");
  EXPECT_EQ(EscapeForMessage("M\xC3\xA1LAGA"), "M\xC3\xA1LAGA");
  EXPECT_EQ(EscapeForMessage(absl::string_view("a\0b\x7F", 4)),
            "a\\x00b\\x7F");
  EXPECT_TRUE(IsValidUtf8(EscapeForMessage("\xFF\xFE\xC3")));
}

TEST(EscapeForMessage, CutsLongTextsAndSaysHowLongTheyWere) {
  EXPECT_EQ(EscapeForMessage(std::string(10, 'x'), 4), "xxxx... (10 bytes)");
  EXPECT_EQ(EscapeForMessage("abcd", 4), "abcd");
}

}  // namespace
}  // namespace recsys
