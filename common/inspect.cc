#include "common/inspect.h"

#include <algorithm>
#include <memory>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_format.h"
#include "common/raw_columns.h"
#include "common/raw_record.h"
#include "common/status_macros.h"

namespace recsys {
namespace {

constexpr char kNoMonth[] = "(no valid fecha_dato)";

int PackDate(const Date& d) { return d.year * 10000 + d.month * 100 + d.day; }

}  // namespace

absl::Status InspectFile(const std::string& path, InspectReport* report) {
  *report = InspectReport();
  report->path = path;
  RECSYS_ASSIGN_OR_RETURN(std::unique_ptr<RawReader> reader,
                          RawReader::Open(path));
  report->layout = reader->layout();
  report->columns = reader->header();
  const size_t num_columns = report->columns.size();
  report->missing.assign(num_columns, 0);
  report->invalid.assign(num_columns, 0);
  std::vector<int> ids(num_columns, -1);
  for (size_t i = 0; i < num_columns; ++i) {
    ids[i] = FindRawColumn(report->columns[i]).value_or(-1);
  }

  absl::flat_hash_set<int64_t> customers;
  absl::flat_hash_map<int, int64_t> rows_per_day;  // PackDate(date) -> rows
  int64_t rows_without_month = 0;
  // The current run of one month: ncodpers -> first line.
  int run_day = -1;
  absl::flat_hash_map<int64_t, int64_t> run_customers;
  RawRecord record;
  std::vector<RowError> errors;
  while (reader->Next(&record, &errors)) {
    ++report->rows;
    if (record.fecha_dato.present()) {
      ++rows_per_day[PackDate(record.fecha_dato.value)];
    } else {
      ++rows_without_month;
    }
    if (record.ncodpers.present()) customers.insert(record.ncodpers.value);
    if (record.ncodpers.present() && record.fecha_dato.present()) {
      const int day = PackDate(record.fecha_dato.value);
      if (day != run_day) {
        run_day = day;
        run_customers.clear();
      }
      auto [it, first] =
          run_customers.emplace(record.ncodpers.value, record.line);
      if (!first) {
        ++report->duplicate_rows;
        if (report->duplicates.size() < InspectReport::kMaxDuplicatesListed) {
          report->duplicates.push_back(
              {record.line, it->second, record.ncodpers.value});
        }
      }
    }
    for (size_t i = 0; i < num_columns; ++i) {
      if (ids[i] < 0) continue;
      const FieldState state = RawColumnState(record, ids[i]);
      if (state == FieldState::kMissing) ++report->missing[i];
      if (state == FieldState::kInvalid) ++report->invalid[i];
    }
    for (RowError& e : errors) report->errors.push_back(std::move(e));
  }
  RECSYS_RETURN_IF_ERROR(reader->status());

  for (const auto& [packed, rows] : rows_per_day) {
    const Date date{static_cast<int16_t>(packed / 10000),
                    static_cast<int8_t>(packed / 100 % 100),
                    static_cast<int8_t>(packed % 100)};
    report->rows_per_month[date.ToString()] += rows;
  }
  if (rows_without_month > 0)
    report->rows_per_month[kNoMonth] = rows_without_month;
  report->customers = static_cast<int64_t>(customers.size());
  return absl::OkStatus();
}

void PrintInspectReport(const InspectReport& report, std::ostream& out) {
  out << "file: " << report.path << "\n";
  out << "layout: "
      << (report.layout == FileLayout::kTrain
              ? "train (demographics + 24 products)"
              : "test (demographics only)")
      << ", " << report.columns.size() << " columns\n";
  out << "rows: " << report.rows << "\n";
  out << "customers: " << report.customers << "\n";
  out << "months: " << report.rows_per_month.size() << "\n";
  for (const auto& [month, rows] : report.rows_per_month) {
    out << absl::StrFormat("  %-12s %12d rows\n", month, rows);
  }
  size_t width = 6;
  for (const std::string& c : report.columns) width = std::max(width, c.size());
  out << absl::StrFormat("columns: %-*s %12s %12s\n", width, "", "missing",
                         "invalid");
  for (size_t i = 0; i < report.columns.size(); ++i) {
    out << absl::StrFormat("  %-*s %12d %12d\n", width + 7, report.columns[i],
                           report.missing[i], report.invalid[i]);
  }
  out << "row errors: " << report.errors.size() << "\n";
  for (const RowError& e : report.errors) out << "  " << e.ToString() << "\n";
  out << "duplicate customers (a customer's second row in one month): "
      << report.duplicate_rows << "\n";
  for (const InspectReport::Duplicate& d : report.duplicates) {
    out << "  line " << d.line << ": ncodpers " << d.ncodpers
        << " again (first on line " << d.first_line << ")\n";
  }
  if (report.duplicate_rows > static_cast<int64_t>(report.duplicates.size())) {
    out << "  ... and "
        << report.duplicate_rows - static_cast<int64_t>(report.duplicates.size())
        << " more\n";
  }
}

}  // namespace recsys
