#include "training/raw_writer.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <variant>

#include "common/raw_columns.h"

namespace recsys {
namespace {

// The two product columns the real file writes with a leading space.
constexpr ProductMask kSpacedProducts = ProductBit(21) | ProductBit(22);

void AppendPadded(absl::string_view text, int width, std::string* out) {
  for (int i = static_cast<int>(text.size()); i < width; ++i)
    out->push_back(' ');
  out->append(text.data(), text.size());
}

// Right-aligns `field` (or "NA") to `width`; width 0 means no padding.
void AppendInt(const IntField& field, int width, std::string* out) {
  if (!field.present()) {
    AppendPadded("NA", width, out);
    return;
  }
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), field.value);
  AppendPadded(absl::string_view(buf, static_cast<size_t>(end - buf)), width,
               out);
}

void AppendTwoDigits(int v, std::string* out) {
  out->push_back(static_cast<char>('0' + v / 10));
  out->push_back(static_cast<char>('0' + v % 10));
}

void AppendDate(const DateField& field, std::string* out) {
  if (!field.present()) return;
  const Date& d = field.value;
  const int y = d.year;
  out->push_back(static_cast<char>('0' + y / 1000 % 10));
  out->push_back(static_cast<char>('0' + y / 100 % 10));
  AppendTwoDigits(y % 100, out);
  out->push_back('-');
  AppendTwoDigits(d.month, out);
  out->push_back('-');
  AppendTwoDigits(d.day, out);
}

void AppendText(const TextField& field, std::string* out) {
  if (field.present()) out->append(field.value);
}

// nomprov: always quoted, with "" escapes for quotes inside.
void AppendQuoted(const TextField& field, std::string* out) {
  out->push_back('"');
  if (field.present()) {
    for (char c : field.value) {
      if (c == '"') out->push_back('"');
      out->push_back(c);
    }
  }
  out->push_back('"');
}

void AppendIndrel1mes(const TextField& field, const RawSpelling& spelling,
                      std::string* out) {
  if (!field.present()) return;
  out->append(field.value);
  const bool numeric =
      !field.value.empty() &&
      field.value.find_first_not_of("0123456789") == std::string::npos;
  if (numeric && spelling.indrel_1mes_decimal) out->append(".0");
}

template <typename Field>
const Field& FieldOf(const RawColumn& column, const RawRecord& r) {
  return r.*std::get<Field RawRecord::*>(column.member);
}

void AppendColumn(const RawColumn& column, const RawRecord& r,
                  FileLayout layout, const RawSpelling& spelling,
                  std::string* out) {
  switch (column.kind) {
    case ColumnKind::kDate:
      AppendDate(FieldOf<DateField>(column, r), out);
      return;
    case ColumnKind::kInt:
      AppendInt(FieldOf<IntField>(column, r), column.file_width, out);
      return;
    case ColumnKind::kDouble: {
      const DoubleField& field = FieldOf<DoubleField>(column, r);
      if (field.present()) {
        AppendShortestDouble(field.value, out);
      } else if (layout == FileLayout::kTest) {
        out->append("         NA");
      }
      return;
    }
    case ColumnKind::kText:
      if (column.id == kNomprov) {
        AppendQuoted(FieldOf<TextField>(column, r), out);
      } else {
        AppendText(FieldOf<TextField>(column, r), out);
      }
      return;
    case ColumnKind::kCustomerType:
      AppendIndrel1mes(FieldOf<TextField>(column, r), spelling, out);
      return;
  }
}

}  // namespace

void AppendShortestDouble(double value, std::string* out) {
  char buf[64];
  const double magnitude = std::fabs(value);
  const bool fixed = magnitude == 0 || (magnitude >= 1e-4 && magnitude < 1e16);
  auto [end, ec] = std::to_chars(
      buf, buf + sizeof(buf), value,
      fixed ? std::chars_format::fixed : std::chars_format::scientific);
  const absl::string_view text(buf, static_cast<size_t>(end - buf));
  out->append(text.data(), text.size());
  if (fixed && std::isfinite(value) &&
      text.find('.') == absl::string_view::npos) {
    out->append(".0");
  }
}

std::string RawHeaderLine(FileLayout layout) {
  std::string line;
  for (const RawColumn& column : kRawColumns) {
    const absl::string_view name = column.name;
    if (!line.empty()) line.push_back(',');
    line.push_back('"');
    line.append(name.data(), name.size());
    line.push_back('"');
  }
  if (layout == FileLayout::kTrain) {
    for (const Product& p : kProducts) {
      line.append(",\"");
      line.append(p.column.data(), p.column.size());
      line.push_back('"');
    }
  }
  line.push_back('\n');
  return line;
}

void AppendRawRow(const RawRecord& r, FileLayout layout,
                  const RawSpelling& spelling, std::string* out) {
  for (const RawColumn& column : kRawColumns) {
    if (column.id != 0) out->push_back(',');
    AppendColumn(column, r, layout, spelling, out);
  }
  if (layout == FileLayout::kTrain) {
    const ProductMask missing = r.products_missing | r.products_invalid;
    for (int i = 0; i < kNumProducts; ++i) {
      const ProductMask bit = ProductBit(i);
      out->push_back(',');
      if (missing & bit) {
        out->append("NA");
        continue;
      }
      if (kSpacedProducts & bit) out->push_back(' ');
      out->push_back((r.products & bit) ? '1' : '0');
    }
  }
  out->push_back('\n');
}

}  // namespace recsys
