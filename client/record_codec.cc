#include "client/record_codec.h"

#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/products.h"
#include "common/raw_columns.h"
#include "common/status_macros.h"

namespace recsys {
namespace {

absl::Status InvalidInInput(absl::string_view field) {
  return absl::InvalidArgumentError(
      absl::StrCat("customer.", field, ": invalid in the input row"));
}

// Copies a present field with `set` (a date as "YYYY-MM-DD", an integer
// checked against the range of the proto field's type `Proto`); an invalid
// one is an error.
template <typename Proto, typename T, typename Setter>
absl::Status Put(const RawField<T>& field, absl::string_view name, Setter set) {
  if (field.invalid()) return InvalidInInput(name);
  if (!field.present()) return absl::OkStatus();
  if constexpr (std::is_same_v<T, Date>) {
    set(field.value.ToString());
  } else if constexpr (std::is_integral_v<Proto>) {
    if (field.value < std::numeric_limits<Proto>::min() ||
        field.value > std::numeric_limits<Proto>::max()) {
      return absl::InvalidArgumentError(
          absl::StrCat("customer.", name, ": out of range, got ", field.value));
    }
    set(static_cast<Proto>(field.value));
  } else {
    set(field.value);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<v1::CustomerRecord> EncodeCustomer(const RawRecord& record) {
  v1::CustomerRecord customer;
  RECSYS_RETURN_IF_ERROR(EncodeCustomerTo(record, &customer));
  return customer;
}

absl::Status EncodeCustomerTo(const RawRecord& r, v1::CustomerRecord* out) {
  out->Clear();
  v1::CustomerRecord& c = *out;
  // Every column, in file order, into the CustomerRecord field of its name.
#define RECSYS_ENCODE_COLUMN(name, ...)                         \
  RECSYS_RETURN_IF_ERROR(Put<std::decay_t<decltype(c.name())>>( \
      r.name, #name, [&](const auto& v) { c.set_##name(v); }));
  RECSYS_DEMOGRAPHIC_COLUMNS(RECSYS_ENCODE_COLUMN)
#undef RECSYS_ENCODE_COLUMN
  return absl::OkStatus();
}

absl::StatusOr<google::protobuf::RepeatedPtrField<v1::MonthProducts>>
ParseHistoryText(absl::string_view text) {
  google::protobuf::RepeatedPtrField<v1::MonthProducts> history;
  std::vector<int> seen;
  for (absl::string_view part :
       absl::StrSplit(text, ';', absl::SkipWhitespace())) {
    std::vector<absl::string_view> month_and_products =
        absl::StrSplit(part, absl::MaxSplits(':', 1));
    int months_ago = 0;
    if (month_and_products.size() != 2 ||
        !absl::SimpleAtoi(month_and_products[0], &months_ago)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "history: expected MONTHS_AGO:PRODUCT,PRODUCT,... , got \"",
          absl::StripAsciiWhitespace(part), "\""));
    }
    for (int other : seen) {
      if (other == months_ago) {
        return absl::InvalidArgumentError(
            absl::StrCat("history: month ", months_ago, " given twice"));
      }
    }
    seen.push_back(months_ago);
    v1::MonthProducts* month = history.Add();
    month->set_months_ago(months_ago);
    for (absl::string_view name :
         absl::StrSplit(month_and_products[1], ',', absl::SkipWhitespace())) {
      name = absl::StripAsciiWhitespace(name);
      if (!FindProduct(name).has_value()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "history: month ", months_ago, ": \"", name,
            "\" is not a product (a Kaggle column such as ind_cco_fin_ult1 or "
            "an English name such as current_accounts)"));
      }
      month->add_products(std::string(name));
    }
  }
  return history;
}

}  // namespace recsys
