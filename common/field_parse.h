// Parsing of single Santander field texts, as the raw files write them.
//
// Every parser trims surrounding spaces first and reports one of three
// outcomes: the value, missing ("NA", "" or spaces only) or invalid. They use
// std::from_chars: no locale, no exceptions, no allocation.
//
//   int64_t age;
//   if (ParseIntText("  35", &age) == ParseOutcome::kValue) ...   // 35
//   ParseIntText("     NA", &age);   // kMissing
//   ParseIntText("3x", &age);        // kInvalid
#ifndef RECSYS_COMMON_FIELD_PARSE_H_
#define RECSYS_COMMON_FIELD_PARSE_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace recsys {

enum class ParseOutcome : uint8_t { kValue, kMissing, kInvalid };

// `text` without leading and trailing spaces and tabs.
inline absl::string_view TrimSpaces(absl::string_view text) {
  size_t b = 0;
  size_t e = text.size();
  while (b < e && (text[b] == ' ' || text[b] == '\t')) ++b;
  while (e > b && (text[e - 1] == ' ' || text[e - 1] == '\t')) --e;
  return text.substr(b, e - b);
}

// True for "", "NA" and spaces only (after trimming).
inline bool IsMissingText(absl::string_view text) {
  absl::string_view s = TrimSpaces(text);
  return s.empty() || (s.size() == 2 && s[0] == 'N' && s[1] == 'A');
}

// A decimal integer, optionally written with a zero fraction ("1.0"), as
// spreadsheets do: " 35" -> 35, "-999999" -> -999999, "1.0" -> 1.
// "35.5", "3x", "+3", "0x10" are invalid.
ParseOutcome ParseIntText(absl::string_view text, int64_t* value);

// A finite decimal number such as "87218.1" or "122179.11000000002".
// "inf", "nan", "1e", "12,5" are invalid.
ParseOutcome ParseDoubleText(absl::string_view text, double* value);

// indrel_1mes: "1".."4" with an optional zero fraction ("1.0"), or "P".
// On kValue `*value` is the canonical text: "1".."4" or "P".
ParseOutcome ParseCustomerTypeText(absl::string_view text,
                                   absl::string_view* value);

// A product flag: "0" or "1" (padded or "1.0" allowed); *value is 0 or 1.
ParseOutcome ParseProductFlagText(absl::string_view text, int* value);

// True when `text` is well-formed UTF-8 (RFC 3629: no overlong forms, no
// surrogates, nothing above U+10FFFF). ASCII, and so every value the
// Santander files write, is valid; a Latin-1 byte such as 0xE1 ("á" saved by
// a spreadsheet in Windows-1252) is not.
bool IsValidUtf8(absl::string_view text);

// A text column's value: kMissing for "", "NA" or spaces only; kInvalid when
// the text is not valid UTF-8 (a protobuf string must be, and the server would
// reject the whole message); otherwise kValue with `*value` the trimmed text
// (pointing into `text`).
ParseOutcome ParseTextField(absl::string_view text, absl::string_view* value);

// `text` made printable for an error message or an errors file that must stay
// valid UTF-8: each byte that is not part of a valid UTF-8 sequence, and each
// ASCII control byte, is written as \xHH (e.g. "M\xE1LAGA"); other text is
// kept as it is. Texts longer than `max_bytes` are cut there and end in
// "... (N bytes)". Default 200 bytes.
std::string EscapeForMessage(absl::string_view text, size_t max_bytes = 200);

}  // namespace recsys

#endif  // RECSYS_COMMON_FIELD_PARSE_H_
