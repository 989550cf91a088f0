// Turns the fields of one CSV record of a Santander file into a RawRecord,
// given the file's header. The RawReader uses one per file.
//
//   RECSYS_ASSIGN_OR_RETURN(RawRowParser parser,
//                           RawRowParser::Create(header_record.fields, path));
//   parser.Parse(csv_record, &raw_record, &row_errors);
#ifndef RECSYS_COMMON_RAW_ROW_PARSER_H_
#define RECSYS_COMMON_RAW_ROW_PARSER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/csv_tokenizer.h"
#include "common/raw_reader.h"
#include "common/raw_record.h"

namespace recsys {

// Immutable after Create(); thread-compatible (Parse is const).
class RawRowParser {
 public:
  // `header` are the header fields (unquoted; surrounding spaces ignored).
  // Returns INVALID_ARGUMENT, naming `source_name` and the column, when a
  // demographic column is absent, a known column appears twice, or only some
  // of the 24 product columns are present. Unknown columns are ignored.
  static absl::StatusOr<RawRowParser> Create(
      const std::vector<absl::string_view>& header,
      absl::string_view source_name);

  // kTrain when the header has the 24 product columns, kTest when it has none.
  FileLayout layout() const { return layout_; }
  // Header names in file order.
  const std::vector<std::string>& header() const { return header_; }

  // Overwrites all of `*record` with the row `csv` and replaces `*errors`
  // with the row's problems: a wrong field count, malformed quoting, a field
  // text that is not a value of its column (that field becomes kInvalid; a
  // text column's value must be valid UTF-8), a missing fecha_dato or
  // ncodpers, a line too long to be read (the record is empty then). Reuses the capacity of the record's
  // strings and of `*errors`.
  void Parse(const CsvRecord& csv, RawRecord* record,
             std::vector<RowError>* errors) const;

 private:
  RawRowParser() = default;

  // Appends a "required value is missing" error when `state` is kMissing.
  void CheckRequired(const CsvRecord& csv, int column, FieldState state,
                     std::vector<RowError>* errors) const;
  void AddError(int64_t line, int column, absl::string_view text,
                absl::string_view message, std::vector<RowError>* errors) const;

  std::vector<std::string> header_;
  std::vector<int> column_ids_;  // per header position: a RawColumnId or -1
  int fecha_dato_column_ = -1;   // header positions of the required columns
  int ncodpers_column_ = -1;
  FileLayout layout_ = FileLayout::kTest;
};

}  // namespace recsys

#endif  // RECSYS_COMMON_RAW_ROW_PARSER_H_
