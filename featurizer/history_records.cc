#include "featurizer/history_records.h"

#include "absl/strings/str_cat.h"
#include "common/date.h"
#include "common/status_macros.h"
#include "featurizer/cleaning.h"

namespace recsys {

bool HasHistoryKey(const RawRecord& record) {
  return record.fecha_dato.present() && record.ncodpers.present() &&
         CleanCustomerId(record.ncodpers).has_value();
}

absl::StatusOr<bool> ObserveRecord(const RawRecord& record,
                                   ProductHistoryBuilder* builder) {
  const int month = record.fecha_dato.value.MonthIndex();
  const std::optional<int> open = builder->target_month();
  if (open.has_value() && month < *open) {
    return absl::InvalidArgumentError(absl::StrCat(
        "months must be in increasing order, but line ", record.line, " has ",
        record.fecha_dato.value.ToString(), " after ", MonthName(*open)));
  }
  // The only other refusal of Observe: the customer was recorded already.
  return builder
      ->Observe(month, record.ncodpers.value, CleanOwnedProducts(record))
      .ok();
}

RecordSource ReaderSource(RawReader* reader) {
  return [reader, errors = std::vector<RowError>()](
             RawRecord* record) mutable -> absl::StatusOr<bool> {
    if (reader->Next(record, &errors)) return true;
    RECSYS_RETURN_IF_ERROR(reader->status());
    return false;
  };
}

absl::StatusOr<std::shared_ptr<const ProductHistorySnapshot>>
BuildHistorySnapshot(const RecordSource& source,
                     const ProductHistoryOptions& options,
                     std::optional<int> through, HistoryBuildReport* report) {
  RECSYS_ASSIGN_OR_RETURN(std::unique_ptr<ProductHistoryBuilder> builder,
                          ProductHistoryBuilder::Create(options));
  *report = HistoryBuildReport();
  RawRecord record;
  while (true) {
    RECSYS_ASSIGN_OR_RETURN(const bool more, source(&record));
    if (!more) break;
    ++report->rows;
    if (!HasHistoryKey(record)) {
      ++report->rows_skipped;
      continue;
    }
    const int month = record.fecha_dato.value.MonthIndex();
    if (through.has_value() && month > *through) {
      ++report->rows_after;
      continue;
    }
    RECSYS_ASSIGN_OR_RETURN(const bool recorded,
                            ObserveRecord(record, builder.get()));
    if (!recorded) ++report->duplicates;
    if (report->months.empty() || report->months.back() != month)
      report->months.push_back(month);
  }
  if (report->months.empty()) {
    return absl::InvalidArgumentError(
        through.has_value()
            ? absl::StrCat("no usable rows up to ", MonthName(*through))
            : std::string("no usable rows"));
  }
  return builder->Snapshot();
}

}  // namespace recsys
