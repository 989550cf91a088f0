#include "records/ingest.h"

#include <filesystem>
#include <limits>
#include <optional>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/csv_tokenizer.h"
#include "common/date.h"
#include "common/fnv.h"
#include "common/raw_columns.h"
#include "common/raw_row_parser.h"
#include "common/status_macros.h"

namespace recsys {
namespace {

// Bind parameters of the records insert: id, month, customer, owned, then
// the raw columns by id, then extra.
constexpr int kIdParam = 1;
constexpr int kMonthParam = 2;
constexpr int kCustomerParam = 3;
constexpr int kOwnedParam = 4;
constexpr int kFirstColumnParam = 5;
constexpr int kExtraParam = kFirstColumnParam + kNumRawColumns;

// Passes bytes through while hashing and counting them.
class HashingByteSource final : public ByteSource {
 public:
  HashingByteSource(std::unique_ptr<ByteSource> source, uint64_t* hash,
                    int64_t* bytes)
      : source_(std::move(source)), hash_(hash), bytes_(bytes) {}
  absl::StatusOr<size_t> Read(char* dst, size_t n) override {
    RECSYS_ASSIGN_OR_RETURN(size_t read, source_->Read(dst, n));
    *hash_ = Fnv1a64(absl::string_view(dst, read), *hash_);
    *bytes_ += static_cast<int64_t>(read);
    return read;
  }

 private:
  std::unique_ptr<ByteSource> source_;
  uint64_t* hash_;
  int64_t* bytes_;
};

// Appends `field` to a CSV line, quoted when it must be.
void AppendCsvField(absl::string_view field, std::string* line) {
  if (!line->empty()) line->push_back(',');
  if (field.find_first_of(",\"\r\n") == absl::string_view::npos) {
    line->append(field.data(), field.size());
    return;
  }
  line->push_back('"');
  for (char c : field) {
    if (c == '"') line->push_back('"');
    line->push_back(c);
  }
  line->push_back('"');
}

std::string UtcNow() {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::Now(), absl::UTCTimeZone());
}

struct CustomerRow {
  ProductMask owned = 0;
  int64_t line = 0;
};

// One ingest: the statements, the month being read and the counts.
class Ingester {
 public:
  Ingester(RecordsDb* db, const IngestOptions& options, IngestReport* report)
      : sql_(db->sqlite()), options_(options), report_(report) {}

  absl::Status Run(const std::string& path) {
    RECSYS_ASSIGN_OR_RETURN(std::unique_ptr<FileByteSource> file,
                            FileByteSource::Open(path));
    uint64_t hash = kFnv1a64Offset;
    CsvTokenizer tokenizer(std::make_unique<HashingByteSource>(
        std::move(file), &hash, &report_->bytes));
    CsvRecord csv;
    if (!tokenizer.Next(&csv)) {
      RECSYS_RETURN_IF_ERROR(tokenizer.status());
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": empty file, no header"));
    }
    RECSYS_ASSIGN_OR_RETURN(RawRowParser parser,
                            RawRowParser::Create(csv.fields, path));
    report_->layout = parser.layout();
    has_products_ = parser.layout() == FileLayout::kTrain;
    RECSYS_RETURN_IF_ERROR(Prepare(path, csv.text, parser));

