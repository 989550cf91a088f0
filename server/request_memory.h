// RequestMemoryBudget: the bytes that parsed stream messages may hold while
// they are scored, shared by every stream of the server.
//
//   budget.Reserve(estimate, [](int64_t reserved) { parse; score; ...
//                                                  budget.Release(reserved); });
//
// A parsed message takes several times its wire size (protobuf objects and
// strings per field: measured 8.6x for full rows, up to 39x for rows of empty
// history entries), so the server reserves an upper bound before parsing and
// gives it back once the answer is serialized. A stream whose reservation
// does not fit waits (it stops reading, so gRPC's flow control holds its
// client back) until other messages finish scoring; since scoring never waits
// for a client, every wait ends. This is the `request_memory_bytes` term of
// the memory bound (server/memory_bound.h).
//
// Thread-safe. Grants are first come, first served.
#ifndef RECSYS_SERVER_REQUEST_MEMORY_H_
#define RECSYS_SERVER_REQUEST_MEMORY_H_

#include <cstdint>
#include <deque>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/synchronization/mutex.h"

namespace recsys {

class RequestMemoryBudget {
 public:
  using Granted = absl::AnyInvocable<void(int64_t reserved) &&>;

  // REQUIRES: capacity_bytes > 0.
  explicit RequestMemoryBudget(int64_t capacity_bytes)
      : capacity_(capacity_bytes) {}
  RequestMemoryBudget(const RequestMemoryBudget&) = delete;
  RequestMemoryBudget& operator=(const RequestMemoryBudget&) = delete;

  // Reserves min(bytes, capacity) bytes and then calls `granted` with that
  // amount: at once on this thread when they are free and nobody waits
  // before, else later on the thread whose Release() frees them. The caller
  // owes a Release() of the amount granted.
  void Reserve(int64_t bytes, Granted granted) ABSL_LOCKS_EXCLUDED(mu_);

  // Gives back `bytes` of a grant (all of it, or the unused part), and grants
  // the waiters that now fit.
  void Release(int64_t bytes) ABSL_LOCKS_EXCLUDED(mu_);

  int64_t capacity() const { return capacity_; }
  int64_t in_use() const ABSL_LOCKS_EXCLUDED(mu_);
  int64_t waiting() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Waiter {
    int64_t bytes;
    Granted granted;
  };

  const int64_t capacity_;
  mutable absl::Mutex mu_;
  int64_t in_use_ ABSL_GUARDED_BY(mu_) = 0;
  std::deque<Waiter> waiters_ ABSL_GUARDED_BY(mu_);
};

}  // namespace recsys

#endif  // RECSYS_SERVER_REQUEST_MEMORY_H_
