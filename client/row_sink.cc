#include "client/row_sink.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace recsys {

RowOutcome RowOutcome::Scored(int64_t line, int64_t ncodpers,
                              std::string products) {
  RowOutcome outcome;
  outcome.kind = kScored;
  outcome.line = line;
  outcome.ncodpers = ncodpers;
  outcome.products = std::move(products);
  return outcome;
}

RowOutcome RowOutcome::Failed(Kind kind, int64_t line,
                              std::optional<int64_t> ncodpers,
                              std::string reason) {
  RowOutcome outcome;
  outcome.kind = kind;
  outcome.line = line;
  outcome.ncodpers = ncodpers;
  outcome.reason = std::move(reason);
  return outcome;
}

OrderedRowSink::OrderedRowSink(std::ostream* submission, std::ostream* errors)
    : submission_(submission), errors_(errors) {
  *submission_ << "ncodpers,added_products\n";
  if (errors_ != nullptr) *errors_ << "line,ncodpers,reason\n";
}

void OrderedRowSink::Complete(uint64_t row_id, RowOutcome outcome) {
  absl::MutexLock lock(&mu_);
  switch (outcome.kind) {
    case RowOutcome::kScored:
      ++counts_.scored;
      break;
    case RowOutcome::kClientError:
      ++counts_.client_errors;
      break;
    case RowOutcome::kServerError:
      ++counts_.server_errors;
      break;
    case RowOutcome::kGivenUp:
      ++counts_.given_up;
      break;
    case RowOutcome::kDuplicate:
      ++counts_.duplicates;
      break;
  }
  if (row_id != next_id_) {
    waiting_.emplace(row_id, std::move(outcome));
    counts_.buffered = static_cast<int64_t>(waiting_.size());
    return;
  }
  WriteLocked(outcome);
  ++next_id_;
  for (auto it = waiting_.begin();
       it != waiting_.end() && it->first == next_id_; it = waiting_.erase(it)) {
    WriteLocked(it->second);
    ++next_id_;
  }
  counts_.buffered = static_cast<int64_t>(waiting_.size());
}

void OrderedRowSink::WriteLocked(const RowOutcome& outcome) {
  ++counts_.written;
  if (outcome.kind == RowOutcome::kScored) {
    *submission_ << *outcome.ncodpers << ',' << outcome.products << '\n';
    return;
  }
  if (errors_ == nullptr) return;
  *errors_ << outcome.line << ','
           << (outcome.ncodpers.has_value() ? absl::StrCat(*outcome.ncodpers)
                                            : std::string())
           << ",\""
           << absl::StrReplaceAll(outcome.reason,
                                  {{"\"", "\"\""}, {"\n", " "}, {"\r", " "}})
           << "\"\n";
}

RowCounts OrderedRowSink::counts() const {
  absl::MutexLock lock(&mu_);
  return counts_;
}

}  // namespace recsys