    RawRecord record;
    std::vector<RowError> errors;
    while (tokenizer.Next(&csv)) {
      parser.Parse(csv, &record, &errors);
      RECSYS_RETURN_IF_ERROR(AddRow(csv, record, &errors));
      if (options_.progress && report_->rows_read %
                                       options_.progress_every_rows == 0) {
        options_.progress(report_->rows_read);
      }
    }
    RECSYS_RETURN_IF_ERROR(tokenizer.status());
    if (month_ < 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          path, ": no row with a usable fecha_dato and ncodpers (",
          report_->rows_read, " rows read); nothing was ingested"));
    }
    RECSYS_RETURN_IF_ERROR(FinishMonth(std::nullopt));
    report_->checksum = absl::StrFormat("%016x", hash);
    SqliteStatement& f = update_file_;
    f.BindText(1, report_->checksum);
    f.BindInt64(2, report_->bytes);
    f.BindInt64(3, report_->rows_read);
    f.BindInt64(4, report_->rows_stored);
    f.BindInt64(5, report_->rows_refused);
    f.BindInt64(6, file_id_);
    return f.Run();
  }

 private:
  absl::Status Prepare(const std::string& path, absl::string_view header,
                       const RawRowParser& parser) {
    SqliteDb* db = sql_;
    std::string columns, params;
    for (int id = 0; id < kNumRawColumns; ++id) {
      absl::StrAppend(&columns, ", \"", RawColumnName(id), "\"");
      absl::StrAppend(&params, ", ?", kFirstColumnParam + id);
    }
    RECSYS_ASSIGN_OR_RETURN(
        insert_, db->Prepare(absl::StrCat(
                     "INSERT INTO records(id, month, customer, owned", columns,
                     ", extra) VALUES (?1, ?2, ?3, ?4", params, ", ?",
                     kExtraParam, ")")));
    RECSYS_ASSIGN_OR_RETURN(
        insert_error_,
        db->Prepare("INSERT INTO row_errors(month, line, column_name, value, "
                    "reason, refused) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"));
    RECSYS_ASSIGN_OR_RETURN(
        update_file_,
        db->Prepare("UPDATE files SET checksum = ?1, bytes = ?2, rows_read = "
                    "?3, rows_stored = ?4, rows_refused = ?5 WHERE file_id = "
                    "?6"));
    RECSYS_ASSIGN_OR_RETURN(
        insert_month_,
        db->Prepare("INSERT OR REPLACE INTO months(month, month_index, "
                    "file_id, layout, rows, customers, products_added, "
                    "rows_refused, rows_with_field_errors, ingested_at) "
                    "VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6, ?7, ?8, ?9)"));

    // Where each header position goes: a raw column's parameter or extra.
    for (const std::string& name : parser.header()) {
      std::optional<int> id = FindRawColumn(name);
      param_of_position_.push_back(id ? kFirstColumnParam + *id : -1);
      if (!id) has_extra_ = true;
    }
    if (!has_products_) {
      insert_.BindNull(kOwnedParam);
      for (int id = kFirstProductColumn; id < kNumRawColumns; ++id)
        insert_.BindNull(kFirstColumnParam + id);
    }
    if (!has_extra_) insert_.BindNull(kExtraParam);

    std::error_code ec;
    std::filesystem::path absolute = std::filesystem::absolute(path, ec);
    RECSYS_ASSIGN_OR_RETURN(
        SqliteStatement insert_file,
        db->Prepare("INSERT INTO files(path, checksum, bytes, layout, header, "
                    "ingested_at) VALUES (?1, '', 0, ?2, ?3, ?4) RETURNING "
                    "file_id"));
    insert_file.BindText(1, ec ? path : absolute.lexically_normal().string());
    insert_file.BindText(2, has_products_ ? "train" : "test");
    insert_file.BindText(3, header);
    insert_file.BindText(4, ingested_at_);
    RECSYS_ASSIGN_OR_RETURN(bool row, insert_file.Step());
    if (!row) return absl::InternalError("INSERT ... RETURNING gave no row");
    file_id_ = insert_file.ColumnInt64(0);
    return absl::OkStatus();
  }

  // Why the row cannot be stored, as an error to add, or "" to store it.
  // `*structural` is set when the row's own errors already say why.
  std::string RefusalReason(const CsvRecord& csv, const RawRecord& record,
                            bool* structural) const {
    *structural = csv.problem != CsvProblem::kNone ||
                  csv.fields.size() != param_of_position_.size() ||
                  !record.fecha_dato.present() || !record.ncodpers.present();
    if (*structural) return "refused";
    if (record.ncodpers.value < 0 ||
        record.ncodpers.value > std::numeric_limits<uint32_t>::max()) {
      return "customer code outside 0..4294967295; the row is refused";
    }
    return "";
  }

  absl::Status AddRow(const CsvRecord& csv, const RawRecord& record,
                      std::vector<RowError>* errors) {
    ++report_->rows_read;
    bool structural = false;
    std::string refusal = RefusalReason(csv, record, &structural);
    if (refusal.empty()) {
      const int m = record.fecha_dato.value.MonthIndex();
      if (m != month_) RECSYS_RETURN_IF_ERROR(StartMonth(m, csv.line));
      auto [it, inserted] = customers_.try_emplace(
          record.ncodpers.value, CustomerRow{record.products, csv.line});
      if (!inserted) {
        refusal = absl::StrCat("customer listed twice in ", month_name_,
                               " (first at line ", it->second.line,
                               "); the row is refused");
      }
    }
    if (!refusal.empty()) {
      if (!structural) {
        RowError& e = errors->emplace_back();
        e.line = csv.line;
        e.column = std::string(RawColumnName(kNcodpers));
        e.value = absl::StrCat(record.ncodpers.value);
        e.message = refusal;
      }
      ++report_->rows_refused;
      if (month_ < 0) {
        pending_.push_back(std::move(*errors));  // its month is not known yet
        errors->clear();
        return absl::OkStatus();
      }
      ++month_refused_;
      return AddErrors(*errors, /*refused=*/true);
    }
    RECSYS_RETURN_IF_ERROR(Store(csv, record));
    if (!errors->empty()) {
      ++month_field_errors_;
      ++report_->rows_with_field_errors;
      RECSYS_RETURN_IF_ERROR(AddErrors(*errors, /*refused=*/false));
    }
    return absl::OkStatus();
  }

  absl::Status Store(const CsvRecord& csv, const RawRecord& record) {
    insert_.BindInt64(kIdParam, RecordId(month_, csv.line));
    insert_.BindText(kMonthParam, month_name_, /*copy=*/false);
    insert_.BindInt64(kCustomerParam, record.ncodpers.value);
    if (has_products_) insert_.BindInt64(kOwnedParam, record.products);
    extra_.clear();
    for (size_t i = 0; i < csv.fields.size(); ++i) {
      const int param = param_of_position_[i];
      if (param >= 0) {
        insert_.BindText(param, csv.fields[i], /*copy=*/false);
      } else {
        AppendCsvField(csv.fields[i], &extra_);
      }
    }
    if (has_extra_) insert_.BindText(kExtraParam, extra_, /*copy=*/false);
    RECSYS_RETURN_IF_ERROR(insert_.Run());
    ++month_rows_;
    ++report_->rows_stored;
    if (has_products_ && previous_.has_value()) {
      auto it = previous_->find(record.ncodpers.value);
      const ProductMask before = it == previous_->end() ? 0 : it->second.owned;
      month_added_ += CountProducts(record.products & ~before);
    }
    return absl::OkStatus();
  }

  absl::Status AddErrors(const std::vector<RowError>& errors, bool refused) {
    for (const RowError& e : errors) {
      ++report_->errors_total;
      if (static_cast<int64_t>(report_->errors.size()) <
          options_.max_errors_reported) {
        report_->errors.push_back({e, refused});
      }
      insert_error_.BindText(1, month_name_, /*copy=*/false);
      insert_error_.BindInt64(2, e.line);
      insert_error_.BindText(3, e.column, /*copy=*/false);
      insert_error_.BindText(4, e.value, /*copy=*/false);
      insert_error_.BindText(5, e.message, /*copy=*/false);
      insert_error_.BindInt64(6, refused ? 1 : 0);
      RECSYS_RETURN_IF_ERROR(insert_error_.Run());
    }
    return absl::OkStatus();
  }

  absl::StatusOr<absl::flat_hash_map<int64_t, CustomerRow>> LoadMonth(int m) {
    absl::flat_hash_map<int64_t, CustomerRow> rows;
    RECSYS_RETURN_IF_ERROR(ForEachRowOfMonth(
        sql_, m, [&](int64_t customer, ProductMask owned, int64_t line) {
          rows.emplace(customer, CustomerRow{owned, line});
        }));
    return rows;
  }

  absl::Status StartMonth(int m, int64_t line) {
    if (month_ >= 0 && m < month_) {
      return absl::InvalidArgumentError(absl::StrCat(
          report_->path, ": months must be in increasing order, but line ",
          line, " has ", MonthName(m), " after ", month_name_,
          "; nothing was ingested"));
    }
    if (month_ >= 0) RECSYS_RETURN_IF_ERROR(FinishMonth(m));
    const bool follows = month_ >= 0 && month_ == m - 1;
    month_ = m;
    month_name_ = MonthName(m);
    month_rows_ = month_refused_ = month_field_errors_ = month_added_ = 0;
    // The month before, to count the products added.
    if (follows) {
      previous_ = has_products_ ? std::optional(std::move(customers_))
                                : std::nullopt;
    } else {
      RECSYS_ASSIGN_OR_RETURN(std::optional<bool> before_has_products,
                              MonthHasProducts(sql_, m - 1));
      previous_.reset();
      if (has_products_ && before_has_products.value_or(false)) {
        RECSYS_ASSIGN_OR_RETURN(previous_, LoadMonth(m - 1));
      }
    }
    customers_.clear();
    if (previous_.has_value()) customers_.reserve(previous_->size());
    IngestedMonth& im = report_->months.emplace_back();
    im.month = month_name_;
    RECSYS_ASSIGN_OR_RETURN(std::optional<bool> held, MonthHasProducts(sql_, m));
    im.replaced = held.has_value();
    // Replace the month: its old rows, errors and counts go.
    RECSYS_ASSIGN_OR_RETURN(
        SqliteStatement drop_rows,
        sql_->Prepare("DELETE FROM records WHERE id >= ?1 AND id < ?2"));
    drop_rows.BindInt64(1, RecordId(m, 0));
    drop_rows.BindInt64(2, RecordId(m + 1, 0));
    RECSYS_RETURN_IF_ERROR(drop_rows.Run());
    for (const char* table : {"row_errors", "months"}) {
      RECSYS_ASSIGN_OR_RETURN(
          SqliteStatement drop,
          sql_->Prepare(absl::StrCat("DELETE FROM ", table, " WHERE month = ?1")));
      drop.BindText(1, month_name_);
      RECSYS_RETURN_IF_ERROR(drop.Run());
    }
    // Rows refused before the first stored row count in this month.
    for (const std::vector<RowError>& errors : pending_) {
      ++month_refused_;
      RECSYS_RETURN_IF_ERROR(AddErrors(errors, /*refused=*/true));
    }
    pending_.clear();
    return absl::OkStatus();
  }

  // Writes the months row of the month read, and recounts the products added
  // in the month after it when the database holds that one and the file does
  // not (`next` is the file's next month, nullopt at its end).
  absl::Status FinishMonth(std::optional<int> next) {
    IngestedMonth& im = report_->months.back();
    im.rows = month_rows_;
    im.rows_refused = month_refused_;
    im.rows_with_field_errors = month_field_errors_;
    SqliteStatement& s = insert_month_;
    s.BindText(1, month_name_);
    s.BindInt64(2, month_);
    s.BindInt64(3, file_id_);
    s.BindText(4, has_products_ ? "train" : "test");
    s.BindInt64(5, month_rows_);
    if (has_products_ && previous_.has_value()) {
      s.BindInt64(6, month_added_);
    } else {
      s.BindNull(6);
    }
    s.BindInt64(7, month_refused_);
    s.BindInt64(8, month_field_errors_);
    s.BindText(9, ingested_at_);
    RECSYS_RETURN_IF_ERROR(s.Run());
    if (next == month_ + 1) return absl::OkStatus();
    RECSYS_ASSIGN_OR_RETURN(std::optional<bool> after_has_products,
                            MonthHasProducts(sql_, month_ + 1));
    if (!after_has_products.value_or(false)) return absl::OkStatus();
    std::optional<int64_t> added;
    if (has_products_) {
      RECSYS_ASSIGN_OR_RETURN(auto after, LoadMonth(month_ + 1));
      added = 0;
      for (const auto& [customer, row] : after) {
        auto it = customers_.find(customer);
        *added += CountProducts(
            row.owned & ~(it == customers_.end() ? 0 : it->second.owned));
      }
    }
    RECSYS_ASSIGN_OR_RETURN(
        SqliteStatement update,
        sql_->Prepare("UPDATE months SET products_added = ?1 WHERE "
                      "month_index = ?2"));
    if (added) {
      update.BindInt64(1, *added);
    } else {
      update.BindNull(1);
    }
    update.BindInt64(2, month_ + 1);
    return update.Run();
  }

  SqliteDb* const sql_;
  const IngestOptions& options_;
  IngestReport* const report_;
  const std::string ingested_at_ = UtcNow();

  SqliteStatement insert_, insert_error_, update_file_, insert_month_;
  std::vector<int> param_of_position_;  // per header position, -1: extra
  bool has_products_ = false;
  bool has_extra_ = false;
  int64_t file_id_ = 0;
  std::string extra_;

  int month_ = -1;  // the month being read, -1 before the first stored row
  std::string month_name_;
  int64_t month_rows_ = 0, month_refused_ = 0, month_field_errors_ = 0,
          month_added_ = 0;
  absl::flat_hash_map<int64_t, CustomerRow> customers_;  // of month_
  // Customers of the month before month_, when it is known with products.
  std::optional<absl::flat_hash_map<int64_t, CustomerRow>> previous_;
  std::vector<std::vector<RowError>> pending_;  // refused before month_ is known
};

}  // namespace

