// Process signals for recsys-server, handled on a dedicated thread with
// sigwait(2): no work ever runs in an asynchronous signal handler.
//
//   int main(int argc, char** argv) {
//     ParseFlags(argc, argv);
//     BlockServerSignals();             // before any other thread starts
//     ... create and start the server ...
//     SignalThread signals([&] { server->ReloadAsync("SIGHUP"); },
//                          [&](int) { server->Shutdown(); });
//     server->Wait();
//   }
//
// SIGHUP calls `on_reload` (and waiting goes on); the first SIGTERM or SIGINT
// calls `on_stop` with the signal number and ends the thread.
#ifndef RECSYS_SERVER_SIGNAL_THREAD_H_
#define RECSYS_SERVER_SIGNAL_THREAD_H_

#include <functional>
#include <thread>

namespace recsys {

// Blocks SIGTERM, SIGINT and SIGHUP in the calling thread; threads created
// afterwards inherit the mask, so the signals wait for SignalThread.
void BlockServerSignals();

// Not thread-safe; owned by main.
class SignalThread {
 public:
  // Starts the thread. REQUIRES: BlockServerSignals() was called before any
  // thread was created.
  SignalThread(std::function<void()> on_reload,
               std::function<void(int)> on_stop);
  // Joins the thread: REQUIRES that a SIGTERM or SIGINT has arrived (or
  // arrives), e.g. after the server's Wait() returned.
  ~SignalThread();
  SignalThread(const SignalThread&) = delete;
  SignalThread& operator=(const SignalThread&) = delete;

 private:
  std::thread thread_;
};

}  // namespace recsys

#endif  // RECSYS_SERVER_SIGNAL_THREAD_H_
