// Helpers shared by the raw reader tests: Santander CSV text built from the
// first real train row, and reading a whole text or file into memory.
#ifndef RECSYS_COMMON_RAW_READER_TEST_UTIL_H_
#define RECSYS_COMMON_RAW_READER_TEST_UTIL_H_

#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "common/raw_columns.h"
#include "common/raw_reader.h"

namespace recsys::testing {

// Row 1 of train_ver2.csv, verbatim.
inline constexpr char kFirstTrainRow[] =
    "2015-01-28,1375586,N,ES,H, 35,2015-01-12, 0,      6, 1,,1.0,A,S,N,,KHL,N, "
    "1,29,"
    "\"MALAGA\", 1,87218.1,02 - "
    "PARTICULARES,0,0,1,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0, "
    "0, 0,0";

// Row 1 of the spreadsheet-saved test_ver2.csv, verbatim (without CRLF).
inline constexpr char kFirstTestRow[] =
    "6/28/2016,15889,F,ES,V,56,1/16/"
    "1995,0,256,1,,1,A,S,N,N,KAT,N,1,28,MADRID,1,326124.9,"
    "01 - TOP";

// The train header (48 names) or test header (24 names), every name
// double-quoted as in the Kaggle files or bare as a spreadsheet saves them.
inline std::string SantanderHeader(bool train, bool quoted) {
  std::vector<std::string> names;
  const int columns = train ? kNumRawColumns : kNumDemographicColumns;
  for (int id = 0; id < columns; ++id) {
    const std::string name(RawColumnName(id));
    names.push_back(quoted ? "\"" + name + "\"" : name);
  }
  return absl::StrJoin(names, ",");
}
inline std::string TrainHeader() { return SantanderHeader(true, true); }
inline std::string TestHeader() { return SantanderHeader(false, false); }

// A data row as raw field texts (quotes included), to alter column by column.
// The row must have no quoted comma.
class RowText {
 public:
  explicit RowText(absl::string_view line = kFirstTrainRow)
      : fields_(absl::StrSplit(line, ',')) {}
  // Replaces the raw text of the column named `column` (header order).
  RowText& Set(absl::string_view column, absl::string_view raw) {
    fields_[*FindRawColumn(column)] = std::string(raw);
    return *this;
  }
  // Drops the last `n` fields.
  RowText& DropLast(size_t n) {
    fields_.resize(fields_.size() - n);
    return *this;
  }
  std::string str() const { return absl::StrJoin(fields_, ","); }

 private:
  std::vector<std::string> fields_;
};

// Everything a reader gives for one input.
struct ReadResult {
  absl::Status open_status;  // from Open / FromStream
  absl::Status status;       // reader->status() at the end
  FileLayout layout = FileLayout::kTest;
  std::vector<std::string> header;
  std::vector<RawRecord> records;
  std::vector<RowError> errors;  // all rows' errors, in file order
};

inline void ReadAll(absl::StatusOr<std::unique_ptr<RawReader>> reader,
                    ReadResult* result) {
  result->open_status = reader.status();
  if (!reader.ok()) return;
  result->layout = (*reader)->layout();
  result->header = (*reader)->header();
  RawRecord record;
  std::vector<RowError> errors;
  while ((*reader)->Next(&record, &errors)) {
    result->records.push_back(record);
    result->errors.insert(result->errors.end(), errors.begin(), errors.end());
  }
  result->status = (*reader)->status();
}

// Reads CSV text through RawReader::FromStream.
inline ReadResult ReadCsvText(const std::string& csv) {
  std::istringstream in(csv);
  ReadResult result;
  ReadAll(RawReader::FromStream(&in, "test.csv"), &result);
  return result;
}

// Reads a file through RawReader::Open.
inline ReadResult ReadCsvFile(const std::string& path) {
  ReadResult result;
  ReadAll(RawReader::Open(path), &result);
  return result;
}

}  // namespace recsys::testing

#endif  // RECSYS_COMMON_RAW_READER_TEST_UTIL_H_
