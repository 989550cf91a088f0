#include "records/records_reader.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/csv_tokenizer.h"
#include "common/date.h"
#include "common/raw_columns.h"
#include "common/raw_row_parser.h"
#include "common/status_macros.h"

namespace recsys {
namespace {

// Yields the rows of ids [first, end) through a RawRowParser made for the
// raw columns in id order.
class DbRawReader final : public RawReader {
 public:
  static absl::StatusOr<std::unique_ptr<DbRawReader>> Create(SqliteDb* db,
                                                             int64_t first,
                                                             int64_t end) {
    std::vector<std::string> names;
    std::string columns;
    for (int id = 0; id < kNumRawColumns; ++id) {
      names.emplace_back(RawColumnName(id));
      absl::StrAppend(&columns, ", \"", RawColumnName(id), "\"");
    }
    std::vector<absl::string_view> header(names.begin(), names.end());
    RECSYS_ASSIGN_OR_RETURN(RawRowParser parser,
                            RawRowParser::Create(header, db->path()));
    RECSYS_ASSIGN_OR_RETURN(
        SqliteStatement query,
        db->Prepare(absl::StrCat("SELECT id", columns,
                                 " FROM records WHERE id >= ?1 AND id < ?2 "
                                 "ORDER BY id")));
    query.BindInt64(1, first);
    query.BindInt64(2, end);
    return std::unique_ptr<DbRawReader>(
        new DbRawReader(std::move(parser), std::move(query)));
  }

  bool Next(RawRecord* record, std::vector<RowError>* errors) override {
    if (!status_.ok()) return false;
    absl::StatusOr<bool> row = query_.Step();
    if (!row.ok()) {
      status_ = row.status();
      return false;
    }
    if (!*row) return false;
    const int64_t id = query_.ColumnInt64(0);
    csv_.line = RecordLine(id);
    for (int c = 0; c < kNumRawColumns; ++c) {
      csv_.fields[c] = query_.ColumnText(c + 1);
    }
    parser_.Parse(csv_, record, errors);
    ++rows_;
    return true;
  }

  absl::Status status() const override { return status_; }
  FileLayout layout() const override { return parser_.layout(); }
  const std::vector<std::string>& header() const override {
    return parser_.header();
  }
  // Rows, not bytes: there is no file.
  int64_t bytes_read() const override { return rows_; }

 private:
  DbRawReader(RawRowParser parser, SqliteStatement query)
      : parser_(std::move(parser)), query_(std::move(query)) {
    csv_.fields.resize(kNumRawColumns);
  }

  RawRowParser parser_;
  SqliteStatement query_;
  CsvRecord csv_;  // fields point into the current row of query_
  absl::Status status_;
  int64_t rows_ = 0;
};

}  // namespace

RecordsSnapshot::RecordsSnapshot(std::unique_ptr<RecordsDb> db)
    : db_(std::move(db)) {}

RecordsSnapshot::~RecordsSnapshot() = default;

absl::StatusOr<std::unique_ptr<RecordsSnapshot>> RecordsSnapshot::Open(
    const std::string& db_path, absl::string_view through) {
  int through_index = -1;
  if (!through.empty()) {
    RECSYS_ASSIGN_OR_RETURN(through_index, ParseMonthIndex(through));
  }
  RECSYS_ASSIGN_OR_RETURN(std::unique_ptr<RecordsDb> db,
                          RecordsDb::Open(db_path, {.read_only = true}));
  auto snapshot =
      std::unique_ptr<RecordsSnapshot>(new RecordsSnapshot(std::move(db)));
  RECSYS_ASSIGN_OR_RETURN(
      SqliteTransaction transaction,
      SqliteTransaction::Begin(snapshot->db_->sqlite(), /*write=*/false));
  snapshot->snapshot_ =
      std::make_unique<SqliteTransaction>(std::move(transaction));
  // The first read fixes the snapshot.
  RECSYS_ASSIGN_OR_RETURN(std::vector<MonthInfo> all,
                          snapshot->db_->ListMonths());
  if (through_index < 0) {
    for (const MonthInfo& m : all) {
      if (m.has_products) through_index = m.month_index;
    }
    if (through_index < 0) {
      return absl::NotFoundError(absl::StrCat(
          db_path, ": holds no month with products (ingest a train-layout "
                   "file first: recsys-data ingest --db ", db_path, " FILE)"));
    }
  }
  for (const MonthInfo& m : all) {
    if (m.month_index > through_index) break;
    if (!m.has_products) {
      return absl::FailedPreconditionError(absl::StrCat(
          db_path, ": month ", m.month,
          " was ingested from a test-layout file (no products), so it cannot "
          "be trained on; ingest its train-layout file, or train through an "
          "earlier month"));
    }
    snapshot->months_.push_back(m);
  }
  if (snapshot->months_.empty()) {
    return absl::NotFoundError(absl::StrCat(db_path, ": holds no month up to ",
                                            MonthName(through_index)));
  }
  snapshot->name_ =
      absl::StrCat(db_path, " through ", snapshot->months_.back().month);
  return snapshot;
}

absl::StatusOr<std::unique_ptr<RawReader>> RecordsSnapshot::NewReader() {
  RECSYS_ASSIGN_OR_RETURN(
      std::unique_ptr<DbRawReader> reader,
      DbRawReader::Create(db_->sqlite(), RecordId(months_.front().month_index, 0),
                          RecordId(months_.back().month_index + 1, 0)));
  return std::unique_ptr<RawReader>(std::move(reader));
}

absl::StatusOr<std::optional<StoredRecord>> ReadNewestRecord(
    RecordsDb* db, int64_t ncodpers) {
  RECSYS_ASSIGN_OR_RETURN(
      SqliteStatement query,
      db->sqlite()->Prepare("SELECT id, month FROM records WHERE customer = ?1 "
                            "ORDER BY month DESC LIMIT 1"));
  query.BindInt64(1, ncodpers);
  RECSYS_ASSIGN_OR_RETURN(bool found, query.Step());
  if (!found) return std::nullopt;
  const int64_t id = query.ColumnInt64(0);
  StoredRecord stored;
  stored.month = std::string(query.ColumnText(1));
  RECSYS_ASSIGN_OR_RETURN(std::unique_ptr<DbRawReader> reader,
                          DbRawReader::Create(db->sqlite(), id, id + 1));
  if (!reader->Next(&stored.record, &stored.errors)) {
    RECSYS_RETURN_IF_ERROR(reader->status());
    return std::nullopt;  // deleted in between (an ingest replaced the month)
  }
  return stored;
}

}  // namespace recsys
