#include "common/field_parse.h"

#include <charconv>
#include <cmath>
#include <system_error>

namespace recsys {
namespace {

// True when [p, end) is "" or "." followed by one or more zeros.
bool IsZeroFraction(const char* p, const char* end) {
  if (p == end) return true;
  if (*p != '.' || p + 1 == end) return false;
  for (++p; p < end; ++p) {
    if (*p != '0') return false;
  }
  return true;
}

}  // namespace

ParseOutcome ParseIntText(absl::string_view text, int64_t* value) {
  absl::string_view s = TrimSpaces(text);
  if (IsMissingText(s)) return ParseOutcome::kMissing;
  const char* end = s.data() + s.size();
  auto [ptr, ec] = std::from_chars(s.data(), end, *value);
  if (ec != std::errc() || !IsZeroFraction(ptr, end))
    return ParseOutcome::kInvalid;
  return ParseOutcome::kValue;
}

ParseOutcome ParseDoubleText(absl::string_view text, double* value) {
  absl::string_view s = TrimSpaces(text);
  if (IsMissingText(s)) return ParseOutcome::kMissing;
  const char* end = s.data() + s.size();
  // from_chars accepts "inf" and "nan"; a Santander number starts with a
  // digit, a sign or a point.
  const char first = s[0] == '-' ? (s.size() > 1 ? s[1] : '\0') : s[0];
  if (!((first >= '0' && first <= '9') || first == '.'))
    return ParseOutcome::kInvalid;
  auto [ptr, ec] = std::from_chars(s.data(), end, *value);
  if (ec != std::errc() || ptr != end || !std::isfinite(*value)) {
    return ParseOutcome::kInvalid;
  }
  return ParseOutcome::kValue;
}

ParseOutcome ParseCustomerTypeText(absl::string_view text,
                                   absl::string_view* value) {
  absl::string_view s = TrimSpaces(text);
  if (IsMissingText(s)) return ParseOutcome::kMissing;
  static constexpr absl::string_view kTypes = "1234";
  if (s == "P") {
    *value = "P";
    return ParseOutcome::kValue;
  }
  if (s[0] >= '1' && s[0] <= '4' &&
      IsZeroFraction(s.data() + 1, s.data() + s.size())) {
    *value = kTypes.substr(s[0] - '1', 1);
    return ParseOutcome::kValue;
  }
  return ParseOutcome::kInvalid;
}

ParseOutcome ParseProductFlagText(absl::string_view text, int* value) {
  absl::string_view s = TrimSpaces(text);
  // Fast path: the files write "0", "1", " 0", " 1".
  if (s.size() == 1 && (s[0] == '0' || s[0] == '1')) {
    *value = s[0] - '0';
    return ParseOutcome::kValue;
  }
  int64_t v = 0;
  const ParseOutcome outcome = ParseIntText(s, &v);
  if (outcome != ParseOutcome::kValue) return outcome;
  if (v != 0 && v != 1) return ParseOutcome::kInvalid;
  *value = static_cast<int>(v);
  return ParseOutcome::kValue;
}

}  // namespace recsys
