#include "common/date.h"

#include <charconv>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace recsys {
namespace {

bool IsLeap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysInMonth(int y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

// Parses all of `s` as a non-negative decimal with 1..max_digits digits.
bool ParseDigits(absl::string_view s, size_t max_digits, int* out) {
  if (s.empty() || s.size() > max_digits) return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && ptr == s.data() + s.size() && *out >= 0 &&
         s[0] != '-' && s[0] != '+';
}

}  // namespace

int64_t Date::DaysSinceEpoch() const {
  // Howard Hinnant's days_from_civil.
  int y = year - (month <= 2 ? 1 : 0);
  const int era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned mp = static_cast<unsigned>(month + (month > 2 ? -3 : 9));
  const unsigned doy = (153 * mp + 2) / 5 + static_cast<unsigned>(day) - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return static_cast<int64_t>(era) * 146097 + static_cast<int64_t>(doe) - 719468;
}

std::string Date::ToString() const {
  return absl::StrFormat("%04d-%02d-%02d", year, month, day);
}

absl::StatusOr<Date> ParseDate(absl::string_view text) {
  absl::string_view s = absl::StripAsciiWhitespace(text);
  int y = 0, m = 0, d = 0;
  bool ok = false;
  if (s.size() == 10 && s[4] == '-' && s[7] == '-') {
    ok = ParseDigits(s.substr(0, 4), 4, &y) && ParseDigits(s.substr(5, 2), 2, &m) &&
         ParseDigits(s.substr(8, 2), 2, &d);
  } else {
    const size_t a = s.find('/');
    const size_t b = a == absl::string_view::npos ? a : s.find('/', a + 1);
    if (b != absl::string_view::npos) {
      ok = ParseDigits(s.substr(0, a), 2, &m) &&
           ParseDigits(s.substr(a + 1, b - a - 1), 2, &d) &&
           ParseDigits(s.substr(b + 1), 4, &y) && s.size() - b - 1 == 4;
    }
  }
  if (!ok) {
    return absl::InvalidArgumentError(
        absl::StrCat("not a date (expected YYYY-MM-DD or M/D/YYYY): \"", text, "\""));
  }
  if (y < 1900 || y > 2100 || m < 1 || m > 12 || d < 1 || d > DaysInMonth(y, m)) {
    return absl::InvalidArgumentError(absl::StrCat("impossible date: \"", text, "\""));
  }
  return Date{static_cast<int16_t>(y), static_cast<int8_t>(m), static_cast<int8_t>(d)};
}

Date DateFromMonthIndex(int month_index, int day) {
  return Date{static_cast<int16_t>(month_index / 12),
              static_cast<int8_t>(month_index % 12 + 1), static_cast<int8_t>(day)};
}

std::string MonthName(int month_index) {
  return absl::StrFormat("%04d-%02d", month_index / 12, month_index % 12 + 1);
}

absl::StatusOr<int> ParseMonthName(absl::string_view text) {
  int year = 0;
  int month = 0;
  if (text.size() != 7 || text[4] != '-' ||
      !ParseDigits(text.substr(0, 4), 4, &year) ||
      !ParseDigits(text.substr(5, 2), 2, &month) || month < 1 || month > 12) {
    return absl::InvalidArgumentError(absl::StrCat(
        "expected a month as YYYY-MM (e.g. 2016-06), got \"", text, "\""));
  }
  return year * 12 + (month - 1);
}

}  // namespace recsys