absl::StatusOr<IngestReport> IngestFile(RecordsDb* db, const std::string& path,
                                        const IngestOptions& options) {
  const absl::Time start = absl::Now();
  IngestReport report;
  report.path = path;
  SqliteDb* sql = db->sqlite();
  // Safe in WAL mode: a power cut may lose the last commit, never corrupt.
  RECSYS_RETURN_IF_ERROR(sql->Exec("PRAGMA synchronous=NORMAL"));
  RECSYS_RETURN_IF_ERROR(sql->Exec("PRAGMA cache_size=-131072"));  // 128 MiB
  RECSYS_ASSIGN_OR_RETURN(SqliteTransaction transaction,
                          SqliteTransaction::Begin(sql, /*write=*/true));
  {
    Ingester ingester(db, options, &report);
    RECSYS_RETURN_IF_ERROR(ingester.Run(path));
  }  // its statements are finalized before the commit
  RECSYS_RETURN_IF_ERROR(transaction.Commit());
  report.seconds = absl::ToDoubleSeconds(absl::Now() - start);
  return report;
}

absl::StatusOr<std::string> FileChecksum(const std::string& path) {
  RECSYS_ASSIGN_OR_RETURN(std::unique_ptr<FileByteSource> file,
                          FileByteSource::Open(path));
  uint64_t hash = kFnv1a64Offset;
  std::vector<char> buffer(1 << 20);
  for (;;) {
    RECSYS_ASSIGN_OR_RETURN(size_t read,
                            file->Read(buffer.data(), buffer.size()));
    if (read == 0) break;
    hash = Fnv1a64(absl::string_view(buffer.data(), read), hash);
  }
  return absl::StrFormat("%016x", hash);
}

