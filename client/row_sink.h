// Where the rows of a batch-scoring run end up: the Kaggle submission for rows
// that were scored, the errors file for rows that were not, both in input
// order whatever order the answers come in.
//
//   OrderedRowSink sink(&submission_file, &errors_file);
//   sink.Complete(1, RowOutcome::Scored(3, 1170544, "ind_recibo_ult1"));
//   sink.Complete(0, RowOutcome::Failed(RowOutcome::kServerError, 2, 15889,
//                                       "server: INVALID_ARGUMENT: ..."));
//   // Both rows are written once row 0 is complete.
//
// Submission: "ncodpers,added_products" then "15889,ind_recibo_ult1 ..." (the
// products of a row separated by spaces, best first).
// Errors: "line,ncodpers,reason" then e.g. `17,15889,"server: ..."` (ncodpers
// empty when the row had none; reason always quoted, RFC 4180).
#ifndef RECSYS_CLIENT_ROW_SINK_H_
#define RECSYS_CLIENT_ROW_SINK_H_

#include <cstdint>
#include <map>
#include <optional>
#include <ostream>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace recsys {

// The outcome of one input row.
struct RowOutcome {
  enum Kind {
    kScored,       // answered with recommendations
    kClientError,  // the input row could not be read; never sent
    kServerError,  // the server answered with an error for this row
    kGivenUp,      // the server could not be reached for it in time
    kDuplicate,    // an earlier row had the same customer; never sent
  };
  Kind kind = kScored;
  int64_t line = 0;                 // 1-based line in the input file
  std::optional<int64_t> ncodpers;  // unset when the row had none
  std::string products;  // kScored: space-separated column names, best first
  std::string reason;    // otherwise: why the row was not scored

  static RowOutcome Scored(int64_t line, int64_t ncodpers,
                           std::string products);
  static RowOutcome Failed(Kind kind, int64_t line,
                           std::optional<int64_t> ncodpers, std::string reason);
};

struct RowCounts {
  int64_t scored = 0;
  int64_t client_errors = 0;
  int64_t server_errors = 0;
  int64_t given_up = 0;
  int64_t duplicates = 0;
  int64_t written = 0;   // rows written to either file so far
  int64_t buffered = 0;  // complete rows waiting for an earlier one

  int64_t failed() const {
    return client_errors + server_errors + given_up + duplicates;
  }
};

// Thread-safe.
class OrderedRowSink {
 public:
  // Writes both headers. The streams must outlive the sink; `errors` may be
  // nullptr to discard the failed rows (they are still counted).
  OrderedRowSink(std::ostream* submission, std::ostream* errors);

  OrderedRowSink(const OrderedRowSink&) = delete;
  OrderedRowSink& operator=(const OrderedRowSink&) = delete;

  // Records the outcome of row `row_id` and writes every row whose
  // predecessors are complete. REQUIRES: ids are 0, 1, 2, ... in input order,
  // each completed exactly once.
  void Complete(uint64_t row_id, RowOutcome outcome);

  RowCounts counts() const;

 private:
  void WriteLocked(const RowOutcome& outcome)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  std::ostream* const submission_;
  std::ostream* const errors_;

  mutable absl::Mutex mu_;
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<uint64_t, RowOutcome> waiting_ ABSL_GUARDED_BY(mu_);
  RowCounts counts_ ABSL_GUARDED_BY(mu_);
};

}  // namespace recsys

#endif  // RECSYS_CLIENT_ROW_SINK_H_
