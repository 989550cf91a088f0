// The one wrapper of the SQLite C API (Debian libsqlite3-dev 3.40): an RAII
// connection, RAII prepared statements, and every SQLite result code turned
// into an absl::Status in one helper (SqliteStatus).
//
//   RECSYS_ASSIGN_OR_RETURN(auto db, SqliteDb::Open("records.db", {}));
//   RECSYS_RETURN_IF_ERROR(db->Exec("CREATE TABLE IF NOT EXISTS t(x)"));
//   RECSYS_ASSIGN_OR_RETURN(SqliteStatement insert,
//                           db->Prepare("INSERT INTO t VALUES (?1)"));
//   insert.BindInt64(1, 42);
//   RECSYS_RETURN_IF_ERROR(insert.Run());
//
//   RECSYS_ASSIGN_OR_RETURN(SqliteStatement query, db->Prepare("SELECT x FROM t"));
//   while (true) {
//     RECSYS_ASSIGN_OR_RETURN(bool row, query.Step());
//     if (!row) break;
//     Use(query.ColumnInt64(0));
//   }
//
// Error codes: SQLITE_BUSY / SQLITE_LOCKED (another connection holds the
// write lock longer than the busy timeout) -> UNAVAILABLE; SQLITE_CANTOPEN ->
// NOT_FOUND; SQLITE_PERM / SQLITE_READONLY / SQLITE_AUTH -> PERMISSION_DENIED;
// SQLITE_CORRUPT / SQLITE_NOTADB -> DATA_LOSS; SQLITE_FULL ->
// RESOURCE_EXHAUSTED; SQLITE_CONSTRAINT -> FAILED_PRECONDITION; SQLITE_IOERR
// -> DATA_LOSS; anything else -> INTERNAL. Messages name the database file,
// what was being done and SQLite's own text.
//
// Thread safety: a connection and its statements are used by one thread at a
// time (SQLite's "multi-thread" mode); separate connections (in one process
// or several) may work on the same file at once: SQLite's file locks and WAL
// keep them consistent.
#ifndef RECSYS_RECORDS_SQLITE_H_
#define RECSYS_RECORDS_SQLITE_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

struct sqlite3;
struct sqlite3_stmt;

namespace recsys {

// The status for SQLite result code `rc` (not SQLITE_OK, SQLITE_ROW or
// SQLITE_DONE): "<file>: <what>: <SQLite's message> (<code name>)", with the
// code mapped as the file comment says. `db` may be null (then only the code's
// text is used).
absl::Status SqliteStatus(sqlite3* db, int rc, absl::string_view file,
                          absl::string_view what);

// A prepared statement. Movable, not copyable; finalized on destruction.
// Borrows its connection, which must outlive it.
class SqliteStatement {
 public:
  SqliteStatement() = default;
  SqliteStatement(SqliteStatement&& other) noexcept;
  SqliteStatement& operator=(SqliteStatement&& other) noexcept;
  SqliteStatement(const SqliteStatement&) = delete;
  SqliteStatement& operator=(const SqliteStatement&) = delete;
  ~SqliteStatement();

  // Parameters are 1-based. Text is copied by SQLite only when `copy` is
  // true; otherwise it must stay valid until the next Step()/Run() returns.
  void BindInt64(int index, int64_t value);
  void BindDouble(int index, double value);
  void BindText(int index, absl::string_view text, bool copy = true);
  void BindNull(int index);

  // Runs to the next row: true with a row to read, false when done. Errors
  // as SqliteStatus (e.g. UNAVAILABLE when the database stays locked).
  absl::StatusOr<bool> Step();
  // Steps until done, ignoring rows, then resets (bindings are kept).
  absl::Status Run();
  // Makes the statement ready to run again; bindings are kept.
  void Reset();

  // Columns of the current row (0-based). ColumnText's view is valid until
  // the next Step(), Reset() or destruction; NULL reads as "".
  int64_t ColumnInt64(int column) const;
  double ColumnDouble(int column) const;
  absl::string_view ColumnText(int column) const;
  bool ColumnIsNull(int column) const;
  // Columns of the statement's result.
  int ColumnCount() const;

 private:
  friend class SqliteDb;
  SqliteStatement(sqlite3_stmt* stmt, const std::string* file)
      : stmt_(stmt), file_(file) {}

  sqlite3_stmt* stmt_ = nullptr;
  const std::string* file_ = nullptr;  // the connection's file name
};

struct SqliteOpenOptions {
  // Open without write access (the file must exist). Default false: open
  // read-write, creating the file when missing.
  bool read_only = false;
  // How long a statement waits for another connection's lock before failing
  // with UNAVAILABLE. Default 60 s.
  absl::Duration busy_timeout = absl::Seconds(60);
};

// An open database connection. Not copyable; closed on destruction (an open
// transaction is rolled back then).
class SqliteDb {
 public:
  // Opens `path`. NOT_FOUND when it cannot be opened (read-only and missing,
  // or its folder does not exist), DATA_LOSS when it is not a database.
  static absl::StatusOr<std::unique_ptr<SqliteDb>> Open(
      const std::string& path, const SqliteOpenOptions& options);
  ~SqliteDb();
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;

  // Runs one or more statements without results.
  absl::Status Exec(absl::string_view sql);
  // Compiles one statement.
  absl::StatusOr<SqliteStatement> Prepare(absl::string_view sql);
  // Runs a query whose first row's first column is an integer (0 when the
  // query gives no row).
  absl::StatusOr<int64_t> QueryInt64(absl::string_view sql);

  const std::string& path() const { return path_; }
  sqlite3* raw() const { return db_; }

 private:
  SqliteDb(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}

  sqlite3* db_;
  const std::string path_;
};

// Runs a transaction: Begin() starts it, Commit() ends it; destroying an
// uncommitted one rolls it back. Not thread-safe.
class SqliteTransaction {
 public:
  // "BEGIN IMMEDIATE" when `write` (takes the write lock now, so a second
  // writer waits here, not half-way), else "BEGIN" (a read snapshot from the
  // first read on). REQUIRES: `db` outlives the transaction.
  static absl::StatusOr<SqliteTransaction> Begin(SqliteDb* db, bool write);
  SqliteTransaction(SqliteTransaction&& other) noexcept
      : db_(other.db_) {
    other.db_ = nullptr;
  }
  SqliteTransaction& operator=(SqliteTransaction&&) = delete;
  ~SqliteTransaction();

  absl::Status Commit();

 private:
  explicit SqliteTransaction(SqliteDb* db) : db_(db) {}
  SqliteDb* db_;  // null once committed or moved from
};

}  // namespace recsys

#endif  // RECSYS_RECORDS_SQLITE_H_
