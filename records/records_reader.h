// Reads the records database back as the raw records the CSV reader yields,
// so that training runs the same code on either (training/dataset.h).
//
// A RecordsSnapshot holds one read transaction: every reader made from it
// sees the database as it was when the snapshot was opened, whatever ingests
// commit meanwhile (WAL mode). Its readers yield the stored rows of the months
// up to `through`, month by month and in file order within a month, each
// parsed from its stored column texts by the same RawRowParser the CSV reader
// uses -- so a row gives the same RawRecord (line number included) and the
// same field errors as when it was read from its file. Refused rows are not
// in the database; the CSV path skips them too, except a customer's second
// row in one month and rows with a wrong field count or broken quoting.
//
//   RECSYS_ASSIGN_OR_RETURN(auto snapshot,
//                           RecordsSnapshot::Open("records.db", "2016-05"));
//   RECSYS_ASSIGN_OR_RETURN(std::unique_ptr<RawReader> reader,
//                           snapshot->NewReader());
//   while (reader->Next(&record, &errors)) Use(record);
//
// Thread safety: a snapshot and its readers are used by one thread at a time.
#ifndef RECSYS_RECORDS_RECORDS_READER_H_
#define RECSYS_RECORDS_RECORDS_READER_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/raw_reader.h"
#include "records/records_db.h"

namespace recsys {

class RecordsSnapshot {
 public:
  // Opens `db_path` read-only and takes a snapshot of the months up to
  // `through` ("YYYY-MM"; "" = the newest month with products). Errors:
  // those of RecordsDb::Open; INVALID_ARGUMENT for a malformed `through`;
  // NOT_FOUND when the database holds no month up to `through` (or no month
  // with products); FAILED_PRECONDITION when one of those months was ingested
  // from a test-layout file (no products to train on), naming it.
  static absl::StatusOr<std::unique_ptr<RecordsSnapshot>> Open(
      const std::string& db_path, absl::string_view through);
  ~RecordsSnapshot();

  // The months read, oldest first.
  const std::vector<MonthInfo>& months() const { return months_; }
  // "records.db through 2016-05", for messages.
  const std::string& name() const { return name_; }

  // A reader of every stored row of months(). Each call starts from the
  // first row again. REQUIRES: the snapshot outlives the reader, and the
  // previous reader is destroyed first.
  absl::StatusOr<std::unique_ptr<RawReader>> NewReader();

 private:
  RecordsSnapshot(std::unique_ptr<RecordsDb> db);

  std::unique_ptr<RecordsDb> db_;
  std::unique_ptr<SqliteTransaction> snapshot_;
  std::vector<MonthInfo> months_;
  std::string name_;
};

// One customer's newest stored row (ReadNewestRecord).
struct StoredRecord {
  std::string month;  // "YYYY-MM", the row's month
  // The row parsed as RecordsSnapshot's readers parse it (line = its file
  // line); fields the parser marked invalid are listed in `errors`.
  RawRecord record;
  std::vector<RowError> errors;
};

// The stored row of customer `ncodpers` in the newest month that holds one,
// or nullopt when no month does. One index seek on records_by_customer
// (schema 2; a full scan without it). Errors as SqliteStatement::Step.
absl::StatusOr<std::optional<StoredRecord>> ReadNewestRecord(RecordsDb* db,
                                                             int64_t ncodpers);

}  // namespace recsys

#endif  // RECSYS_RECORDS_RECORDS_READER_H_
