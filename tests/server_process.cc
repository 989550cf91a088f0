#include "tests/server_process.h"

#include <fcntl.h>
#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "tests/trained_fixture.h"

extern char** environ;

namespace recsys::testing {
namespace {

constexpr char kListening[] = "listening on 127.0.0.1:";

std::string ReadWholeFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// "KEY:   123 kB" -> bytes.
bool ParseKbLine(absl::string_view line, absl::string_view key,
                 int64_t* bytes) {
  if (!absl::ConsumePrefix(&line, key)) return false;
  line = absl::StripAsciiWhitespace(line);
  if (!absl::ConsumeSuffix(&line, "kB")) return false;
  int64_t kb = 0;
  if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(line), &kb)) return false;
  *bytes = kb * 1024;
  return true;
}

bool HealthServing(const std::string& address) {
  auto channel =
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  auto stub = grpc::health::v1::Health::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(2));
  grpc::health::v1::HealthCheckRequest request;
  grpc::health::v1::HealthCheckResponse response;
  return stub->Check(&context, request, &response).ok() &&
         response.status() == grpc::health::v1::HealthCheckResponse::SERVING;
}

}  // namespace

absl::StatusOr<ProcessMemory> ReadProcessMemory(pid_t pid) {
  const std::string path = absl::StrCat("/proc/", pid, "/status");
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("no process ", pid));
  ProcessMemory memory;
  bool rss = false, hwm = false;
  std::string line;
  while (std::getline(in, line)) {
    rss = rss || ParseKbLine(line, "VmRSS:", &memory.rss);
    hwm = hwm || ParseKbLine(line, "VmHWM:", &memory.peak_rss);
  }
  if (!rss || !hwm) {
    return absl::InternalError(
        absl::StrCat(path, " has no VmRSS/VmHWM (a zombie?)"));
  }
  return memory;
}

absl::StatusOr<double> ReadProcessCpuSeconds(pid_t pid) {
  const std::string path = absl::StrCat("/proc/", pid, "/stat");
  const std::string text = ReadWholeFile(path);
  if (text.empty())
    return absl::NotFoundError(absl::StrCat("no process ", pid));
  // "PID (COMM) STATE ...": COMM may hold spaces and parentheses, so fields
  // are counted from the last ')'. utime and stime are fields 14 and 15.
  const size_t close = text.rfind(')');
  if (close == std::string::npos)
    return absl::InternalError(absl::StrCat(path, " does not parse"));
  std::vector<absl::string_view> fields = absl::StrSplit(
      absl::string_view(text).substr(close + 1), ' ', absl::SkipEmpty());
  // fields[0] is STATE (field 3), so field N is fields[N - 3].
  int64_t utime = 0, stime = 0;
  if (fields.size() < 13 || !absl::SimpleAtoi(fields[11], &utime) ||
      !absl::SimpleAtoi(fields[12], &stime)) {
    return absl::InternalError(absl::StrCat(path, " does not parse"));
  }
  return static_cast<double>(utime + stime) /
         static_cast<double>(::sysconf(_SC_CLK_TCK));
}

absl::StatusOr<std::unique_ptr<ServerProcess>> ServerProcess::Start(
    const ServerProcessOptions& options) {
  std::unique_ptr<ServerProcess> p(new ServerProcess());
  p->dir_ = NewTempDir("recsys-server-process");
  p->store_dir_ = p->dir_ + "/store";
  p->log_path_ = p->dir_ + "/server.log";
  std::filesystem::create_directories(p->store_dir_);
  if (options.install_bundle) {
    absl::StatusOr<TrainedFixture> fixture = GetTrainedFixture();
    if (!fixture.ok()) return fixture.status();
    absl::StatusOr<std::string> bundle = InstallBundle(
        fixture->bundle_dir, p->store_dir_, fixture->model_name, 1);
    if (!bundle.ok()) return bundle.status();
  }

  std::vector<std::string> args = {
      options.binary.empty() ? std::string(RECSYS_BIN_DIR "/recsys-server")
                             : options.binary,
      "--store=" + p->store_dir_, "--port=0", "--metrics-port=0"};
  args.insert(args.end(), options.args.begin(), options.args.end());
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, p->log_path_.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  const int rc =
      posix_spawn(&p->pid_, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    p->pid_ = -1;
    return absl::InternalError(
        absl::StrCat("cannot start ", args[0], ": ", std::strerror(rc)));
  }

  const absl::Time deadline = absl::Now() + options.start_timeout;
  while (true) {
    if (!p->Running()) {
      return absl::FailedPreconditionError(
          absl::StrCat(args[0], " exited with ", p->exit_code_,
                       " while starting; its log:\n", p->Log()));
    }
    if (p->port_ == 0) {
      const std::string log = p->Log();
      const size_t at = log.find(kListening);
      if (at != std::string::npos) {
        const size_t start = at + std::strlen(kListening);
        const size_t end = log.find('\n', start);
        if (end != std::string::npos)
          (void)absl::SimpleAtoi(log.substr(start, end - start), &p->port_);
      }
    }
    if (p->port_ != 0 &&
        (!options.wait_serving || HealthServing(p->address()))) {
      return p;
    }
    if (absl::Now() > deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat(args[0], " did not come up in ",
                       absl::FormatDuration(options.start_timeout),
                       "; its log:\n", p->Log()));
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
}

ServerProcess::~ServerProcess() {
  if (pid_ > 0 && !reaped_) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  std::error_code ec;
  if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
}

std::string ServerProcess::address() const {
  return absl::StrCat("127.0.0.1:", port_);
}

std::string ServerProcess::Log() const { return ReadWholeFile(log_path_); }

absl::StatusOr<ProcessMemory> ServerProcess::Memory() const {
  return ReadProcessMemory(pid_);
}

absl::StatusOr<double> ServerProcess::CpuSeconds() const {
  return ReadProcessCpuSeconds(pid_);
}

absl::Status ServerProcess::Signal(int signal) {
  if (pid_ <= 0 || reaped_)
    return absl::FailedPreconditionError("the server process has exited");
  if (::kill(pid_, signal) != 0)
    return absl::InternalError(absl::StrCat("kill: ", std::strerror(errno)));
  return absl::OkStatus();
}

bool ServerProcess::Running() {
  if (pid_ <= 0 || reaped_) return false;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) != pid_) return true;
  reaped_ = true;
  exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return false;
}

absl::StatusOr<int> ServerProcess::WaitExit(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (Running()) {
    if (absl::Now() > deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat("the server process still runs after ",
                       absl::FormatDuration(timeout)));
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
  return exit_code_;
}

}  // namespace recsys::testing
