// Calendar dates as they appear in the Santander files.
//
// The files carry dates as ISO "2015-01-28" or, after a spreadsheet re-saved
// them, as "1/28/2015" (M/D/YYYY). Both parse to the same Date.
//
//   absl::StatusOr<Date> d = ParseDate("6/28/2016");
//   int month = d->MonthIndex();            // months since year 0
//   int days = DaysBetween(*alta, *fecha);  // signed day count
#ifndef RECSYS_COMMON_DATE_H_
#define RECSYS_COMMON_DATE_H_

#include <cstdint>
#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"

namespace recsys {

struct Date {
  int16_t year = 0;
  int8_t month = 0;  // 1..12
  int8_t day = 0;    // 1..31

  // Months since January of year 0: consecutive months differ by one.
  int MonthIndex() const { return year * 12 + (month - 1); }
  // Days since 1970-01-01 (negative before).
  int64_t DaysSinceEpoch() const;
  // "YYYY-MM-DD".
  std::string ToString() const;

  friend bool operator==(const Date& a, const Date& b) {
    return a.year == b.year && a.month == b.month && a.day == b.day;
  }
  friend bool operator<(const Date& a, const Date& b) {
    if (a.year != b.year) return a.year < b.year;
    if (a.month != b.month) return a.month < b.month;
    return a.day < b.day;
  }
};

// Parses "YYYY-MM-DD" or "M/D/YYYY" (surrounding spaces allowed).
// Returns INVALID_ARGUMENT for any other text or an impossible date
// (month 13, February 30, year outside 1900..2100).
absl::StatusOr<Date> ParseDate(absl::string_view text);

// The date of a month index (see Date::MonthIndex) with the given day.
Date DateFromMonthIndex(int month_index, int day);

// "YYYY-MM" for a month index.
std::string MonthName(int month_index);

// The month index of "YYYY-MM" (the inverse of MonthName). INVALID_ARGUMENT
// quoting the text for anything else (e.g. "2016-13", "2016-6", "June").
absl::StatusOr<int> ParseMonthName(absl::string_view text);

// Signed number of days from `from` to `to`.
inline int64_t DaysBetween(const Date& from, const Date& to) {
  return to.DaysSinceEpoch() - from.DaysSinceEpoch();
}

}  // namespace recsys

#endif  // RECSYS_COMMON_DATE_H_
