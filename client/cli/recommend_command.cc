// `recsys recommend`: one customer, from flags or a CSV line.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "client/cli/commands.h"
#include "client/record_codec.h"
#include "common/raw_columns.h"
#include "common/raw_reader.h"

namespace recsys {
namespace {

// The header of test_ver2.csv: its 24 columns, in file order.
std::string TestHeader() {
  std::string header;
  for (const RawColumn& column : kRawColumns) {
    if (!header.empty()) header.push_back(',');
    header.append(column.name.data(), column.name.size());
  }
  return header;
}

std::string CsvCell(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  return absl::StrCat("\"", absl::StrReplaceAll(text, {{"\"", "\"\""}}), "\"");
}

// A test-layout data line with the given cells ("" where not given).
absl::StatusOr<std::string> LineFromFields(
    const std::map<std::string, std::string>& fields) {
  std::vector<std::string> cells;
  size_t used = 0;
  for (const RawColumn& column : kRawColumns) {
    auto it = fields.find(std::string(column.name));
    cells.push_back(it == fields.end() ? "" : CsvCell(it->second));
    if (it != fields.end()) ++used;
  }
  if (used != fields.size()) {
    return absl::InvalidArgumentError(
        "a field is not one of the 24 test columns");
  }
  return absl::StrJoin(cells, ",");
}

const char* HistorySourceName(v1::HistorySource source) {
  switch (source) {
    case v1::HISTORY_SOURCE_REQUEST:
      return "given in the request";
    case v1::HISTORY_SOURCE_STORE:
      return "found in the server's history store";
    case v1::HISTORY_SOURCE_NOT_FOUND:
      return "not found: scored as a new customer";
    default:
      return "unknown";
  }
}

// The value a feature had, for the explanation table: "missing" when unset.
std::string ModelValue(const v1::FeatureContribution& f) {
  return f.has_value() ? absl::StrFormat("%g", f.value()) : "missing";
}

// "age=35", "fecha_alta=(empty)", or "-" for a feature computed from the
// product history or the date.
std::string RawCell(const v1::FeatureContribution& f) {
  if (f.raw_column().empty()) return "-";
  return absl::StrCat(f.raw_column(), "=",
                      f.raw_value().empty() ? "(empty)" : f.raw_value());
}

// The explanation of one product, indented under its row: the features
// that moved its margin most, the rest summed, the bias and the margin.
void PrintExplanation(const v1::Explanation& e, std::ostream& out) {
  static constexpr char kRow[] = "        %-24s %-9s %-28s %+12.4f\n";
  out << absl::StrFormat("        %-24s %-9s %-28s %12s\n", "feature", "value",
                         "raw column=value", "contribution");
  for (const v1::FeatureContribution& f : e.features()) {
    out << absl::StrFormat(kRow, f.feature(), ModelValue(f), RawCell(f),
                           f.contribution());
  }
  out << absl::StrFormat(kRow, "(all other features)", "", "",
                         e.others_contribution());
  out << absl::StrFormat(kRow, "bias (average margin)", "", "", e.bias());
  out << absl::StrFormat("        %-24s %-9s %-28s %+12.4f\n\n", "= margin", "",
                         "", e.margin());
}

void PrintRecommendations(const v1::RecommendResponse& response,
                          int64_t ncodpers, std::ostream& out) {
  out << "customer " << ncodpers << ", month " << response.fecha_dato() << "\n"
      << "model " << response.model_name() << " version "
      << response.model_version() << "; product history "
      << HistorySourceName(response.history_source()) << "\n\n";
  out << absl::StrFormat("%4s  %-20s %-24s %s\n", "rank", "product",
                         "english name", "score");
  for (const v1::Recommendation& r : response.recommendations()) {
    out << absl::StrFormat("%4d  %-20s %-24s %.4f\n", r.rank(), r.product(),
                           r.english_name(), r.score());
    if (r.has_explanation()) PrintExplanation(r.explanation(), out);
  }
  if (response.recommendations().empty()) {
    out << "  (none: the customer already owns every product)\n";
  }
}

}  // namespace

int RunRecommend(const RecommendCommandOptions& options, std::ostream& out,
                 std::ostream& err) {
  if (options.csv_line.empty() == options.fields.empty()) {
    err << "recsys recommend: give the customer either as field flags "
           "(--ncodpers "
           "N --age A ...) or as --csv-line, not both (see recsys recommend "
           "--help)\n";
    return kExitUsage;
  }
  // A file row needs a month; without --fecha_dato the server picks it, so a
  // placeholder month is parsed and then cleared.
  const bool omit_month =
      options.csv_line.empty() && options.fields.count("fecha_dato") == 0;
  std::map<std::string, std::string> fields = options.fields;
  if (omit_month) fields["fecha_dato"] = "2000-01-28";
  absl::StatusOr<std::string> line =
      options.csv_line.empty() ? LineFromFields(fields)
                               : absl::StatusOr<std::string>(options.csv_line);
  if (!line.ok()) {
    err << "recsys recommend: " << line.status().message() << "\n";
    return kExitUsage;
  }
  std::vector<RowError> row_errors;
  absl::StatusOr<RawRecord> record =
      ParseRawLine(options.header.empty() ? TestHeader() : options.header,
                   *line, &row_errors);
  if (!record.ok()) {
    err << "recsys recommend: " << record.status().message() << "\n";
    return kExitUsage;
  }
  if (omit_month) record->fecha_dato.Clear();
  for (const RowError& e : row_errors) {
    err << "recsys recommend: column "
        << (e.column.empty() ? "(row)" : e.column) << ": " << e.message
        << ": \"" << e.value << "\"\n";
  }
  if (!row_errors.empty()) return kExitUsage;
  v1::RecommendRequest request;
  absl::StatusOr<v1::CustomerRecord> customer = EncodeCustomer(*record);
  auto history = ParseHistoryText(options.history);
  if (!customer.ok() || !history.ok()) {
    err << "recsys recommend: "
        << (customer.ok() ? history.status().message()
                          : customer.status().message())
        << "\n";
    return kExitUsage;
  }
  *request.mutable_customer() = *std::move(customer);
  *request.mutable_history() = *std::move(history);
  request.set_k(options.k);
  request.set_explain(options.explain);
  request.set_explain_features(options.explain_features);
  absl::StatusOr<std::unique_ptr<RecommenderClient>> client =
      RecommenderClient::Create(options.client);
  if (!client.ok()) {
    err << "recsys recommend: " << client.status().message() << "\n";
    return kExitUsage;
  }
  absl::StatusOr<v1::RecommendResponse> response =
      (*client)->Recommend(request);
  if (!response.ok()) {
    err << "recsys recommend: " << response.status() << "\n";
    return ExitStatusForCallError(response.status());
  }
  PrintRecommendations(*response, request.customer().ncodpers(), out);
  return kExitOk;
}

}  // namespace recsys
