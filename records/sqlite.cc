#include "records/sqlite.h"

#include <sqlite3.h>

#include <utility>

#include "absl/strings/str_cat.h"

namespace recsys {

absl::Status SqliteStatus(sqlite3* db, int rc, absl::string_view file,
                          absl::string_view what) {
  const std::string message = absl::StrCat(
      file, ": ", what, ": ",
      db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc), " (",
      sqlite3_errstr(rc), ")");
  switch (rc & 0xff) {  // the primary code of an extended one
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return absl::UnavailableError(message);
    case SQLITE_CANTOPEN:
      return absl::NotFoundError(message);
    case SQLITE_PERM:
    case SQLITE_READONLY:
    case SQLITE_AUTH:
      return absl::PermissionDeniedError(message);
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_IOERR:
      return absl::DataLossError(message);
    case SQLITE_FULL:
      return absl::ResourceExhaustedError(message);
    case SQLITE_CONSTRAINT:
      return absl::FailedPreconditionError(message);
    default:
      return absl::InternalError(message);
  }
}

SqliteStatement::SqliteStatement(SqliteStatement&& other) noexcept
    : stmt_(std::exchange(other.stmt_, nullptr)), file_(other.file_) {}

SqliteStatement& SqliteStatement::operator=(SqliteStatement&& other) noexcept {
  if (this != &other) {
    if (stmt_ != nullptr) sqlite3_finalize(stmt_);
    stmt_ = std::exchange(other.stmt_, nullptr);
    file_ = other.file_;
  }
  return *this;
}

SqliteStatement::~SqliteStatement() {
  if (stmt_ != nullptr) sqlite3_finalize(stmt_);
}

void SqliteStatement::BindInt64(int index, int64_t value) {
  sqlite3_bind_int64(stmt_, index, value);
}
void SqliteStatement::BindDouble(int index, double value) {
  sqlite3_bind_double(stmt_, index, value);
}
void SqliteStatement::BindText(int index, absl::string_view text, bool copy) {
  // A non-null pointer even for "" so that the value is '' and not NULL.
  sqlite3_bind_text(stmt_, index, text.empty() ? "" : text.data(),
                    static_cast<int>(text.size()),
                    copy ? SQLITE_TRANSIENT : SQLITE_STATIC);
}
void SqliteStatement::BindNull(int index) { sqlite3_bind_null(stmt_, index); }

absl::StatusOr<bool> SqliteStatement::Step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  sqlite3* db = sqlite3_db_handle(stmt_);
  absl::Status status = SqliteStatus(
      db, rc, *file_, absl::StrCat("running \"", sqlite3_sql(stmt_), "\""));
  sqlite3_reset(stmt_);
  return status;
}

absl::Status SqliteStatement::Run() {
  while (true) {
    absl::StatusOr<bool> row = Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
  }
  Reset();
  return absl::OkStatus();
}

void SqliteStatement::Reset() { sqlite3_reset(stmt_); }

int64_t SqliteStatement::ColumnInt64(int column) const {
  return sqlite3_column_int64(stmt_, column);
}
double SqliteStatement::ColumnDouble(int column) const {
  return sqlite3_column_double(stmt_, column);
}
absl::string_view SqliteStatement::ColumnText(int column) const {
  const unsigned char* text = sqlite3_column_text(stmt_, column);
  if (text == nullptr) return {};
  return absl::string_view(reinterpret_cast<const char*>(text),
                           static_cast<size_t>(sqlite3_column_bytes(stmt_, column)));
}
int SqliteStatement::ColumnCount() const {
  return sqlite3_column_count(stmt_);
}
bool SqliteStatement::ColumnIsNull(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

absl::StatusOr<std::unique_ptr<SqliteDb>> SqliteDb::Open(
    const std::string& path, const SqliteOpenOptions& options) {
  sqlite3* db = nullptr;
  const int flags = options.read_only
                        ? SQLITE_OPEN_READONLY
                        : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  const int rc = sqlite3_open_v2(path.c_str(), &db, flags | SQLITE_OPEN_NOMUTEX,
                                 nullptr);
  if (rc != SQLITE_OK) {
    absl::Status status = SqliteStatus(db, rc, path, "cannot open the database");
    sqlite3_close(db);
    return status;
  }
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(
      db, static_cast<int>(absl::ToInt64Milliseconds(options.busy_timeout)));
  auto connection = std::unique_ptr<SqliteDb>(new SqliteDb(db, path));
  // Reading the schema finds a file that is not a database now, not later.
  absl::StatusOr<int64_t> check =
      connection->QueryInt64("SELECT count(*) FROM sqlite_schema");
  if (!check.ok()) return check.status();
  return connection;
}

SqliteDb::~SqliteDb() { sqlite3_close_v2(db_); }

absl::Status SqliteDb::Exec(absl::string_view sql) {
  const std::string text(sql);
  char* error = nullptr;
  const int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &error);
  sqlite3_free(error);  // sqlite3_errmsg says the same
  if (rc != SQLITE_OK) {
    return SqliteStatus(db_, rc, path_, absl::StrCat("running \"", sql, "\""));
  }
  return absl::OkStatus();
}

absl::StatusOr<SqliteStatement> SqliteDb::Prepare(absl::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  const int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()),
                                    &stmt, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(stmt);
    return SqliteStatus(db_, rc, path_,
                        absl::StrCat("preparing \"", sql, "\""));
  }
  return SqliteStatement(stmt, &path_);
}

absl::StatusOr<int64_t> SqliteDb::QueryInt64(absl::string_view sql) {
  absl::StatusOr<SqliteStatement> query = Prepare(sql);
  if (!query.ok()) return query.status();
  absl::StatusOr<bool> row = query->Step();
  if (!row.ok()) return row.status();
  return *row ? query->ColumnInt64(0) : 0;
}

absl::StatusOr<SqliteTransaction> SqliteTransaction::Begin(SqliteDb* db,
                                                           bool write) {
  absl::Status begun = db->Exec(write ? "BEGIN IMMEDIATE" : "BEGIN");
  if (!begun.ok()) return begun;
  return SqliteTransaction(db);
}

SqliteTransaction::~SqliteTransaction() {
  if (db_ != nullptr) db_->Exec("ROLLBACK").IgnoreError();
}

absl::Status SqliteTransaction::Commit() {
  SqliteDb* db = std::exchange(db_, nullptr);
  absl::Status committed = db->Exec("COMMIT");
  if (!committed.ok()) db->Exec("ROLLBACK").IgnoreError();
  return committed;
}

}  // namespace recsys
