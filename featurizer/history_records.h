// History records: how raw monthly rows enter a product history, shared by
// the training pipeline (the bundle's history.bin) and the feature store
// (`recsys-data history`, model_store/history_store.h), so that both build
// the same snapshot from the same rows.
//
// The rows come from a RecordSource, so the snapshot does not care where
// they are kept (a CSV file today, a records database later):
//
//   RECSYS_ASSIGN_OR_RETURN(auto reader, RawReader::Open("train_ver2.csv"));
//   HistoryBuildReport report;
//   RECSYS_ASSIGN_OR_RETURN(auto snapshot,
//       BuildHistorySnapshot(ReaderSource(reader.get()), {.depth = 6},
//                            std::nullopt, &report));
//
// Thread-compatible (free functions on caller-owned state).
#ifndef RECSYS_FEATURIZER_HISTORY_RECORDS_H_
#define RECSYS_FEATURIZER_HISTORY_RECORDS_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/raw_reader.h"
#include "common/raw_record.h"
#include "featurizer/product_history.h"

namespace recsys {

// Whether `record` can enter a product history: it has a fecha_dato and a
// valid customer id (CleanCustomerId). Other rows are skipped.
bool HasHistoryKey(const RawRecord& record);

// Records `record`'s owned products (CleanOwnedProducts) in `builder` for
// its month. Returns true when recorded, false when the customer was already
// recorded in that month (the first row wins; nothing changes). Errors: the
// builder's INVALID_ARGUMENT for a month before the current one.
// REQUIRES: HasHistoryKey(record).
absl::StatusOr<bool> ObserveRecord(const RawRecord& record,
                                   ProductHistoryBuilder* builder);

// Gives the next raw record in month order: true with *record filled, false
// at the end, or an error (e.g. an I/O error of the underlying file).
using RecordSource = std::function<absl::StatusOr<bool>(RawRecord* record)>;

// The records of `reader` (which must outlive the source), row problems
// ignored as training ignores them (an invalid field is missing; an invalid
// product flag is not owned); the reader's I/O error at the end.
RecordSource ReaderSource(RawReader* reader);

// What BuildHistorySnapshot read.
struct HistoryBuildReport {
  int64_t rows = 0;           // records read
  int64_t rows_skipped = 0;   // no fecha_dato or customer id
  int64_t rows_after = 0;     // after `through` (not used)
  int64_t duplicates = 0;     // a customer's second row in a month (ignored)
  std::vector<int> months;    // months observed, ascending
};

// Builds the snapshot of every record from `source` up to and including
// month `through` (all months when nullopt): it serves the month after the
// last month observed. INVALID_ARGUMENT when the months are not in
// increasing order (naming the line) or no month was observed; the source's
// error as it is.
absl::StatusOr<std::shared_ptr<const ProductHistorySnapshot>>
BuildHistorySnapshot(const RecordSource& source,
                     const ProductHistoryOptions& options,
                     std::optional<int> through, HistoryBuildReport* report);

}  // namespace recsys

#endif  // RECSYS_FEATURIZER_HISTORY_RECORDS_H_
