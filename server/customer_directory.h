// CustomerDirectory: what the server knows of one customer, for
// Recommender.GetCustomer (gRPC and GET /v1/customers/{ncodpers}) and the web
// console: the customer's newest row in the records database
// (recsys-server --records-db, opened read-only; records/records_db.h) and
// the products the customer owned in the months the serving product history
// holds (the history the serving version scores with now:
// ScoringEngine::HistoryFor, the history store's or the bundle's own).
//
//   RECSYS_ASSIGN_OR_RETURN(auto customers,
//                           CustomerDirectory::Create("records.db", &engine,
//                                                     &store));
//   absl::StatusOr<v1::Customer> c = customers->Get(15889);
//
// Customer.history lists the months the customer was present in, newest
// first: months_ago 0 is Customer.history_month, the newest month the
// history holds ("YYYY-MM"; the month before the one it serves, which is
// RecommendResponse.history_month). A month the customer was absent from (or
// that the history does not hold) is not listed, as in a request's history.
// The record is the row as stored, read by the raw-row parser the training
// reads it with; a field that parser finds invalid is left unset.
//
// Cost: one indexed SQLite read (records_by_customer, schema 2) and one
// binary search in the history; the database connection is used by one call
// at a time (a mutex), so lookups queue behind each other.
//
// Thread-safe.
#ifndef RECSYS_SERVER_CUSTOMER_DIRECTORY_H_
#define RECSYS_SERVER_CUSTOMER_DIRECTORY_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/raw_record.h"
#include "model_store/model_store.h"
#include "proto/api.h"
#include "records/records_db.h"
#include "server/scoring_engine.h"

namespace recsys {

// The CustomerRecord of a stored row: present fields copied (dates as
// "YYYY-MM-DD"), missing and invalid ones left unset, integers outside the
// proto field's range left unset.
v1::CustomerRecord EncodeStoredRecord(const RawRecord& record);

class CustomerDirectory {
 public:
  // `records_db` empty: no records database (Customer.record stays unset).
  // Otherwise opens it read-only: NOT_FOUND / FAILED_PRECONDITION as
  // RecordsDb::Open (missing file, not a records database), and
  // FAILED_PRECONDITION when it lacks the customer index (a schema-1 file:
  // any `recsys-data ingest --db FILE ...` adds it). `engine` and `store`
  // are borrowed and must outlive the directory.
  static absl::StatusOr<std::unique_ptr<CustomerDirectory>> Create(
      const std::string& records_db, const ScoringEngine* engine,
      ModelStore* store);

  // What the server knows of `ncodpers`. INVALID_ARGUMENT "ncodpers: must
  // be positive, got N" for ncodpers <= 0; NOT_FOUND naming the customer
  // when neither the records database nor the serving history knows it;
  // UNAVAILABLE when there is no records database and no model serves yet;
  // SQLite errors as records/sqlite.h maps them (e.g. UNAVAILABLE while the
  // database stays locked).
  absl::StatusOr<v1::Customer> Get(int64_t ncodpers) const
      ABSL_LOCKS_EXCLUDED(mu_);

  bool has_records_db() const { return !records_db_.empty(); }

 private:
  CustomerDirectory(std::string records_db, std::unique_ptr<RecordsDb> db,
                    const ScoringEngine* engine, ModelStore* store)
      : records_db_(std::move(records_db)),
        engine_(engine),
        store_(store),
        db_(std::move(db)) {}

  // Fills record and record_month; false when the database does not know
  // the customer (or there is none).
  absl::StatusOr<bool> ReadRecord(int64_t ncodpers, v1::Customer* out) const
      ABSL_LOCKS_EXCLUDED(mu_);

  const std::string records_db_;
  const ScoringEngine* const engine_;
  ModelStore* const store_;

  mutable absl::Mutex mu_;
  // One connection, one call at a time (records/sqlite.h); null without a
  // database.
  const std::unique_ptr<RecordsDb> db_ ABSL_PT_GUARDED_BY(mu_);
};

}  // namespace recsys

#endif  // RECSYS_SERVER_CUSTOMER_DIRECTORY_H_
