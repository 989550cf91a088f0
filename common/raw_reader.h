// Streaming reader of the Kaggle Santander CSV files (train_ver2.csv,
// test_ver2.csv) and of the same files after a spreadsheet re-saved them.
//
// It reads RFC 4180 CSV (quoted fields with "" escapes and embedded commas,
// LF or CRLF line ends, an optional UTF-8 BOM), finds columns by header name
// (quoted or not, any order, unknown extra columns ignored), and parses each
// row into a RawRecord. Memory stays bounded: the file is read in chunks.
//
// A physical line longer than the tokenizer's limit (4 MiB) is one row that
// yields only a RowError ("line longer than N bytes"); reading goes on at the
// next line, so no row is lost.
//
// A row that cannot be parsed completely still yields a record: each field
// that failed is kInvalid and is described by one RowError (line, column,
// offending text). A row with the wrong number of fields yields a RowError
// for the row and a record with what could be parsed. Reading goes on.
//
//   RECSYS_ASSIGN_OR_RETURN(auto reader, RawReader::Open("train_ver2.csv"));
//   RawRecord record;
//   std::vector<RowError> errors;
//   while (reader->Next(&record, &errors)) {
//     for (const RowError& e : errors) std::cerr << e.ToString() << "\n";
//     Use(record);
//   }
//   RECSYS_RETURN_IF_ERROR(reader->status());  // I/O errors only
#ifndef RECSYS_COMMON_RAW_READER_H_
#define RECSYS_COMMON_RAW_READER_H_

#include <cstdint>
#include <istream>
#include <memory>
#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/raw_record.h"

namespace recsys {

// One problem with one row of a file.
struct RowError {
  int64_t line = 0;     // 1-based physical line where the row starts
  std::string column;   // header name, or "" for a problem with the row as a whole
  // The offending text as EscapeForMessage (common/field_parse.h) shows it:
  // verbatim when it is printable UTF-8, bytes that are not as \xHH, cut
  // after 200 bytes.
  std::string value;
  std::string message;  // what is wrong, e.g. "not an integer"

  // "line 17, column age: not an integer: \"3x\"".
  std::string ToString() const;
};

enum class FileLayout {
  kTrain,  // 48 columns: 24 demographic + 24 products
  kTest,   // 24 demographic columns
};

// Reads one file front to back. Not thread-safe; use one reader per thread.
class RawReader {
 public:
  // Opens `path` and reads its header. Returns NOT_FOUND when the file cannot
  // be opened, INVALID_ARGUMENT when the header lacks a required column
  // (naming it) or is not a Santander header.
  static absl::StatusOr<std::unique_ptr<RawReader>> Open(const std::string& path);

  // Same, reading from `in`, which must outlive the reader. `name` is used in
  // messages. Returns DATA_LOSS when `in` cannot be read (e.g. it failed to
  // open).
  static absl::StatusOr<std::unique_ptr<RawReader>> FromStream(std::istream* in,
                                                               std::string name);

  virtual ~RawReader() = default;

  // Reads the next row into `*record` (overwriting all of it) and replaces
  // `*errors` with that row's problems (empty for a clean row). Returns false
  // at the end of the file or on an I/O error (see status()). Blank lines are
  // skipped.
  virtual bool Next(RawRecord* record, std::vector<RowError>* errors) = 0;

  // OK, or the I/O error that stopped reading.
  virtual absl::Status status() const = 0;

  virtual FileLayout layout() const = 0;

  // Header names in file order, unquoted.
  virtual const std::vector<std::string>& header() const = 0;

  // Bytes consumed so far (for progress reporting).
  virtual int64_t bytes_read() const = 0;
};

// Parses one data line (no line end) of a file whose header is `header_line`,
// e.g. for a command-line tool given a single CSV row. Errors as for Next():
// returns INVALID_ARGUMENT for a bad header; field problems go to `*errors`.
absl::StatusOr<RawRecord> ParseRawLine(absl::string_view header_line, absl::string_view line,
                                       std::vector<RowError>* errors);

}  // namespace recsys

#endif  // RECSYS_COMMON_RAW_READER_H_
