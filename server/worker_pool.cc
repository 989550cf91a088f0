#include "server/worker_pool.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace recsys {

absl::StatusOr<std::unique_ptr<WorkerPool>> WorkerPool::Create(
    const WorkerPoolOptions& options) {
  if (options.threads < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "worker pool: threads must be at least 1, got ", options.threads));
  }
  return std::unique_ptr<WorkerPool>(new WorkerPool(options.threads));
}

WorkerPool::WorkerPool(int threads) {
  threads_.reserve(threads);
  for (int i = 0; i < threads; ++i)
    threads_.emplace_back([this, i] { Run(i); });
}

WorkerPool::~WorkerPool() { Stop(); }

bool WorkerPool::Submit(Task task) {
  absl::MutexLock lock(&mu_);
  if (stopping_) return false;
  if (queue_.empty()) progress_time_ = absl::Now();
  queue_.push_back(std::move(task));
  return true;
}

int64_t WorkerPool::queued() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int64_t>(queue_.size());
}

int WorkerPool::running() const {
  absl::MutexLock lock(&mu_);
  return running_;
}

int64_t WorkerPool::completed() const {
  absl::MutexLock lock(&mu_);
  return completed_;
}

absl::Duration WorkerPool::StalledFor(absl::Time now) const {
  absl::MutexLock lock(&mu_);
  if (queue_.empty()) return absl::ZeroDuration();
  return std::max(absl::ZeroDuration(), now - progress_time_);
}

void WorkerPool::Stop() {
  {
    absl::MutexLock lock(&mu_);
    if (joined_) return;
    stopping_ = true;
    joined_ = true;
  }
  for (std::thread& t : threads_) t.join();
}

bool WorkerPool::HasWorkOrStopping() const {
  return stopping_ || !queue_.empty();
}

void WorkerPool::Run(int worker) {
  bool ran = false;
  while (true) {
    Task task;
    {
      absl::MutexLock lock(&mu_);
      if (ran) {  // counted here: no second lock per task
        ++completed_;
        --running_;
        progress_time_ = absl::Now();
      }
      mu_.Await(absl::Condition(this, &WorkerPool::HasWorkOrStopping));
      if (queue_.empty()) return;  // stopping and drained
      task = std::move(queue_.front());
      queue_.pop_front();
      ++running_;
    }
    task(worker);
    task = nullptr;  // its captures are destroyed before it counts as done
    ran = true;
  }
}

}  // namespace recsys
