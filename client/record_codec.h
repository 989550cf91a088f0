// Encoding of the library's raw records into API messages, on the client side.
//
// The client reads customers with the CSV reader (common/raw_reader.h) and
// sends them as CustomerRecord messages; this file is that translation.
//
//   absl::StatusOr<v1::CustomerRecord> customer = EncodeCustomer(record);
//   if (!customer.ok()) ReportRowError(record.line, customer.status());
//
// Missing fields stay unset; present fields are copied as they are (dates as
// "YYYY-MM-DD"). Range checks are the server's business (it names the field
// and value); the client refuses only what the reader could not parse.
#ifndef RECSYS_CLIENT_RECORD_CODEC_H_
#define RECSYS_CLIENT_RECORD_CODEC_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/raw_record.h"
#include "proto/api.h"

namespace recsys {

// Returns the CustomerRecord for the demographic fields of `record` (product
// columns are not part of the API). Returns INVALID_ARGUMENT naming the first
// field the reader marked invalid, e.g. "customer.age: invalid in the input
// row", so that the row is reported locally and never sent.
absl::StatusOr<v1::CustomerRecord> EncodeCustomer(const RawRecord& record);

// Same, written into `*customer` (cleared first), so that the caller chooses
// where the message lives (e.g. inside a request on a protobuf arena). On
// error `*customer` holds the fields before the failing one.
absl::Status EncodeCustomerTo(const RawRecord& record,
                              v1::CustomerRecord* customer);

// Parses a product history written as "1:ind_cco_fin_ult1,ind_recibo_ult1;
// 2:current_accounts" (months_ago, a colon, product names separated by commas;
// months separated by semicolons; "3:" = owned nothing 3 months ago; spaces
// around names ignored). Returns INVALID_ARGUMENT naming the part that is not
// a month number, a repeated month, or an unknown product.
absl::StatusOr<google::protobuf::RepeatedPtrField<v1::MonthProducts>>
ParseHistoryText(absl::string_view text);

}  // namespace recsys

#endif  // RECSYS_CLIENT_RECORD_CODEC_H_
