#include "common/field_parse.h"

#include <charconv>
#include <cmath>
#include <system_error>

#include "absl/strings/str_cat.h"

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

// Length of the valid UTF-8 sequence starting at text[i], or 0 when the byte
// there does not start one.
size_t Utf8SequenceLength(absl::string_view text, size_t i) {
  const auto byte = [&](size_t j) {
    return static_cast<unsigned char>(text[j]);
  };
  const unsigned char c = byte(i);
  if (c < 0x80) return 1;
  size_t n = 0;
  unsigned char lo = 0x80;  // allowed range of the second byte
  unsigned char hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;  // overlong
    if (c == 0xED) hi = 0x9F;  // surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;  // overlong
    if (c == 0xF4) hi = 0x8F;  // above U+10FFFF
  } else {
    return 0;  // a continuation byte, C0, C1 or F5..FF
  }
  if (i + n > text.size()) return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (size_t j = 2; j < n; ++j) {
    if (byte(i + j) < 0x80 || byte(i + j) > 0xBF) return 0;
  }
  return n;
}

}  // namespace

bool IsValidUtf8(absl::string_view text) {
  for (size_t i = 0; i < text.size();) {
    // Fast path: runs of ASCII, which is all the Santander files hold.
    if (static_cast<unsigned char>(text[i]) < 0x80) {
      ++i;
      continue;
    }
    const size_t n = Utf8SequenceLength(text, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

ParseOutcome ParseTextField(absl::string_view text, absl::string_view* value) {
  absl::string_view s = TrimSpaces(text);
  if (IsMissingText(s)) return ParseOutcome::kMissing;
  if (!IsValidUtf8(s)) return ParseOutcome::kInvalid;
  *value = s;
  return ParseOutcome::kValue;
}

std::string EscapeForMessage(absl::string_view text, size_t max_bytes) {
  const absl::string_view shown = text.substr(0, max_bytes);
  std::string out;
  out.reserve(shown.size());
  for (size_t i = 0; i < shown.size();) {
    const unsigned char c = static_cast<unsigned char>(shown[i]);
    const size_t n = Utf8SequenceLength(shown, i);
    if (n == 0 || c < 0x20 || c == 0x7F) {
      static constexpr char kHex[] = "0123456789ABCDEF";
      out += "\\x";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
      ++i;
      continue;
    }
    out.append(shown.data() + i, n);
    i += n;
  }
  if (text.size() > shown.size()) {
    absl::StrAppend(&out, "... (", text.size(), " bytes)");
  }
  return out;
}

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
