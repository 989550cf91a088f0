#include "server/reload_history.h"

#include <utility>

namespace recsys {

absl::string_view ReloadEvent::KindName(Kind kind) {
  switch (kind) {
    case kLoaded:
      return "loaded";
    case kFailed:
      return "failed";
    case kSwap:
      return "swap";
    case kChallenger:
      return "challenger";
  }
  return "unknown";
}

void ReloadHistory::Add(ReloadEvent event) {
  if (event.text.size() > kMaxReloadText) {
    event.text.resize(kMaxReloadText - 3);
    event.text += "...";
  }
  absl::MutexLock lock(&mu_);
  if (static_cast<int>(events_.size()) == capacity_) events_.pop_front();
  events_.push_back(std::move(event));
}

std::vector<ReloadEvent> ReloadHistory::Events() const {
  absl::MutexLock lock(&mu_);
  return std::vector<ReloadEvent>(events_.begin(), events_.end());
}

}  // namespace recsys
