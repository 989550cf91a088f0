// DirectoryWatcher: calls a function when a directory may have changed: on
// inotify events in it (after a burst of them settles for 200 ms) and every
// poll_interval in any case (network file systems send no events; the
// directory may not exist yet and is watched once it appears). The model
// store and the history store use it to notice new versions.
//
//   DirectoryWatcher watcher("models/santander", absl::Seconds(10),
//                            /*use_inotify=*/true, [&] { store.Reload(); });
//   watcher.Start();
//   ...
//   watcher.Stop();  // joins; also done by the destructor
//
// Thread-safe: Start and Stop may be called from any thread. `on_change`
// runs on the watcher's own thread, one call at a time.
#ifndef RECSYS_MODEL_STORE_DIR_WATCHER_H_
#define RECSYS_MODEL_STORE_DIR_WATCHER_H_

#include <functional>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace recsys {

class DirectoryWatcher {
 public:
  DirectoryWatcher(std::string dir, absl::Duration poll_interval,
                   bool use_inotify, std::function<void()> on_change);
  ~DirectoryWatcher();  // Stop()
  DirectoryWatcher(const DirectoryWatcher&) = delete;
  DirectoryWatcher& operator=(const DirectoryWatcher&) = delete;

  // Starts the thread. Idempotent.
  void Start() ABSL_LOCKS_EXCLUDED(mu_);
  // Stops and joins it (waiting for a running on_change). Idempotent.
  void Stop() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  void Loop(int stop_fd);

  const std::string dir_;
  const absl::Duration poll_interval_;
  const bool use_inotify_;
  const std::function<void()> on_change_;

  absl::Mutex mu_;
  std::thread thread_ ABSL_GUARDED_BY(mu_);
  int stop_fd_ ABSL_GUARDED_BY(mu_) = -1;
};

}  // namespace recsys

#endif  // RECSYS_MODEL_STORE_DIR_WATCHER_H_
