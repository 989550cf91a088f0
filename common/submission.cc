#include "common/submission.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/file_util.h"
#include "common/status_macros.h"

namespace recsys {
namespace {

constexpr size_t kFlushBytes = 1 << 20;
constexpr size_t kMaxQuoted = 200;  // Characters of a bad line in a message.
constexpr size_t kMaxExamples = 10;

// Index of a Kaggle product column name (English names are not accepted:
// Kaggle would not match them either).
std::optional<int> ProductByColumn(absl::string_view name) {
  static const auto* const kIndex = [] {
    auto* index = new absl::flat_hash_map<absl::string_view, int>();
    for (int p = 0; p < kNumProducts; ++p) (*index)[kProducts[p].column] = p;
    return index;
  }();
  const auto it = kIndex->find(name);
  if (it == kIndex->end()) return std::nullopt;
  return it->second;
}

absl::Status LineError(int64_t line_number, absl::string_view problem,
                       absl::string_view line) {
  const bool cut = line.size() > kMaxQuoted;
  return absl::InvalidArgumentError(
      absl::StrCat("line ", line_number, ": ", problem, ": '",
                   line.substr(0, kMaxQuoted), cut ? "...'" : "'"));
}

// Calls `on_row(line_number, line)` for every non-blank line after the
// header, which must equal `header`.
template <typename OnRow>
absl::Status ForEachLine(absl::string_view text, absl::string_view header,
                         OnRow on_row) {
  absl::ConsumePrefix(&text, "\xEF\xBB\xBF");  // UTF-8 BOM.
  int64_t line_number = 0;
  bool saw_header = false;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    absl::ConsumeSuffix(&line, "\r");
    if (!saw_header) {
      if (line != header) {
        return LineError(line_number,
                         absl::StrCat("expected the header '", header, "'"),
                         line);
      }
      saw_header = true;
      continue;
    }
    if (line.empty()) continue;
    RECSYS_RETURN_IF_ERROR(on_row(line_number, line));
  }
  return absl::OkStatus();
}

absl::Status ParseNcodpers(int64_t line_number, absl::string_view field,
                           absl::string_view line, int64_t* out) {
  if (!absl::SimpleAtoi(field, out) || *out < 0) {
    return LineError(line_number, absl::StrCat("bad ncodpers '", field, "'"),
                     line);
  }
  return absl::OkStatus();
}

// Calls `on_product(index)` for each space-separated name in `field`
// (optionally enclosed in double quotes).
template <typename OnProduct>
absl::Status ParseProducts(int64_t line_number, absl::string_view field,
                           absl::string_view line, OnProduct on_product) {
  if (field.size() >= 2 && field.front() == '"' && field.back() == '"') {
    field = field.substr(1, field.size() - 2);
  }
  for (absl::string_view name : absl::StrSplit(field, ' ', absl::SkipEmpty())) {
    const std::optional<int> product = ProductByColumn(name);
    if (!product.has_value()) {
      return LineError(line_number,
                       absl::StrCat("unknown product '", name, "'"), line);
    }
    on_product(*product);
  }
  return absl::OkStatus();
}

absl::Status WithPath(const std::string& path, const absl::Status& status) {
  return absl::Status(status.code(),
                      absl::StrCat(path, ": ", status.message()));
}

// (ncodpers, row index) sorted by ncodpers; INVALID_ARGUMENT on a repeat.
template <typename Row>
absl::StatusOr<std::vector<std::pair<int64_t, size_t>>> SortedIds(
    absl::Span<const Row> rows, absl::string_view what) {
  std::vector<std::pair<int64_t, size_t>> ids(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) ids[i] = {rows[i].ncodpers, i};
  std::sort(ids.begin(), ids.end());
  for (size_t i = 1; i < ids.size(); ++i) {
    if (ids[i].first == ids[i - 1].first) {
      const Row& first = rows[ids[i - 1].second];
      const Row& again = rows[ids[i].second];
      return absl::InvalidArgumentError(absl::StrCat(
          what, ": ncodpers ", again.ncodpers, " appears twice (lines ",
          first.line, " and ", again.line, ")"));
    }
  }
  return ids;
}

const size_t* Find(const std::vector<std::pair<int64_t, size_t>>& ids,
                   int64_t ncodpers) {
  const auto it = std::lower_bound(ids.begin(), ids.end(),
                                   std::make_pair(ncodpers, size_t{0}));
  return it != ids.end() && it->first == ncodpers ? &it->second : nullptr;
}

}  // namespace

