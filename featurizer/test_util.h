// Test helpers for the featurizer tests: RawRecords made from the first real
// train row (optionally with one column's raw text replaced), through the
// real row parser, and hand-made histories.
#ifndef RECSYS_FEATURIZER_TEST_UTIL_H_
#define RECSYS_FEATURIZER_TEST_UTIL_H_

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "common/date.h"
#include "common/raw_columns.h"
#include "common/raw_reader.h"
#include "common/raw_record.h"
#include "gtest/gtest.h"

namespace recsys::featurizer_testing {

// Row 1 of train_ver2.csv, verbatim (customer 1375586, 2015-01-28).
inline constexpr char kRealRow[] =
    "2015-01-28,1375586,N,ES,H, 35,2015-01-12, 0,      6, 1,,1.0,A,S,N,,KHL,N, "
    "1,29,"
    "\"MALAGA\", 1,87218.1,02 - PARTICULARES,"
    "0,0,1,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0, 0, 0,0";

inline std::string TrainHeaderLine() {
  std::vector<std::string> names;
  for (int id = 0; id < kNumRawColumns; ++id) {
    names.push_back(absl::StrCat("\"", RawColumnName(id), "\""));
  }
  return absl::StrJoin(names, ",");
}

// The real row with the raw text of `column` replaced by `raw` (the real row
// has no quoted comma, so splitting on commas is exact).
inline std::string RealRowWith(absl::string_view column,
                               absl::string_view raw) {
  std::vector<std::string> fields = absl::StrSplit(kRealRow, ',');
  fields[*FindRawColumn(column)] = std::string(raw);
  return absl::StrJoin(fields, ",");
}

// Parses a train-layout line with the real parser; row errors (invalid
// fields) are expected in some tests and are kept in the record's states.
inline RawRecord ParseTrainLine(absl::string_view line) {
  std::vector<RowError> errors;
  absl::StatusOr<RawRecord> r = ParseRawLine(TrainHeaderLine(), line, &errors);
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *r : RawRecord();
}

inline RawRecord RealRecord() { return ParseTrainLine(kRealRow); }
inline RawRecord RealRecordWith(absl::string_view column,
                                absl::string_view raw) {
  return ParseTrainLine(RealRowWith(column, raw));
}

inline Date D(int y, int m, int d) {
  return Date{static_cast<int16_t>(y), static_cast<int8_t>(m),
              static_cast<int8_t>(d)};
}

// The month index of YYYY-MM.
inline int Month(int y, int m) { return y * 12 + m - 1; }

}  // namespace recsys::featurizer_testing

#endif  // RECSYS_FEATURIZER_TEST_UTIL_H_
