#include "server/request_memory.h"

#include <algorithm>
#include <utility>
#include <vector>

namespace recsys {

void RequestMemoryBudget::Reserve(int64_t bytes, Granted granted) {
  bytes = std::clamp<int64_t>(bytes, 0, capacity_);
  {
    absl::MutexLock lock(&mu_);
    if (!waiters_.empty() || in_use_ + bytes > capacity_) {
      waiters_.push_back({bytes, std::move(granted)});
      return;
    }
    in_use_ += bytes;
  }
  std::move(granted)(bytes);
}

void RequestMemoryBudget::Release(int64_t bytes) {
  std::vector<Waiter> ready;
  {
    absl::MutexLock lock(&mu_);
    in_use_ -= bytes;
    while (!waiters_.empty() &&
           in_use_ + waiters_.front().bytes <= capacity_) {
      in_use_ += waiters_.front().bytes;
      ready.push_back(std::move(waiters_.front()));
      waiters_.pop_front();
    }
  }
  for (Waiter& waiter : ready) std::move(waiter.granted)(waiter.bytes);
}

int64_t RequestMemoryBudget::in_use() const {
  absl::MutexLock lock(&mu_);
  return in_use_;
}

int64_t RequestMemoryBudget::waiting() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int64_t>(waiters_.size());
}

}  // namespace recsys
