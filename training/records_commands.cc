#include "training/records_commands.h"

#include <sys/stat.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "records/ingest.h"
#include "records/records_db.h"

namespace recsys {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

int64_t FileBytes(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? static_cast<int64_t>(st.st_size) : 0;
}

double MiB(int64_t bytes) { return static_cast<double>(bytes) / (1 << 20); }

}  // namespace

int RunIngestCommand(const std::string& db_path,
                     const std::vector<std::string>& files, bool skip_ingested,
                     std::ostream& out, std::ostream& err) {
  if (db_path.empty() || files.empty()) {
    err << "recsys-data: ingest needs --db FILE and at least one raw FILE "
           "(see recsys-data --help)\n";
    return kExitUsage;
  }
  absl::StatusOr<std::unique_ptr<RecordsDb>> db = RecordsDb::Open(db_path, {});
  if (!db.ok()) {
    err << "recsys-data: " << db.status().message() << "\n";
    return kExitFailed;
  }
  int exit_code = kExitOk;
  int64_t rows = 0, csv_bytes = 0;
  double seconds = 0;
  for (const std::string& file : files) {
    if (skip_ingested) {
      absl::StatusOr<std::string> checksum = FileChecksum(file);
      absl::StatusOr<std::vector<MonthInfo>> held =
          checksum.ok() ? MonthsIngestedFrom(db->get(), *checksum)
                        : absl::StatusOr<std::vector<MonthInfo>>(
                              checksum.status());
      if (!held.ok()) {
        err << "recsys-data: " << file << ": " << held.status().message()
            << " (the database is unchanged for this file)\n";
        exit_code = kExitFailed;
        continue;
      }
      if (!held->empty()) {
        out << absl::StrFormat(
            "%s: skipped, already ingested (checksum %s; months %s..%s held "
            "from it since %s)\n",
            file, *checksum, held->front().month, held->back().month,
            held->front().ingested_at);
        continue;
      }
    }
    IngestOptions options;
    options.progress = [&err, &file](int64_t read) {
      err << absl::StrFormat("  %s: %d rows read\n", file, read);
    };
    absl::StatusOr<IngestReport> report = IngestFile(db->get(), file, options);
    if (!report.ok()) {
      err << "recsys-data: " << report.status().message()
          << " (the database is unchanged for this file)\n";
      exit_code = kExitFailed;
      continue;
    }
    out << FormatIngestReport(*report);
    rows += report->rows_read;
    csv_bytes += report->bytes;
    seconds += report->seconds;
  }
  // Moves the committed pages into the database file, so that its size is
  // the size of the data (and the WAL does not stay as large as an ingest).
  const absl::Status checkpoint =
      (*db)->sqlite()->Exec("PRAGMA wal_checkpoint(TRUNCATE)");
  if (!checkpoint.ok()) err << "recsys-data: " << checkpoint.message() << "\n";
  if (rows > 0) {
    const int64_t db_bytes = FileBytes(db_path) + FileBytes(db_path + "-wal");
    out << absl::StrFormat(
        "ingested %d rows in %.1f s (%.0f rows/s) from %.1f MiB of CSV; %s "
        "is now %.1f MiB (every month it holds)\n",
        rows, seconds, seconds > 0 ? rows / seconds : 0.0, MiB(csv_bytes),
        db_path, MiB(db_bytes));
  }
  return exit_code;
}

int RunMonthsCommand(const std::string& db_path, std::ostream& out,
                     std::ostream& err) {
  if (db_path.empty()) {
    err << "recsys-data: months needs --db FILE (see recsys-data --help)\n";
    return kExitUsage;
  }
  absl::StatusOr<std::unique_ptr<RecordsDb>> db =
      RecordsDb::Open(db_path, {.read_only = true});
  absl::StatusOr<std::vector<MonthInfo>> months =
      db.ok() ? (*db)->ListMonths()
              : absl::StatusOr<std::vector<MonthInfo>>(db.status());
  if (!months.ok()) {
    err << "recsys-data: " << months.status().message() << "\n";
    return kExitFailed;
  }
  out << absl::StrFormat("%-8s %-6s %10s %10s %9s %8s %8s  %-20s %s\n", "month",
                         "layout", "rows", "customers", "added", "refused",
                         "fielderr", "ingested (UTC)", "file");
  for (const MonthInfo& m : *months) {
    out << absl::StrFormat(
        "%-8s %-6s %10d %10d %9s %8d %8d  %-20s %s\n", m.month,
        m.has_products ? "train" : "test", m.rows, m.customers,
        m.products_added ? absl::StrCat(*m.products_added) : "-",
        m.rows_refused, m.rows_with_field_errors, m.ingested_at, m.file);
  }
  if (months->empty()) out << "(no months: ingest a file first)\n";
  return kExitOk;
}

}  // namespace recsys
