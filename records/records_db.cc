#include "records/records_db.h"

#include "absl/container/flat_hash_map.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/date.h"
#include "common/raw_columns.h"
#include "common/status_macros.h"

namespace recsys {
namespace {

constexpr absl::string_view kFixedSchema = R"sql(
CREATE TABLE IF NOT EXISTS files(
  file_id INTEGER PRIMARY KEY,
  path TEXT NOT NULL,
  checksum TEXT NOT NULL,
  bytes INTEGER NOT NULL,
  layout TEXT NOT NULL,
  header TEXT NOT NULL,
  ingested_at TEXT NOT NULL,
  rows_read INTEGER NOT NULL DEFAULT 0,
  rows_stored INTEGER NOT NULL DEFAULT 0,
  rows_refused INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS months(
  month TEXT PRIMARY KEY,
  month_index INTEGER NOT NULL,
  file_id INTEGER NOT NULL REFERENCES files(file_id),
  layout TEXT NOT NULL,
  rows INTEGER NOT NULL,
  customers INTEGER NOT NULL,
  products_added INTEGER,
  rows_refused INTEGER NOT NULL,
  rows_with_field_errors INTEGER NOT NULL,
  ingested_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS row_errors(
  month TEXT NOT NULL,
  line INTEGER NOT NULL,
  column_name TEXT NOT NULL,
  value TEXT NOT NULL,
  reason TEXT NOT NULL,
  refused INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS row_errors_by_month ON row_errors(month, line);
)sql";

// CREATE TABLE records(...) with every raw column of common/raw_columns.h.
std::string RecordsTableSql() {
  std::string sql =
      "CREATE TABLE IF NOT EXISTS records(id INTEGER PRIMARY KEY, "
      "month TEXT NOT NULL, customer INTEGER NOT NULL, owned INTEGER";
  for (int id = 0; id < kNumRawColumns; ++id) {
    absl::StrAppend(&sql, ", \"", RawColumnName(id), "\" TEXT");
  }
  absl::StrAppend(&sql, ", extra TEXT)");
  return sql;
}

// The raw columns of common/raw_columns.h that the records table lacks (all
// of them when there is no table yet).
absl::StatusOr<std::vector<int>> MissingRawColumns(SqliteDb* db) {
  RECSYS_ASSIGN_OR_RETURN(
      SqliteStatement has_column,
      db->Prepare("SELECT count(*) FROM pragma_table_info('records') WHERE "
                  "name = ?1"));
  std::vector<int> missing;
  for (int id = 0; id < kNumRawColumns; ++id) {
    has_column.BindText(1, RawColumnName(id));
    RECSYS_ASSIGN_OR_RETURN(bool row, has_column.Step());
    if (!row || has_column.ColumnInt64(0) == 0) missing.push_back(id);
    has_column.Reset();
  }
  return missing;
}

// Creates what is missing: the tables, and (for a database made before a raw
// column was added to common/raw_columns.h) that column, NULL in old rows.
// Takes the write lock only when something is missing, so that opening a
// complete database does not wait for a running ingest.
absl::Status CreateSchema(SqliteDb* db) {
  RECSYS_ASSIGN_OR_RETURN(int64_t version,
                          db->QueryInt64("PRAGMA user_version"));
  if (version > kRecordsSchemaVersion) {
    return absl::FailedPreconditionError(absl::StrCat(
        db->path(), ": written by a newer version of this program (schema ",
        version, ", this one knows ", kRecordsSchemaVersion, ")"));
  }
  RECSYS_ASSIGN_OR_RETURN(std::vector<int> missing, MissingRawColumns(db));
  if (version == kRecordsSchemaVersion && missing.empty()) {
    return absl::OkStatus();
  }
  RECSYS_ASSIGN_OR_RETURN(SqliteTransaction transaction,
                          SqliteTransaction::Begin(db, /*write=*/true));
  RECSYS_RETURN_IF_ERROR(db->Exec(kFixedSchema));
  RECSYS_RETURN_IF_ERROR(db->Exec(RecordsTableSql()));
  // Schema 2: a customer's rows by month (the server's GetCustomer). Built
  // once here for an older file (about as long as reading the table).
  RECSYS_RETURN_IF_ERROR(db->Exec(
      "CREATE INDEX IF NOT EXISTS records_by_customer ON records(customer, "
      "month)"));
  // Again inside the transaction: another process may have added some.
  RECSYS_ASSIGN_OR_RETURN(missing, MissingRawColumns(db));
  for (int id : missing) {
    RECSYS_RETURN_IF_ERROR(db->Exec(absl::StrCat(
        "ALTER TABLE records ADD COLUMN \"", RawColumnName(id), "\" TEXT")));
  }
  RECSYS_RETURN_IF_ERROR(
      db->Exec(absl::StrCat("PRAGMA user_version = ", kRecordsSchemaVersion)));
  return transaction.Commit();
}

// Customer -> products owned in month `month_index`.
absl::StatusOr<absl::flat_hash_map<int64_t, ProductMask>> LoadOwned(
    SqliteDb* db, int month_index) {
  absl::flat_hash_map<int64_t, ProductMask> owned;
  RECSYS_RETURN_IF_ERROR(ForEachRowOfMonth(
      db, month_index, [&](int64_t customer, ProductMask products, int64_t) {
        owned.emplace(customer, products);
      }));
  return owned;
}

}  // namespace

absl::StatusOr<std::optional<bool>> MonthHasProducts(SqliteDb* db,
                                                     int month_index) {
  RECSYS_ASSIGN_OR_RETURN(
      SqliteStatement query,
      db->Prepare("SELECT layout FROM months WHERE month_index = ?1"));
  query.BindInt64(1, month_index);
  RECSYS_ASSIGN_OR_RETURN(bool row, query.Step());
  if (!row) return std::nullopt;
  return query.ColumnText(0) == "train";
}

absl::Status ForEachRowOfMonth(
    SqliteDb* db, int month_index,
    const std::function<void(int64_t customer, ProductMask owned,
                             int64_t line)>& visit) {
  RECSYS_ASSIGN_OR_RETURN(
      SqliteStatement query,
      db->Prepare("SELECT customer, owned, id FROM records WHERE id >= ?1 AND "
                  "id < ?2 ORDER BY id"));
  query.BindInt64(1, RecordId(month_index, 0));
  query.BindInt64(2, RecordId(month_index + 1, 0));
  while (true) {
    RECSYS_ASSIGN_OR_RETURN(bool row, query.Step());
    if (!row) return absl::OkStatus();
    visit(query.ColumnInt64(0), static_cast<ProductMask>(query.ColumnInt64(1)),
          RecordLine(query.ColumnInt64(2)));
  }
}

absl::StatusOr<std::unique_ptr<RecordsDb>> RecordsDb::Open(
    const std::string& path, const RecordsDbOptions& options) {
  RECSYS_ASSIGN_OR_RETURN(
      std::unique_ptr<SqliteDb> db,
      SqliteDb::Open(path, {.read_only = options.read_only,
                            .busy_timeout = options.busy_timeout}));
  if (!options.read_only) {
    // WAL: readers keep their snapshot while one writer works; the mode is
    // stored in the file, so every later connection uses it.
    // 16 KiB pages (only a new, empty file takes it): a records row is
    // about 200 bytes, and larger pages mean fewer B-tree pages to write.
    RECSYS_RETURN_IF_ERROR(db->Exec("PRAGMA page_size=16384"));
    RECSYS_RETURN_IF_ERROR(db->Exec("PRAGMA journal_mode=WAL"));
    RECSYS_RETURN_IF_ERROR(CreateSchema(db.get()));
  } else {
    RECSYS_ASSIGN_OR_RETURN(
        int64_t tables,
        db->QueryInt64("SELECT count(*) FROM sqlite_schema WHERE type = "
                       "'table' AND name IN ('files', 'months', 'records', "
                       "'row_errors')"));
    if (tables != 4) {
      return absl::FailedPreconditionError(absl::StrCat(
          path, ": not a records database (ingest a file into it first: "
                "recsys-data ingest --db ", path, " FILE)"));
    }
  }
  return std::unique_ptr<RecordsDb>(new RecordsDb(std::move(db)));
}

absl::StatusOr<bool> RecordsDb::HasCustomerIndex() {
  RECSYS_ASSIGN_OR_RETURN(
      int64_t found,
      db_->QueryInt64("SELECT count(*) FROM sqlite_schema WHERE type = "
                      "'index' AND name = 'records_by_customer'"));
  return found == 1;
}

absl::StatusOr<std::vector<MonthInfo>> RecordsDb::ListMonths() {
  RECSYS_ASSIGN_OR_RETURN(
      SqliteStatement query,
      db_->Prepare(
          "SELECT m.month, m.month_index, m.layout, m.rows, m.customers, "
          "m.products_added, m.rows_refused, m.rows_with_field_errors, "
          "f.path, f.checksum, m.ingested_at FROM months m JOIN files f "
          "USING (file_id) ORDER BY m.month_index"));
  std::vector<MonthInfo> months;
  while (true) {
    RECSYS_ASSIGN_OR_RETURN(bool row, query.Step());
    if (!row) break;
    MonthInfo& m = months.emplace_back();
    m.month = std::string(query.ColumnText(0));
    m.month_index = static_cast<int>(query.ColumnInt64(1));
    m.has_products = query.ColumnText(2) == "train";
    m.rows = query.ColumnInt64(3);
    m.customers = query.ColumnInt64(4);
    if (!query.ColumnIsNull(5)) m.products_added = query.ColumnInt64(5);
    m.rows_refused = query.ColumnInt64(6);
    m.rows_with_field_errors = query.ColumnInt64(7);
    m.file = std::string(query.ColumnText(8));
    m.checksum = std::string(query.ColumnText(9));
    m.ingested_at = std::string(query.ColumnText(10));
  }
  return months;
}

absl::StatusOr<std::vector<TruthRecord>> RecordsDb::Truth(
    absl::string_view month) {
  RECSYS_ASSIGN_OR_RETURN(const int m, ParseMonthIndex(month));
  // One snapshot for both months, whatever an ingest commits meanwhile.
  RECSYS_ASSIGN_OR_RETURN(SqliteTransaction snapshot,
                          SqliteTransaction::Begin(db_.get(), /*write=*/false));
  for (int needed : {m, m - 1}) {
    RECSYS_ASSIGN_OR_RETURN(std::optional<bool> has_products,
                            MonthHasProducts(db_.get(), needed));
    const std::string name = MonthName(needed);
    if (!has_products.has_value() && needed == m) {
      return absl::NotFoundError(absl::StrCat(
          db_->path(), ": month ", name,
          " is not in the database (ingest its train-layout file first)"));
    }
    if (!has_products.value_or(false)) {
      return absl::FailedPreconditionError(absl::StrCat(
          db_->path(), ": the truth of ", MonthName(m),
          " needs the products of ", name, ", which ",
          has_products.has_value()
              ? "was ingested from a test-layout file (no products)"
              : "is not in the database",
          "; ingest its train-layout file first"));
    }
  }
  RECSYS_ASSIGN_OR_RETURN(auto before, LoadOwned(db_.get(), m - 1));
  std::vector<TruthRecord> truth;
  RECSYS_RETURN_IF_ERROR(ForEachRowOfMonth(
      db_.get(), m, [&](int64_t customer, ProductMask owned, int64_t line) {
        TruthRecord& t = truth.emplace_back();
        t.ncodpers = customer;
        t.owned = owned;
        t.line = line;
        auto it = before.find(customer);
        t.added = owned & ~(it == before.end() ? ProductMask{0} : it->second);
      }));
  return truth;
}

}  // namespace recsys
