#include "server/customer_directory.h"

#include <limits>
#include <type_traits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/date.h"
#include "common/products.h"
#include "common/raw_columns.h"
#include "common/status_macros.h"
#include "records/records_reader.h"

namespace recsys {
namespace {

// Copies a present field with `set` (a date as "YYYY-MM-DD"; an integer only
// when the proto field's type `Proto` holds it).
template <typename Proto, typename T, typename Setter>
void PutStored(const RawField<T>& field, Setter set) {
  if (!field.present()) return;
  if constexpr (std::is_same_v<T, Date>) {
    set(field.value.ToString());
  } else if constexpr (std::is_integral_v<Proto>) {
    if (field.value < std::numeric_limits<Proto>::min() ||
        field.value > std::numeric_limits<Proto>::max()) {
      return;
    }
    set(static_cast<Proto>(field.value));
  } else {
    set(field.value);
  }
}

}  // namespace

v1::CustomerRecord EncodeStoredRecord(const RawRecord& r) {
  v1::CustomerRecord c;
  // Every column, in file order, into the CustomerRecord field of its name
  // (the client's EncodeCustomerTo does the same for requests, but refuses
  // invalid fields: a stored row's are left out here).
#define RECSYS_STORED_COLUMN(name, ...)        \
  PutStored<std::decay_t<decltype(c.name())>>( \
      r.name, [&](const auto& v) { c.set_##name(v); });
  RECSYS_DEMOGRAPHIC_COLUMNS(RECSYS_STORED_COLUMN)
#undef RECSYS_STORED_COLUMN
  return c;
}

absl::StatusOr<std::unique_ptr<CustomerDirectory>> CustomerDirectory::Create(
    const std::string& records_db, const ScoringEngine* engine,
    ModelStore* store) {
  if (engine == nullptr || store == nullptr)
    return absl::InternalError("CustomerDirectory: null engine or store");
  std::unique_ptr<RecordsDb> db;
  if (!records_db.empty()) {
    absl::StatusOr<std::unique_ptr<RecordsDb>> opened =
        RecordsDb::Open(records_db, {.read_only = true});
    if (!opened.ok()) {
      return absl::Status(
          opened.status().code(),
          absl::StrCat("--records-db: ", opened.status().message()));
    }
    RECSYS_ASSIGN_OR_RETURN(bool indexed, (*opened)->HasCustomerIndex());
    if (!indexed) {
      return absl::FailedPreconditionError(absl::StrCat(
          "--records-db ", records_db,
          ": the database lacks the index records_by_customer (written by an "
          "older version, schema 1); the next `recsys-data ingest --db ",
          records_db, " FILE` adds it"));
    }
    db = *std::move(opened);
  }
  return std::unique_ptr<CustomerDirectory>(
      new CustomerDirectory(records_db, std::move(db), engine, store));
}

absl::StatusOr<bool> CustomerDirectory::ReadRecord(int64_t ncodpers,
                                                   v1::Customer* out) const {
  if (db_ == nullptr) return false;
  absl::MutexLock lock(&mu_);
  RECSYS_ASSIGN_OR_RETURN(std::optional<StoredRecord> stored,
                          ReadNewestRecord(db_.get(), ncodpers));
  if (!stored.has_value()) return false;
  *out->mutable_record() = EncodeStoredRecord(stored->record);
  out->mutable_record()->set_ncodpers(ncodpers);
  out->set_record_month(stored->month);
  return true;
}

absl::StatusOr<v1::Customer> CustomerDirectory::Get(int64_t ncodpers) const {
  if (ncodpers <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("ncodpers: must be positive, got ", ncodpers));
  }
  v1::Customer customer;
  customer.set_ncodpers(ncodpers);
  bool in_history = false;
  std::string history_month;
  std::shared_ptr<const ModelVersion> serving = store_->Current();
  if (serving != nullptr) {
    std::shared_ptr<const HistoryVersion> hold;
    const HistoryChoice history = engine_->HistoryFor(*serving, &hold);
    RECSYS_ASSIGN_OR_RETURN(HistoryView view,
                            history.snapshot->Lookup(ncodpers, history.month));
    // months_ago 0 = the newest month held, lag 1 of the month it serves.
    history_month = MonthName(history.month - 1);
    customer.set_history_month(history_month);
    in_history = view.found;
    for (int lag = 1; view.found && lag <= history.snapshot->depth(); ++lag) {
      if (!view.Present(lag)) continue;
      v1::MonthProducts* month = customer.add_history();
      month->set_months_ago(lag - 1);
      for (int p = 0; p < kNumProducts; ++p) {
        if (view.Owned(lag) & ProductBit(p))
          month->add_products(std::string(kProducts[p].column));
      }
    }
  } else if (db_ == nullptr) {
    return absl::UnavailableError(
        "no model is loaded yet and the server has no records database "
        "(--records-db): it knows no customer");
  }
  RECSYS_ASSIGN_OR_RETURN(bool in_records, ReadRecord(ncodpers, &customer));
  if (!in_records && !in_history) {
    return absl::NotFoundError(absl::StrCat(
        "customer ", ncodpers, " is not known: ",
        db_ == nullptr
            ? "the server has no records database (--records-db)"
            : absl::StrCat("not in the records database ", records_db_),
        serving == nullptr ? " and no model serves yet"
                           : absl::StrCat(" nor in the product history of ",
                                          history_month, " and before")));
  }
  return customer;
}

}  // namespace recsys
