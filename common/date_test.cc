#include "common/date.h"

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace recsys {
namespace {

TEST(ParseDate, ReadsIsoAndSpreadsheetForms) {
  absl::StatusOr<Date> iso = ParseDate("2016-06-28");
  absl::StatusOr<Date> us = ParseDate("6/28/2016");
  ASSERT_TRUE(iso.ok()) << iso.status();
  ASSERT_TRUE(us.ok()) << us.status();
  EXPECT_EQ(*iso, *us);
  EXPECT_EQ(iso->ToString(), "2016-06-28");
}

TEST(ParseDate, RejectsImpossibleDates) {
  EXPECT_FALSE(ParseDate("2015-02-30").ok());
  EXPECT_FALSE(ParseDate("2015-13-01").ok());
  EXPECT_FALSE(ParseDate("13/1/2015").ok());
  EXPECT_FALSE(ParseDate("2015-1-28").ok());
  EXPECT_FALSE(ParseDate("NA").ok());
  EXPECT_TRUE(ParseDate("2016-02-29").ok());
  EXPECT_FALSE(ParseDate("2015-02-29").ok());
}

TEST(Date, MonthIndexIsConsecutiveAcrossYears) {
  EXPECT_EQ(ParseDate("2016-01-28")->MonthIndex() - ParseDate("2015-12-28")->MonthIndex(), 1);
  EXPECT_EQ(MonthName(ParseDate("2015-01-28")->MonthIndex()), "2015-01");
  EXPECT_EQ(DateFromMonthIndex(ParseDate("2016-05-28")->MonthIndex() + 1, 28).ToString(),
            "2016-06-28");
}

TEST(Date, ParseMonthIndexIsTheInverseOfMonthName) {
  EXPECT_EQ(*ParseMonthIndex("2016-06"), ParseDate("2016-06-28")->MonthIndex());
  EXPECT_EQ(MonthName(*ParseMonthIndex("2015-12")), "2015-12");
  for (const char* bad : {"2016-13", "2016-00", "2016-6", "2016/06", "+016-06",
                          "2016-06-28", "June", ""}) {
    absl::StatusOr<int> m = ParseMonthIndex(bad);
    EXPECT_EQ(m.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(m.status().message().find(std::string("\"") + bad + "\""),
              std::string::npos)
        << m.status();
  }
}

TEST(Date, DaysBetweenCountsCalendarDays) {
  EXPECT_EQ(DaysBetween(*ParseDate("1970-01-01"), *ParseDate("1970-01-02")), 1);
  EXPECT_EQ(ParseDate("1970-01-01")->DaysSinceEpoch(), 0);
  EXPECT_EQ(DaysBetween(*ParseDate("2015-01-28"), *ParseDate("2016-01-28")), 365);
  EXPECT_EQ(DaysBetween(*ParseDate("2016-01-28"), *ParseDate("2017-01-28")), 366);
}

}  // namespace
}  // namespace recsys

namespace recsys {
namespace {

TEST(ParseMonthIndexTest, ReadsYearAndMonthAsMonthName) {
  absl::StatusOr<int> month = ParseMonthIndex("2016-06");
  ASSERT_TRUE(month.ok()) << month.status();
  EXPECT_EQ(*month, 2016 * 12 + 5);
  EXPECT_EQ(MonthName(*month), "2016-06");
}

TEST(ParseMonthIndexTest, RefusesOtherTextNamingIt) {
  for (const char* text : {"2016-13", "2016-6", "2016-06-28", "june", ""}) {
    absl::StatusOr<int> month = ParseMonthIndex(text);
    EXPECT_EQ(month.status().code(), absl::StatusCode::kInvalidArgument)
        << text;
    EXPECT_THAT(std::string(month.status().message()),
                ::testing::HasSubstr(absl::StrCat("\"", text, "\"")));
  }
}

}  // namespace
}  // namespace recsys
