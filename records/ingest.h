// Ingest: loads a raw monthly file (train layout with the 24 products, or test
// layout without) into the records database (records/records_db.h).
//
// Every row read is either stored or refused, so rows read = rows stored +
// rows refused, per file and per month. A row is refused when
//   - it cannot be split into the file's columns (a wrong number of fields,
//     broken quoting, a line longer than 4 MiB);
//   - its fecha_dato or ncodpers is missing or invalid, or ncodpers is
//     outside 0..4294967295 (what training can use as a customer);
//   - its customer already has a row in that month (the first row is kept).
// Each refused row has its problems in row_errors with refused = 1, and counts
// in the month of the stored rows around it (the month of the stored row
// before it; for rows before the first stored row, the first one's month).
// A stored row whose other fields are invalid (e.g. age "3x") keeps its text
// and gets its problems in row_errors with refused = 0: cleaning treats such
// a field as missing, as it does when training from the CSV file.
//
// Ingest replaces every month the file holds -- records, row errors and the
// months row -- in ONE transaction: a failure, a kill -9 or a power cut
// before it commits leaves the database exactly as it was, and ingesting the
// same file again gives the same contents. The file's months must be in
// increasing order (as the Kaggle files are; training needs it too), a month
// in one contiguous run of rows. The transaction takes the write lock at the
// start (BEGIN IMMEDIATE): a second ingest waits for RecordsDbOptions::
// busy_timeout, then fails with UNAVAILABLE, changing nothing.
//
//   RECSYS_ASSIGN_OR_RETURN(auto db, RecordsDb::Open("records.db", {}));
//   RECSYS_ASSIGN_OR_RETURN(IngestReport report,
//                           IngestFile(db.get(), "train_ver2.csv", {}));
//   std::cout << FormatIngestReport(report);
#ifndef RECSYS_RECORDS_INGEST_H_
#define RECSYS_RECORDS_INGEST_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/raw_reader.h"
#include "records/records_db.h"

namespace recsys {

struct IngestOptions {
  // Called with the rows read so far every `progress_every_rows` rows, inside
  // the transaction. Default none.
  std::function<void(int64_t rows_read)> progress;
  int64_t progress_every_rows = 1'000'000;  // Default 1,000,000.
  // Row errors copied into IngestReport::errors (all are in the table).
  // Default 20.
  int max_errors_reported = 20;
};

struct IngestedMonth {
  std::string month;  // "YYYY-MM"
  int64_t rows = 0;   // stored (one per customer)
  int64_t rows_refused = 0;
  int64_t rows_with_field_errors = 0;  // stored, some field invalid
  bool replaced = false;  // the database held the month before
};

struct ReportedRowError {
  RowError error;
  bool refused = false;  // the row was not stored
};

struct IngestReport {
  std::string path;
  std::string checksum;  // FNV-1a 64 of the file's bytes, 16 hex digits
  int64_t bytes = 0;
  FileLayout layout = FileLayout::kTest;
  int64_t rows_read = 0;    // = rows_stored + rows_refused
  int64_t rows_stored = 0;
  int64_t rows_refused = 0;
  int64_t rows_with_field_errors = 0;
  std::vector<IngestedMonth> months;  // in file order
  std::vector<ReportedRowError> errors;  // the first max_errors_reported
  int64_t errors_total = 0;              // rows in row_errors for this file
  double seconds = 0;                    // wall time, commit included
};

// Ingests `path` into `db` (see the file comment). Errors, after which the
// database is unchanged: NOT_FOUND (file), INVALID_ARGUMENT (not a Santander
// header; months out of order, naming the line; no row with a usable month
// and customer), UNAVAILABLE (another writer held the lock too long), and
// SQLite's other errors (records/sqlite.h).
absl::StatusOr<IngestReport> IngestFile(RecordsDb* db, const std::string& path,
                                        const IngestOptions& options);

// The FNV-1a 64 of the bytes of `path`, 16 hex digits: the checksum
// IngestFile records. NOT_FOUND when it cannot be opened; the read error.
absl::StatusOr<std::string> FileChecksum(const std::string& path);

// The months `db` still holds from an ingest of a file with `checksum`
// (the same bytes, under any path), oldest first; empty when none. A file
// whose months are all replaced by later ingests is no longer held.
absl::StatusOr<std::vector<MonthInfo>> MonthsIngestedFrom(
    RecordsDb* db, absl::string_view checksum);

// A few lines: rows read = stored + refused, per month, the reported errors.
std::string FormatIngestReport(const IngestReport& report);

}  // namespace recsys

#endif  // RECSYS_RECORDS_INGEST_H_