void AppendSubmissionLine(int64_t ncodpers, absl::Span<const int> products,
                          std::string* out) {
  absl::StrAppend(out, ncodpers, ",");
  for (size_t i = 0; i < products.size(); ++i) {
    if (i > 0) out->push_back(' ');
    const absl::string_view name = kProducts[products[i]].column;
    out->append(name.data(), name.size());
  }
  out->push_back('\n');
}

void AppendSubmissionLine(int64_t ncodpers, const TopKResult& top,
                          std::string* out) {
  int products[kNumProducts];
  for (int i = 0; i < top.size; ++i) products[i] = top.items[i].product;
  AppendSubmissionLine(ncodpers, absl::MakeConstSpan(products, top.size), out);
}

// ---------------------------------------------------------- SubmissionWriter

absl::StatusOr<std::unique_ptr<SubmissionWriter>> SubmissionWriter::Create(
    const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr) {
    return absl::InternalError(
        absl::StrCat("cannot create ", path, ": ", std::strerror(errno)));
  }
  std::unique_ptr<SubmissionWriter> writer(new SubmissionWriter(file, path));
  absl::StrAppend(&writer->buffer_, kSubmissionHeader, "\n");
  return writer;
}

SubmissionWriter::~SubmissionWriter() {
  if (file_ != nullptr) std::fclose(file_);
}

absl::Status SubmissionWriter::Add(int64_t ncodpers,
                                   absl::Span<const int> products) {
  AppendSubmissionLine(ncodpers, products, &buffer_);
  ++rows_;
  return MaybeFlush(/*force=*/false);
}

absl::Status SubmissionWriter::Add(int64_t ncodpers, const TopKResult& top) {
  AppendSubmissionLine(ncodpers, top, &buffer_);
  ++rows_;
  return MaybeFlush(/*force=*/false);
}

absl::Status SubmissionWriter::MaybeFlush(bool force) {
  if (file_ == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat(path_, ": writer already closed"));
  }
  if (!force && buffer_.size() < kFlushBytes) return absl::OkStatus();
  if (std::fwrite(buffer_.data(), 1, buffer_.size(), file_) != buffer_.size()) {
    return absl::InternalError(
        absl::StrCat("cannot write ", path_, ": ", std::strerror(errno)));
  }
  buffer_.clear();
  return absl::OkStatus();
}

absl::Status SubmissionWriter::Close() {
  absl::Status status = MaybeFlush(/*force=*/true);
  if (file_ != nullptr && std::fclose(file_) != 0 && status.ok()) {
    status = absl::InternalError(
        absl::StrCat("cannot close ", path_, ": ", std::strerror(errno)));
  }
  file_ = nullptr;
  return status;
}

// ------------------------------------------------------------------ Reading

absl::StatusOr<std::vector<SubmissionRow>> ParseSubmission(
    absl::string_view text) {
  std::vector<SubmissionRow> rows;
  RECSYS_RETURN_IF_ERROR(ForEachLine(
      text, kSubmissionHeader,
      [&](int64_t line_number, absl::string_view line) -> absl::Status {
        std::vector<absl::string_view> fields = absl::StrSplit(line, ',');
        if (fields.size() != 2) {
          return LineError(
              line_number,
              absl::StrCat("expected 2 fields, got ", fields.size()), line);
        }
        SubmissionRow row;
        row.line = line_number;
        RECSYS_RETURN_IF_ERROR(
            ParseNcodpers(line_number, fields[0], line, &row.ncodpers));
        RECSYS_RETURN_IF_ERROR(ParseProducts(
            line_number, fields[1], line,
            [&](int product) { row.products.push_back(product); }));
        rows.push_back(std::move(row));
        return absl::OkStatus();
      }));
  return rows;
}

