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

#include <cstdint>

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

}  // namespace recsys

#endif  // RECSYS_COMMON_FIELD_PARSE_H_
