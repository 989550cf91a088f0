#include "model_store/dir_watcher.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <utility>

namespace recsys {

DirectoryWatcher::DirectoryWatcher(std::string dir,
                                   absl::Duration poll_interval,
                                   bool use_inotify,
                                   std::function<void()> on_change)
    : dir_(std::move(dir)),
      poll_interval_(poll_interval),
      use_inotify_(use_inotify),
      on_change_(std::move(on_change)) {}

DirectoryWatcher::~DirectoryWatcher() { Stop(); }

void DirectoryWatcher::Start() {
  absl::MutexLock lock(&mu_);
  if (thread_.joinable()) return;
  stop_fd_ = ::eventfd(0, EFD_CLOEXEC);
  const int stop_fd = stop_fd_;
  thread_ = std::thread([this, stop_fd] { Loop(stop_fd); });
}

void DirectoryWatcher::Stop() {
  std::thread thread;
  int stop_fd = -1;
  {
    absl::MutexLock lock(&mu_);
    if (!thread_.joinable()) return;
    thread = std::move(thread_);
    stop_fd = stop_fd_;
    stop_fd_ = -1;
  }
  const uint64_t one = 1;
  (void)!::write(stop_fd, &one, sizeof(one));
  thread.join();
  ::close(stop_fd);
}

void DirectoryWatcher::Loop(int stop_fd) {
  int inotify_fd = -1;
  int watch = -1;
  const int poll_ms =
      static_cast<int>(absl::ToInt64Milliseconds(poll_interval_));
  while (true) {
    if (use_inotify_ && watch < 0) {
      // (Re)arm: the directory may appear after the watcher starts.
      if (inotify_fd < 0)
        inotify_fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
      if (inotify_fd >= 0) {
        watch = ::inotify_add_watch(inotify_fd, dir_.c_str(),
                                    IN_MOVED_TO | IN_CREATE | IN_DELETE |
                                        IN_CLOSE_WRITE | IN_DELETE_SELF |
                                        IN_MOVE_SELF);
      }
    }
    pollfd fds[2] = {{stop_fd, POLLIN, 0}, {inotify_fd, POLLIN, 0}};
    const int n = ::poll(fds, watch >= 0 ? 2 : 1, poll_ms);
    if (n < 0 && errno != EINTR) break;
    if (fds[0].revents & POLLIN) break;
    if (watch >= 0 && (fds[1].revents & POLLIN)) {
      // Drain the events, then let a burst of them settle before scanning.
      alignas(inotify_event) char buf[4096];
      bool self_gone = false;
      while (true) {
        const ssize_t len = ::read(inotify_fd, buf, sizeof(buf));
        if (len <= 0) break;
        for (char* p = buf; p < buf + len;) {
          auto* event = reinterpret_cast<inotify_event*>(p);
          if (event->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED))
            self_gone = true;
          p += sizeof(inotify_event) + event->len;
        }
      }
      if (self_gone) watch = -1;
      pollfd stop = {stop_fd, POLLIN, 0};
      if (::poll(&stop, 1, 200) > 0) break;
    }
    on_change_();
  }
  if (inotify_fd >= 0) ::close(inotify_fd);
}

}  // namespace recsys
