// Status propagation macros with abseil's semantics.
//
// Debian's abseil (20220623) ships no status macros, so these are ours:
//
//   absl::Status Load() {
//     RECSYS_RETURN_IF_ERROR(Open());
//     RECSYS_ASSIGN_OR_RETURN(std::string text, ReadAll());
//     ...
//   }
#ifndef RECSYS_COMMON_STATUS_MACROS_H_
#define RECSYS_COMMON_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

// Evaluates `expr` (an absl::Status) and returns it from the enclosing
// function when it is not OK.
#define RECSYS_RETURN_IF_ERROR(expr)                   \
  do {                                                 \
    ::absl::Status recsys_status_ = (expr);            \
    if (!recsys_status_.ok()) return recsys_status_;   \
  } while (false)

#define RECSYS_STATUS_CONCAT_INNER_(a, b) a##b
#define RECSYS_STATUS_CONCAT_(a, b) RECSYS_STATUS_CONCAT_INNER_(a, b)

// Evaluates `rexpr` (an absl::StatusOr<T>); on error returns its status from
// the enclosing function, otherwise moves the value into `lhs` (which may be a
// declaration such as `auto x` or an existing variable).
#define RECSYS_ASSIGN_OR_RETURN(lhs, rexpr)                                   \
  RECSYS_ASSIGN_OR_RETURN_IMPL_(                                              \
      RECSYS_STATUS_CONCAT_(recsys_statusor_, __LINE__), lhs, rexpr)

#define RECSYS_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                                  \
  if (!statusor.ok()) return std::move(statusor).status();  \
  lhs = std::move(statusor).value()

#endif  // RECSYS_COMMON_STATUS_MACROS_H_
