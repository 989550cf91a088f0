// The records database: every row of the raw monthly files, kept as read, in
// one embedded SQLite file (records.db), so that any month can be re-cleaned,
// trained on, or turned into the truth of what customers added.
//
// Tables (the schema is created on first open; `sqlite3 records.db` reads it):
//   files(file_id, path, checksum, bytes, layout, header, ingested_at,
//         rows_read, rows_stored, rows_refused)
//       one row per ingest of a file; checksum is the FNV-1a 64 of its bytes
//       (16 hex digits), layout "train" (with the 24 products) or "test".
//   months(month, file_id, layout, rows, customers, products_added,
//          rows_refused, rows_with_field_errors, ingested_at)
//       one row per month held ("YYYY-MM"): which ingest it came from, its
//       stored rows (one per customer), the products its customers added
//       versus the month before (NULL when that month is not held with
//       products), and the rows refused.
//   records(id, month, customer, owned, <the raw columns>, extra)
//       (index records_by_customer on (customer, month), schema 2 on: a
//       customer's newest row is one index seek, ReadNewestRecord: 0.007 ms
//       vs 13.6 ms scanning 284k rows; it costs about 17% of ingest speed
//       and 13% of file size, measured on 20,000 synthetic customers)
//       one row per stored file row. id = month index * 2^32 + line (the
//       1-based line of the file where the row starts), so a month's rows lie
//       together in file order; customer is the parsed ncodpers, owned the
//       parsed products (bit i = kProducts[i]; NULL for a test-layout
//       month); then every column of common/raw_columns.h under its header
//       name, as TEXT exactly as read (after CSV unquoting; products NULL in a
//       test-layout month), and `extra`: the file's unknown columns as one CSV
//       line (NULL when it has none).
//   row_errors(month, line, column_name, value, reason, refused)
//       every problem of every row (line, header name or "" for the whole
//       row, the text as common/raw_reader.h shows it, what is wrong).
//       refused = 1: the row was not stored (see ingest.h for when);
//       0: the row was stored and the field will be cleaned as missing.
//
// A month is the unit of replacement: ingesting a file replaces every month it
// holds (records, errors, counts) in one transaction (records/ingest.h).
//
// The database uses WAL journaling, so readers (training, `months`, truth)
// keep a consistent snapshot while an ingest writes, and one writer at a time
// (a second ingest waits for the busy timeout, then fails with UNAVAILABLE).
//
//   RECSYS_ASSIGN_OR_RETURN(auto db, RecordsDb::Open("records.db", {}));
//   RECSYS_ASSIGN_OR_RETURN(std::vector<MonthInfo> months, db->ListMonths());
//
// Thread safety: a RecordsDb is used by one thread at a time; open one per
// thread or process.
#ifndef RECSYS_RECORDS_RECORDS_DB_H_
#define RECSYS_RECORDS_RECORDS_DB_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/submission.h"
#include "records/sqlite.h"

namespace recsys {

// The schema version written to PRAGMA user_version.
// 2: the index records_by_customer. Opening a version-1 file read-write
// adds it (an ingest does); read-only opens cannot, see HasCustomerIndex.
inline constexpr int kRecordsSchemaVersion = 2;

struct RecordsDbOptions {
  // Open an existing database without writing (readers). Default false:
  // create it when missing and make sure the schema is there.
  bool read_only = false;
  // How long to wait for another connection's write lock. Default 10 min
  // (an ingest of the full 13.5M-row train file takes about 75 s; BENCHMARKS.md).
  absl::Duration busy_timeout = absl::Minutes(10);
};

// One row of the months table.
struct MonthInfo {
  std::string month;  // "YYYY-MM"
  int month_index = 0;  // Date::MonthIndex of the month
  bool has_products = false;  // ingested from a train-layout file
  int64_t rows = 0;
  int64_t customers = 0;
  std::optional<int64_t> products_added;  // nullopt: the month before is unknown
  int64_t rows_refused = 0;
  int64_t rows_with_field_errors = 0;
  std::string file;         // path of the file it was ingested from
  std::string checksum;     // that file's FNV-1a 64, hex
  std::string ingested_at;  // UTC, "2026-12-02T12:00:00Z"
};

class RecordsDb {
 public:
  // Opens (and, unless read_only, creates) the database at `path`. Errors as
  // SqliteDb::Open; NOT_FOUND for a read-only open of a missing file;
  // FAILED_PRECONDITION when the file was written by a newer schema version.
  static absl::StatusOr<std::unique_ptr<RecordsDb>> Open(
      const std::string& path, const RecordsDbOptions& options);

  // The months held, oldest first.
  absl::StatusOr<std::vector<MonthInfo>> ListMonths();

  // The truth of month `month` ("YYYY-MM"), as common/submission.h scores it:
  // for each customer of that month, in file order, the products owned and
  // the products added (owned now and not in the month before; all owned
  // ones for a customer absent then). NOT_FOUND when the month is not held;
  // FAILED_PRECONDITION when it or the month before has no products (not
  // ingested, or from a test-layout file).
  absl::StatusOr<std::vector<TruthRecord>> Truth(absl::string_view month);

  // Whether the index records_by_customer exists (schema 2 on): without it
  // ReadNewestRecord (records_reader.h) scans the whole table.
  absl::StatusOr<bool> HasCustomerIndex();

  SqliteDb* sqlite() { return db_.get(); }
  const std::string& path() const { return db_->path(); }

 private:
  explicit RecordsDb(std::unique_ptr<SqliteDb> db) : db_(std::move(db)) {}

  std::unique_ptr<SqliteDb> db_;
};

// The `records.id` of line `line` of month `month_index` (line 0: before
// the month's first row), and the line of an id.
inline int64_t RecordId(int month_index, int64_t line) {
  return (static_cast<int64_t>(month_index) << 32) + line;
}
inline int64_t RecordLine(int64_t id) { return id & 0xffffffffll; }

// Whether month `month_index` is held with products (true), from a
// test-layout file (false), or not held (nullopt).
absl::StatusOr<std::optional<bool>> MonthHasProducts(SqliteDb* db,
                                                     int month_index);

// Calls `visit(customer, owned, line)` for each stored row of month
// `month_index`, in file order (owned is 0 in a test-layout month). Errors
// as SqliteStatement::Step.
absl::Status ForEachRowOfMonth(
    SqliteDb* db, int month_index,
    const std::function<void(int64_t customer, ProductMask owned,
                             int64_t line)>& visit);

}  // namespace recsys

#endif  // RECSYS_RECORDS_RECORDS_DB_H_
