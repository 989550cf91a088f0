#include "common/raw_reader.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/csv_tokenizer.h"
#include "common/raw_row_parser.h"
#include "common/status_macros.h"

namespace recsys {
namespace {

// RawReader over any byte source: a CsvTokenizer feeding a RawRowParser.
class CsvRawReader final : public RawReader {
 public:
  // Reads the header from `source`. Errors as for RawReader::Open.
  static absl::StatusOr<std::unique_ptr<CsvRawReader>> Create(
      std::unique_ptr<ByteSource> source, absl::string_view name) {
    auto tokenizer = std::make_unique<CsvTokenizer>(std::move(source));
    CsvRecord header;
    if (!tokenizer->Next(&header)) {
      RECSYS_RETURN_IF_ERROR(tokenizer->status());
      return absl::InvalidArgumentError(
          absl::StrCat(name, ": empty file, no header"));
    }
    RECSYS_ASSIGN_OR_RETURN(RawRowParser parser,
                            RawRowParser::Create(header.fields, name));
    return std::unique_ptr<CsvRawReader>(
        new CsvRawReader(std::move(tokenizer), std::move(parser)));
  }

  bool Next(RawRecord* record, std::vector<RowError>* errors) override {
    if (!tokenizer_->Next(&csv_)) return false;
    parser_.Parse(csv_, record, errors);
    return true;
  }

  absl::Status status() const override { return tokenizer_->status(); }
  FileLayout layout() const override { return parser_.layout(); }
  const std::vector<std::string>& header() const override {
    return parser_.header();
  }
  int64_t bytes_read() const override { return tokenizer_->bytes_consumed(); }

 private:
  CsvRawReader(std::unique_ptr<CsvTokenizer> tokenizer, RawRowParser parser)
      : tokenizer_(std::move(tokenizer)), parser_(std::move(parser)) {}

  std::unique_ptr<CsvTokenizer> tokenizer_;
  RawRowParser parser_;
  CsvRecord csv_;  // reused row after row
};

}  // namespace

std::string RowError::ToString() const {
  if (column.empty())
    return absl::StrCat("line ", line, ": ", message, ": \"", value, "\"");
  return absl::StrCat("line ", line, ", column ", column, ": ", message, ": \"",
                      value, "\"");
}

absl::StatusOr<std::unique_ptr<RawReader>> RawReader::Open(
    const std::string& path) {
  RECSYS_ASSIGN_OR_RETURN(std::unique_ptr<FileByteSource> source,
                          FileByteSource::Open(path));
  RECSYS_ASSIGN_OR_RETURN(std::unique_ptr<CsvRawReader> reader,
                          CsvRawReader::Create(std::move(source), path));
  return std::unique_ptr<RawReader>(std::move(reader));
}

absl::StatusOr<std::unique_ptr<RawReader>> RawReader::FromStream(
    std::istream* in, std::string name) {
  auto source = std::make_unique<IstreamByteSource>(in, name);
  RECSYS_ASSIGN_OR_RETURN(std::unique_ptr<CsvRawReader> reader,
                          CsvRawReader::Create(std::move(source), name));
  return std::unique_ptr<RawReader>(std::move(reader));
}

absl::StatusOr<RawRecord> ParseRawLine(absl::string_view header_line,
                                       absl::string_view line,
                                       std::vector<RowError>* errors) {
  auto source =
      std::make_unique<StringByteSource>(absl::StrCat(header_line, "\n", line));
  RECSYS_ASSIGN_OR_RETURN(std::unique_ptr<CsvRawReader> reader,
                          CsvRawReader::Create(std::move(source), "header"));
  RawRecord record;
  if (!reader->Next(&record, errors)) {
    return absl::InvalidArgumentError("empty line: no row to parse");
  }
  RawRecord extra;
  std::vector<RowError> extra_errors;
  if (reader->Next(&extra, &extra_errors)) {
    return absl::InvalidArgumentError("the line holds more than one row");
  }
  // The row is the first line of what the caller gave; it came from no file.
  const int64_t first_line = record.line;
  for (RowError& e : *errors) e.line -= first_line - 1;
  record.line = 0;
  return record;
}

}  // namespace recsys
