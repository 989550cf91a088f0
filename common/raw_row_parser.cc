#include "common/raw_row_parser.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/field_parse.h"
#include "common/raw_columns.h"

namespace recsys {
namespace {

constexpr absl::string_view kNotProductFlag = "not a product flag (0, 1 or NA)";
constexpr absl::string_view kRequiredMissing = "required value is missing";

void ResetRecord(RawRecord* r) {
  for (const RawColumn& column : kRawColumns) ClearColumn(column, r);
  r->products = 0;
  r->products_missing = 0;
  r->products_invalid = 0;
}

absl::string_view ParseProduct(absl::string_view text, int product,
                               RawRecord* r) {
  const ProductMask bit = ProductBit(product);
  // Fast path for what the files write: "0", "1", " 0", " 1".
  const char last = text.empty() ? '\0' : text.back();
  if ((last == '0' || last == '1') &&
      (text.size() == 1 || (text.size() == 2 && text[0] == ' '))) {
    if (last == '1') r->products |= bit;
    return {};
  }
  int flag = 0;
  switch (ParseProductFlagText(text, &flag)) {
    case ParseOutcome::kValue:
      if (flag) r->products |= bit;
      return {};
    case ParseOutcome::kMissing:
      r->products_missing |= bit;
      return {};
    case ParseOutcome::kInvalid:
      break;
  }
  r->products_invalid |= bit;
  return kNotProductFlag;
}

// Parses `text` as column `id` of `r`. Returns "" or the error message.
absl::string_view ParseColumn(int id, absl::string_view text, RawRecord* r) {
  if (id < kFirstProductColumn) return ParseColumnText(kRawColumns[id], text, r);
  return ParseProduct(text, id - kFirstProductColumn, r);
}

absl::string_view QuotingMessage(CsvProblem problem) {
  return problem == CsvProblem::kTextAfterQuote ? "text after closing quote"
                                                : "unterminated quoted field";
}

// Makes column `id` of `r` invalid (its text could not be read at all).
void MarkInvalid(int id, RawRecord* r) {
  if (id >= kFirstProductColumn) {
    r->products_invalid |= ProductBit(id - kFirstProductColumn);
    return;
  }
  *MutableRawColumnState(r, id) = FieldState::kInvalid;
}

}  // namespace

absl::StatusOr<RawRowParser> RawRowParser::Create(
    const std::vector<absl::string_view>& header,
    absl::string_view source_name) {
  RawRowParser parser;
  std::vector<int> position(kNumRawColumns, -1);
  int known = 0;
  for (size_t i = 0; i < header.size(); ++i) {
    absl::string_view name = TrimSpaces(header[i]);
    parser.header_.emplace_back(name);
    std::optional<int> id = FindRawColumn(name);
    parser.column_ids_.push_back(id.value_or(-1));
    if (!id) continue;
    if (position[*id] >= 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          source_name, ": header has column \"", name, "\" twice"));
    }
    position[*id] = static_cast<int>(i);
    ++known;
  }
  if (known == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(source_name,
                     ": not a Santander header (no known column; expected "
                     "\"fecha_dato\", ...)"));
  }
  for (int id = 0; id < kNumDemographicColumns; ++id) {
    if (position[id] < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(source_name, ": header lacks required column \"",
                       RawColumnName(id), "\""));
    }
  }
  int products = 0;
  int first_absent = -1;
  for (int id = kFirstProductColumn; id < kNumRawColumns; ++id) {
    if (position[id] >= 0) {
      ++products;
    } else if (first_absent < 0) {
      first_absent = id;
    }
  }
  if (products != 0 && products != kNumProducts) {
    return absl::InvalidArgumentError(absl::StrCat(
        source_name, ": header has ", products, " of the ", kNumProducts,
        " product columns; it lacks \"", RawColumnName(first_absent), "\""));
  }
  parser.layout_ =
      products == kNumProducts ? FileLayout::kTrain : FileLayout::kTest;
  parser.fecha_dato_column_ = position[kFechaDato];
  parser.ncodpers_column_ = position[kNcodpers];
  return parser;
}

void RawRowParser::AddError(int64_t line, int column, absl::string_view text,
                            absl::string_view message,
                            std::vector<RowError>* errors) const {
  RowError& e = errors->emplace_back();
  e.line = line;
  if (column >= 0) e.column = header_[column];
  e.value = EscapeForMessage(text);
  e.message = std::string(message);
}

void RawRowParser::Parse(const CsvRecord& csv, RawRecord* record,
                         std::vector<RowError>* errors) const {
  errors->clear();
  ResetRecord(record);
  record->line = csv.line;
  record->has_products = layout_ == FileLayout::kTrain;

  if (csv.problem == CsvProblem::kLineTooLong) {
    // Nothing of the line was kept: the row is one error.
    AddError(csv.line, -1, csv.text,
             absl::StrCat("line longer than ", csv.max_line_bytes,
                          " bytes; the row is skipped"),
             errors);
    return;
  }
  const size_t fields = csv.fields.size();
  if (fields != header_.size()) {
    AddError(
        csv.line, -1, csv.text,
        absl::StrCat("expected ", header_.size(), " fields, found ", fields),
        errors);
  }
  const size_t columns = std::min(fields, header_.size());
  for (size_t i = 0; i < columns; ++i) {
    const int id = column_ids_[i];
    if (static_cast<int>(i) == csv.problem_field) {
      // Malformed quoting: the text is not what the file meant.
      if (id >= 0) MarkInvalid(id, record);
      AddError(csv.line, static_cast<int>(i), csv.fields[i],
               QuotingMessage(csv.problem), errors);
      continue;
    }
    if (id < 0) continue;
    absl::string_view error = ParseColumn(id, csv.fields[i], record);
    if (!error.empty())
      AddError(csv.line, static_cast<int>(i), csv.fields[i], error, errors);
  }
  // Columns the row is too short to have: products are missing too.
  for (size_t i = columns; i < header_.size(); ++i) {
    if (column_ids_[i] >= kFirstProductColumn) {
      record->products_missing |=
          ProductBit(column_ids_[i] - kFirstProductColumn);
    }
  }
  if (csv.problem_field >= static_cast<int>(columns)) {
    AddError(csv.line, -1, csv.fields[csv.problem_field],
             QuotingMessage(csv.problem), errors);
  }
  CheckRequired(csv, fecha_dato_column_, record->fecha_dato.state, errors);
  CheckRequired(csv, ncodpers_column_, record->ncodpers.state, errors);
}

void RawRowParser::CheckRequired(const CsvRecord& csv, int column,
                                 FieldState state,
                                 std::vector<RowError>* errors) const {
  if (state != FieldState::kMissing) return;
  const bool present = static_cast<size_t>(column) < csv.fields.size();
  AddError(csv.line, column, present ? csv.fields[column] : absl::string_view(),
           kRequiredMissing, errors);
}

}  // namespace recsys
