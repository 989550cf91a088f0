#include "server/signal_thread.h"

#include <pthread.h>
#include <signal.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "server/event_log.h"

namespace recsys {
namespace {

sigset_t ServerSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  return set;
}

}  // namespace

void BlockServerSignals() {
  const sigset_t set = ServerSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

SignalThread::SignalThread(std::function<void()> on_reload,
                           std::function<void(int)> on_stop)
    : thread_([on_reload = std::move(on_reload), on_stop = std::move(on_stop)] {
        const sigset_t set = ServerSignals();
        while (true) {
          int signal = 0;
          if (sigwait(&set, &signal) != 0) continue;
          if (signal == SIGHUP) {
            LogEvent("received SIGHUP");
            if (on_reload) on_reload();
            continue;
          }
          LogEvent(absl::StrCat("received ",
                                signal == SIGINT ? "SIGINT" : "SIGTERM"));
          if (on_stop) on_stop(signal);
          return;
        }
      }) {}

SignalThread::~SignalThread() {
  if (thread_.joinable()) thread_.join();
}

}  // namespace recsys
