// ServerProcess: the real recsys-server program, started as a subprocess on a
// free port over a temporary model store, for tests that need a whole process
// (its memory, its CPU time, signals, its log) rather than an in-process
// RecsysServer.
//
//   ServerProcessOptions options;
//   options.args = {"--workers=2"};
//   absl::StatusOr<std::unique_ptr<ServerProcess>> server =
//       ServerProcess::Start(options);            // waits for SERVING
//   ASSERT_TRUE(server.ok()) << server.status();
//   Connect((*server)->address());
//   absl::StatusOr<ProcessMemory> memory = (*server)->Memory();
//   (*server)->Signal(SIGTERM);
//   absl::StatusOr<int> code = (*server)->WaitExit(absl::Seconds(30));
//
// The process writes stdout and stderr to a log file in its temporary
// directory (a file, not a pipe, so a server that logs a lot never blocks on a
// reader); Log() reads it. The destructor kills the process (SIGKILL) if it
// still runs and removes the directory.
//
// ReadProcessMemory and ReadProcessCpuSeconds work on any pid (e.g. a server
// started by hand, from recsys-hostile).
//
// Thread-compatible: one thread at a time per ServerProcess.
#ifndef RECSYS_TESTS_SERVER_PROCESS_H_
#define RECSYS_TESTS_SERVER_PROCESS_H_

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace recsys::testing {

// Memory of a process from /proc/PID/status, in bytes.
struct ProcessMemory {
  int64_t rss = 0;       // VmRSS: resident now
  int64_t peak_rss = 0;  // VmHWM: the highest resident size since it started
};

// NOT_FOUND when the process does not exist, INTERNAL when the file does not
// hold the fields.
absl::StatusOr<ProcessMemory> ReadProcessMemory(pid_t pid);

// User plus system CPU time the process has used, in seconds
// (/proc/PID/stat utime + stime). NOT_FOUND / INTERNAL as above.
absl::StatusOr<double> ReadProcessCpuSeconds(pid_t pid);

struct ServerProcessOptions {
  // The program. Default: recsys-server of this build.
  std::string binary;
  // Arguments after --store, --port=0 and --metrics-port=0 (which are always
  // given), e.g. {"--workers=2"}. Default none.
  std::vector<std::string> args;
  // Publish the trained test bundle (tests/trained_fixture.h) as version 1
  // of "santander" before starting. Default true.
  bool install_bundle = true;
  // Wait for health "" SERVING (a model serves) in Start(); when false, only
  // for "listening on". Default true.
  bool wait_serving = true;
  // How long Start() waits. Default 120 s.
  absl::Duration start_timeout = absl::Seconds(120);
};

class ServerProcess {
 public:
  // Makes the store, spawns the server and waits for it (see options).
  // INTERNAL when it cannot be spawned, DEADLINE_EXCEEDED (with the log) when
  // it does not come up in time, FAILED_PRECONDITION (with the log) when it
  // exits first.
  static absl::StatusOr<std::unique_ptr<ServerProcess>> Start(
      const ServerProcessOptions& options);
  ~ServerProcess();  // SIGKILL if running; removes the directory
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  pid_t pid() const { return pid_; }
  int port() const { return port_; }
  std::string address() const;  // "127.0.0.1:PORT"
  const std::string& store_dir() const { return store_dir_; }

  // Everything the process has written to stdout and stderr so far.
  std::string Log() const;

  // ReadProcessMemory / ReadProcessCpuSeconds of this process.
  absl::StatusOr<ProcessMemory> Memory() const;
  absl::StatusOr<double> CpuSeconds() const;

  // Sends `signal`. FAILED_PRECONDITION once the process has been reaped.
  absl::Status Signal(int signal);

  // Whether the process still runs (reaps it if it has exited).
  bool Running();

  // Waits up to `timeout` for the process to exit: its exit code, or
  // 128 + signal when a signal ended it. DEADLINE_EXCEEDED when it still
  // runs (it is left running).
  absl::StatusOr<int> WaitExit(absl::Duration timeout);

 private:
  ServerProcess() = default;

  std::string dir_;
  std::string store_dir_;
  std::string log_path_;
  pid_t pid_ = -1;
  bool reaped_ = false;
  int exit_code_ = 0;
  int port_ = 0;
};

}  // namespace recsys::testing

#endif  // RECSYS_TESTS_SERVER_PROCESS_H_
