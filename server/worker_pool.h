// WorkerPool: a fixed set of threads that run queued tasks in FIFO order.
//
// The server predicts only on these threads: XGBoost keeps one prediction
// buffer per (thread, booster), so a fixed pool bounds that memory where
// threads created per request would not (see model_store/booster.h).
//
//   RECSYS_ASSIGN_OR_RETURN(auto pool, WorkerPool::Create({.threads = 4}));
//   pool->Submit([](int worker) { Score(scratch[worker]); });
//   pool->Stop();  // runs what is queued, then joins
//
// Each task receives the index (0..size()-1) of the thread running it, so a
// caller can keep per-thread scratch buffers without locks.
//
// Progress (for a liveness watchdog): completed() counts finished tasks, and
// StalledFor() says how long tasks have waited in the queue with none
// finishing, i.e. how long every thread has been stuck.
//
// Thread-safe: Submit and Stop may be called from any thread (Stop not from
// a task).
#ifndef RECSYS_SERVER_WORKER_POOL_H_
#define RECSYS_SERVER_WORKER_POOL_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace recsys {

struct WorkerPoolOptions {
  // Number of threads, >= 1. Default 1.
  int threads = 1;
};

class WorkerPool {
 public:
  using Task = absl::AnyInvocable<void(int worker)>;

  // Starts the threads. INVALID_ARGUMENT when threads < 1.
  static absl::StatusOr<std::unique_ptr<WorkerPool>> Create(
      const WorkerPoolOptions& options);
  ~WorkerPool();  // Stop()
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  int size() const { return static_cast<int>(threads_.size()); }

  // Queues `task`. Once Stop() has begun, returns false and destroys `task`
  // without running it.
  bool Submit(Task task) ABSL_LOCKS_EXCLUDED(mu_);

  // Tasks queued and not yet started.
  int64_t queued() const ABSL_LOCKS_EXCLUDED(mu_);

  // Tasks running now (0..size()).
  int running() const ABSL_LOCKS_EXCLUDED(mu_);

  // Tasks that have finished running.
  int64_t completed() const ABSL_LOCKS_EXCLUDED(mu_);

  // Zero when no task is queued; otherwise how long, up to `now`, since a
  // task last finished or the queue last went from empty to non-empty,
  // whichever is later. Since an idle thread takes a queued task at once, a
  // long stall means every thread is stuck in a task.
  absl::Duration StalledFor(absl::Time now) const ABSL_LOCKS_EXCLUDED(mu_);

  // Refuses new tasks, runs those already queued, and joins the threads.
  // Idempotent. REQUIRES: not called from a task.
  void Stop() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  explicit WorkerPool(int threads);
  void Run(int worker) ABSL_LOCKS_EXCLUDED(mu_);
  bool HasWorkOrStopping() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  std::vector<std::thread> threads_;  // set in the constructor; joined by Stop

  mutable absl::Mutex mu_;
  std::deque<Task> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool joined_ ABSL_GUARDED_BY(mu_) = false;
  int64_t completed_ ABSL_GUARDED_BY(mu_) = 0;
  int running_ ABSL_GUARDED_BY(mu_) = 0;
  // When a task last finished or the queue last became non-empty.
  absl::Time progress_time_ ABSL_GUARDED_BY(mu_) = absl::Now();
};

}  // namespace recsys

#endif  // RECSYS_SERVER_WORKER_POOL_H_