absl::StatusOr<std::vector<MonthInfo>> MonthsIngestedFrom(
    RecordsDb* db, absl::string_view checksum) {
  RECSYS_ASSIGN_OR_RETURN(std::vector<MonthInfo> months, db->ListMonths());
  std::vector<MonthInfo> held;
  for (MonthInfo& month : months) {
    if (month.checksum == checksum) held.push_back(std::move(month));
  }
  return held;
}

std::string FormatIngestReport(const IngestReport& r) {
  std::string out = absl::StrFormat(
      "%s (%s layout, %d bytes, checksum %s): %d rows read = %d stored + %d "
      "refused; %d stored rows have field errors (cleaned as missing)\n",
      r.path, r.layout == FileLayout::kTrain ? "train" : "test", r.bytes,
      r.checksum, r.rows_read, r.rows_stored, r.rows_refused,
      r.rows_with_field_errors);
  for (const IngestedMonth& m : r.months) {
    absl::StrAppendFormat(&out, "  %s: %d rows stored, %d refused, %d with field errors%s\n",
                          m.month, m.rows, m.rows_refused,
                          m.rows_with_field_errors,
                          m.replaced ? " (replaced the month held before)" : "");
  }
  for (const ReportedRowError& e : r.errors) {
    absl::StrAppend(&out, "  ", e.refused ? "refused: " : "field error: ",
                    e.error.ToString(), "\n");
  }
  if (r.errors_total > static_cast<int64_t>(r.errors.size())) {
    absl::StrAppend(&out, "  ... ", r.errors_total - r.errors.size(),
                    " more row errors in the table row_errors\n");
  }
  return out;
}

}  // namespace recsys
