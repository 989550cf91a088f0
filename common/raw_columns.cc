#include "common/raw_columns.h"

#include <charconv>
#include <string>
#include <system_error>
#include <type_traits>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "common/date.h"
#include "common/field_parse.h"

namespace recsys {
namespace {

constexpr absl::string_view kNotInteger = "not an integer";
constexpr absl::string_view kNotNumber = "not a number";
constexpr absl::string_view kNotCustomerType =
    "not a customer type (1, 2, 3, 4 or P)";
constexpr absl::string_view kNotDate =
    "not a date (expected YYYY-MM-DD or M/D/YYYY)";
constexpr absl::string_view kImpossibleDate = "impossible date";
constexpr absl::string_view kNotUtf8 =
    "not valid UTF-8 text (save the file as UTF-8; a byte shown as \\xHH is "
    "not UTF-8)";

// Each ParseX writes the field's value and state (which the caller has set to
// kMissing) and returns "" or the reason the text is invalid.

// An integer or double field, read by `parse` (ParseIntText, ParseDoubleText).
template <typename T>
absl::string_view ParseNumber(ParseOutcome (*parse)(absl::string_view, T*),
                              absl::string_view invalid_reason,
                              absl::string_view text, RawField<T>* field) {
  const ParseOutcome outcome = parse(text, &field->value);
  if (outcome == ParseOutcome::kValue) {
    field->state = FieldState::kPresent;
    return {};
  }
  field->value = T{};
  if (outcome == ParseOutcome::kMissing) return {};
  field->state = FieldState::kInvalid;
  return invalid_reason;
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

// The table's kinds match its members, and ids are positions.
constexpr bool TableIsConsistent() {
  for (int i = 0; i < kNumDemographicColumns; ++i) {
    const RawColumn& c = kRawColumns[i];
    if (c.id != i) return false;
    switch (c.kind) {
      case ColumnKind::kDate:
        if (!std::holds_alternative<DateField RawRecord::*>(c.member))
          return false;
        break;
      case ColumnKind::kInt:
        if (!std::holds_alternative<IntField RawRecord::*>(c.member))
          return false;
        break;
      case ColumnKind::kDouble:
        if (!std::holds_alternative<DoubleField RawRecord::*>(c.member))
          return false;
        break;
      case ColumnKind::kText:
      case ColumnKind::kCustomerType:
        if (!std::holds_alternative<TextField RawRecord::*>(c.member))
          return false;
        break;
    }
  }
  return true;
}
static_assert(TableIsConsistent(),
              "RECSYS_DEMOGRAPHIC_COLUMNS: a kind does not match its member");

}  // namespace

absl::string_view RawColumnName(int id) {
  if (id < kNumDemographicColumns) return kRawColumns[id].name;
  return kProducts[id - kFirstProductColumn].column;
}

std::optional<int> FindRawColumn(absl::string_view name) {
  for (int id = 0; id < kNumRawColumns; ++id) {
    if (RawColumnName(id) == name) return id;
  }
  return std::nullopt;
}

FieldState RawColumnState(const RawRecord& r, int id) {
  if (id < kFirstProductColumn) {
    return VisitField(kRawColumns[id], &r,
                      [](const auto& field) { return field.state; });
  }
  const ProductMask bit = ProductBit(id - kFirstProductColumn);
  if (!r.has_products || (r.products_missing & bit))
    return FieldState::kMissing;
  if (r.products_invalid & bit) return FieldState::kInvalid;
  return FieldState::kPresent;
}

FieldState* MutableRawColumnState(RawRecord* record, int id) {
  return VisitField(kRawColumns[id], record,
                    [](auto& field) { return &field.state; });
}

void ClearColumn(const RawColumn& column, RawRecord* record) {
  VisitField(column, record, [](auto& field) {
    field.state = FieldState::kMissing;
    if constexpr (std::is_same_v<std::decay_t<decltype(field)>, TextField>) {
      field.value.clear();  // keeps the capacity for the next row
    } else {
      field.value = {};
    }
  });
}

absl::string_view ParseColumnText(const RawColumn& column,
                                  absl::string_view text, RawRecord* record) {
  switch (column.kind) {
    case ColumnKind::kDate:
      return ParseDateField(
          text, &(record->*std::get<DateField RawRecord::*>(column.member)));
    case ColumnKind::kInt:
      return ParseNumber(
          &ParseIntText, kNotInteger, text,
          &(record->*std::get<IntField RawRecord::*>(column.member)));
    case ColumnKind::kDouble:
      return ParseNumber(
          &ParseDoubleText, kNotNumber, text,
          &(record->*std::get<DoubleField RawRecord::*>(column.member)));
    case ColumnKind::kText:
      return ParseText(
          text, &(record->*std::get<TextField RawRecord::*>(column.member)));
    case ColumnKind::kCustomerType:
      return ParseCustomerType(
          text, &(record->*std::get<TextField RawRecord::*>(column.member)));
  }
  return {};
}

std::string RawColumnText(const RawRecord& record, int id) {
  if (id < 0 || id >= kNumDemographicColumns) return {};
  return VisitField(kRawColumns[id], &record, [](const auto& field) {
    using T = std::decay_t<decltype(field.value)>;
    if (!field.present()) return std::string();
    if constexpr (std::is_same_v<T, Date>) {
      return field.value.ToString();
    } else if constexpr (std::is_same_v<T, double>) {
      char buf[32];
      const auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), field.value);
      return ec == std::errc() ? std::string(buf, end) : std::string();
    } else if constexpr (std::is_same_v<T, std::string>) {
      return field.value;
    } else {
      return std::to_string(field.value);
    }
  });
}

}  // namespace recsys