absl::StatusOr<std::vector<TruthRecord>> ParseTruth(absl::string_view text) {
  std::vector<TruthRecord> rows;
  RECSYS_RETURN_IF_ERROR(ForEachLine(
      text, kTruthHeader,
      [&](int64_t line_number, absl::string_view line) -> absl::Status {
        std::vector<absl::string_view> fields = absl::StrSplit(line, ',');
        if (fields.size() != 3) {
          return LineError(
              line_number,
              absl::StrCat("expected 3 fields, got ", fields.size()), line);
        }
        TruthRecord row;
        row.line = line_number;
        RECSYS_RETURN_IF_ERROR(
            ParseNcodpers(line_number, fields[0], line, &row.ncodpers));
        RECSYS_RETURN_IF_ERROR(ParseProducts(
            line_number, fields[1], line,
            [&](int product) { row.added |= ProductBit(product); }));
        RECSYS_RETURN_IF_ERROR(ParseProducts(
            line_number, fields[2], line,
            [&](int product) { row.owned |= ProductBit(product); }));
        rows.push_back(row);
        return absl::OkStatus();
      }));
  return rows;
}

absl::StatusOr<std::vector<SubmissionRow>> ReadSubmission(
    const std::string& path) {
  RECSYS_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  absl::StatusOr<std::vector<SubmissionRow>> rows = ParseSubmission(text);
  if (!rows.ok()) return WithPath(path, rows.status());
  return rows;
}

absl::StatusOr<std::vector<TruthRecord>> ReadTruth(const std::string& path) {
  RECSYS_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  absl::StatusOr<std::vector<TruthRecord>> rows = ParseTruth(text);
  if (!rows.ok()) return WithPath(path, rows.status());
  return rows;
}

// --------------------------------------------------------------- Evaluation

absl::StatusOr<EvaluationReport> Evaluate(
    absl::Span<const SubmissionRow> submission,
    absl::Span<const TruthRecord> truth, int k) {
  RECSYS_ASSIGN_OR_RETURN(auto submitted, SortedIds(submission, "submission"));
  RECSYS_ASSIGN_OR_RETURN(auto truth_ids, SortedIds(truth, "truth"));
  EvaluationReport report;
  report.k = k;
  MapAtK map(k);
  for (const TruthRecord& t : truth) {
    if (const size_t* s = Find(submitted, t.ncodpers)) {
      map.Add(submission[*s].products, t.added);
      ++report.scored;
    } else {
      map.AddUnpredicted(t.added);
      if (report.missing_examples.size() < kMaxExamples) {
        report.missing_examples.push_back(t.ncodpers);
      }
      ++report.missing_from_submission;
    }
  }
  for (const SubmissionRow& s : submission) {
    if (Find(truth_ids, s.ncodpers) != nullptr) continue;
    if (report.not_in_truth_examples.size() < kMaxExamples) {
      report.not_in_truth_examples.push_back(s.ncodpers);
    }
    ++report.not_in_truth;
  }
  report.map = map.Value();
  report.ceiling = map.Ceiling();
  report.truth_customers = map.customers();
  report.customers_with_additions = map.customers_with_additions();
  return report;
}

absl::StatusOr<EvaluationReport> EvaluateFiles(
    const std::string& submission_path, const std::string& truth_path, int k) {
  RECSYS_ASSIGN_OR_RETURN(std::vector<SubmissionRow> submission,
                          ReadSubmission(submission_path));
  RECSYS_ASSIGN_OR_RETURN(std::vector<TruthRecord> truth,
                          ReadTruth(truth_path));
  return Evaluate(submission, truth, k);
}

std::string FormatReport(const EvaluationReport& r) {
  std::string out = absl::StrCat(
      "MAP@", r.k, " ", absl::StrFormat("%.6f", r.map), " (ceiling ",
      absl::StrFormat("%.6f", r.ceiling), ") over ", r.truth_customers,
      " customers, ", r.customers_with_additions, " of them adding products\n",
      "scored ", r.scored, ", missing from the submission ",
      r.missing_from_submission, " (scored 0), not in the truth ",
      r.not_in_truth, " (ignored)\n");
  if (!r.missing_examples.empty()) {
    absl::StrAppend(
        &out, "missing e.g.: ", absl::StrJoin(r.missing_examples, " "), "\n");
  }
  if (!r.not_in_truth_examples.empty()) {
    absl::StrAppend(&out, "not in the truth e.g.: ",
                    absl::StrJoin(r.not_in_truth_examples, " "), "\n");
  }
  return out;
}

}  // namespace recsys
