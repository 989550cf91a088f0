#include "common/raw_row_parser.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/date.h"
#include "common/field_parse.h"
#include "common/raw_columns.h"

namespace recsys {
namespace {

constexpr absl::string_view kNotInteger = "not an integer";
constexpr absl::string_view kNotNumber = "not a number";
constexpr absl::string_view kNotCustomerType =
    "not a customer type (1, 2, 3, 4 or P)";
constexpr absl::string_view kNotProductFlag = "not a product flag (0, 1 or NA)";
constexpr absl::string_view kRequiredMissing = "required value is missing";
constexpr absl::string_view kNotUtf8 =
    "not valid UTF-8 text (save the file as UTF-8; a byte shown as \\xHH is "
    "not UTF-8)";

void ResetText(TextField* field) {
  field->state = FieldState::kMissing;
  field->value.clear();  // keeps the capacity for the next row
}

template <typename T>
void ResetValue(RawField<T>* field) {
  field->state = FieldState::kMissing;
  field->value = T{};
}

void ResetRecord(RawRecord* r) {
  ResetValue(&r->fecha_dato);
  ResetValue(&r->ncodpers);
  ResetText(&r->ind_empleado);
  ResetText(&r->pais_residencia);
  ResetText(&r->sexo);
  ResetValue(&r->age);
  ResetValue(&r->fecha_alta);
  ResetValue(&r->ind_nuevo);
  ResetValue(&r->antiguedad);
  ResetValue(&r->indrel);
  ResetValue(&r->ult_fec_cli_1t);
  ResetText(&r->indrel_1mes);
  ResetText(&r->tiprel_1mes);
  ResetText(&r->indresi);
  ResetText(&r->indext);
  ResetText(&r->conyuemp);
  ResetText(&r->canal_entrada);
  ResetText(&r->indfall);
  ResetValue(&r->tipodom);
  ResetValue(&r->cod_prov);
  ResetText(&r->nomprov);
  ResetValue(&r->ind_actividad_cliente);
  ResetValue(&r->renta);
  ResetText(&r->segmento);
  r->products = 0;
  r->products_missing = 0;
  r->products_invalid = 0;
}

constexpr absl::string_view kNotDate =
    "not a date (expected YYYY-MM-DD or M/D/YYYY)";
constexpr absl::string_view kImpossibleDate = "impossible date";

// Each ParseX writes the field's value and state and returns "" or the error
// message for an invalid text.
absl::string_view ParseInt(absl::string_view text, IntField* field) {
  switch (ParseIntText(text, &field->value)) {
    case ParseOutcome::kValue:
      field->state = FieldState::kPresent;
      return {};
    case ParseOutcome::kMissing:
      field->value = 0;
      return {};
    case ParseOutcome::kInvalid:
      break;
  }
  field->value = 0;
  field->state = FieldState::kInvalid;
  return kNotInteger;
}

absl::string_view ParseDouble(absl::string_view text, DoubleField* field) {
  switch (ParseDoubleText(text, &field->value)) {
    case ParseOutcome::kValue:
      field->state = FieldState::kPresent;
      return {};
    case ParseOutcome::kMissing:
      field->value = 0;
      return {};
    case ParseOutcome::kInvalid:
      break;
  }
  field->value = 0;
  field->state = FieldState::kInvalid;
  return kNotNumber;
}

absl::string_view ParseDateField(absl::string_view text, DateField* field) {
  if (IsMissingText(text)) return {};
  absl::StatusOr<Date> date = ParseDate(text);
  if (date.ok()) {
    field->Set(*date);
    return {};
  }
  field->state = FieldState::kInvalid;
  return absl::StartsWith(date.status().message(), kImpossibleDate)
             ? kImpossibleDate
             : kNotDate;
}

// Stores what a text parser made of a field: the value, nothing (missing),
// or kInvalid with `invalid_reason` returned.
absl::string_view StoreText(ParseOutcome outcome, absl::string_view value,
                            absl::string_view invalid_reason,
                            TextField* field) {
  switch (outcome) {
    case ParseOutcome::kValue:
      field->value.assign(value.data(), value.size());
      field->state = FieldState::kPresent;
      return {};
    case ParseOutcome::kMissing:
      return {};
    case ParseOutcome::kInvalid:
      break;
  }
  field->state = FieldState::kInvalid;
  return invalid_reason;
}

absl::string_view ParseText(absl::string_view text, TextField* field) {
  absl::string_view s;
  const ParseOutcome outcome = ParseTextField(text, &s);
  return StoreText(outcome, s, kNotUtf8, field);
}

absl::string_view ParseCustomerType(absl::string_view text, TextField* field) {
  absl::string_view type;
  const ParseOutcome outcome = ParseCustomerTypeText(text, &type);
  return StoreText(outcome, type, kNotCustomerType, field);
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
  switch (id) {
    case kFechaDato:
      return ParseDateField(text, &r->fecha_dato);
    case kNcodpers:
      return ParseInt(text, &r->ncodpers);
    case kIndEmpleado:
      return ParseText(text, &r->ind_empleado);
    case kPaisResidencia:
      return ParseText(text, &r->pais_residencia);
    case kSexo:
      return ParseText(text, &r->sexo);
    case kAge:
      return ParseInt(text, &r->age);
    case kFechaAlta:
      return ParseDateField(text, &r->fecha_alta);
    case kIndNuevo:
      return ParseInt(text, &r->ind_nuevo);
    case kAntiguedad:
      return ParseInt(text, &r->antiguedad);
    case kIndrel:
      return ParseInt(text, &r->indrel);
    case kUltFecCli1t:
      return ParseDateField(text, &r->ult_fec_cli_1t);
    case kIndrel1mes:
      return ParseCustomerType(text, &r->indrel_1mes);
    case kTiprel1mes:
      return ParseText(text, &r->tiprel_1mes);
    case kIndresi:
      return ParseText(text, &r->indresi);
    case kIndext:
      return ParseText(text, &r->indext);
    case kConyuemp:
      return ParseText(text, &r->conyuemp);
    case kCanalEntrada:
      return ParseText(text, &r->canal_entrada);
    case kIndfall:
      return ParseText(text, &r->indfall);
    case kTipodom:
      return ParseInt(text, &r->tipodom);
    case kCodProv:
      return ParseInt(text, &r->cod_prov);
    case kNomprov:
      return ParseText(text, &r->nomprov);
    case kIndActividadCliente:
      return ParseInt(text, &r->ind_actividad_cliente);
    case kRenta:
      return ParseDouble(text, &r->renta);
    case kSegmento:
      return ParseText(text, &r->segmento);
    default:
      return ParseProduct(text, id - kFirstProductColumn, r);
  }
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
