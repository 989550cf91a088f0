// recsys-hostile: runs one hostile-client attack (tests/hostile.h) against a
// running recsys-server and prints what happened and, given the server's pid,
// its memory and CPU time before, during and after. For measuring by hand;
// the hostile e2e tests run the same attacks with assertions.
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/command_line.h"
#include "tests/hostile.h"
#include "tests/server_process.h"

ABSL_FLAG(std::string, address, "",
          "The server's gRPC address, HOST:PORT (required).");
ABSL_FLAG(int32_t, pid, 0,
          "The server's process id (on this machine): its RSS (VmRSS, VmHWM) "
          "and CPU time are printed before, during and after. 0: not "
          "measured.");
ABSL_FLAG(std::string, attack, "",
          "flood: streams that send big messages and never read; "
          "rapid-reset: HTTP/2 HEADERS + RST_STREAM pairs on one connection; "
          "garbage-stream: a RecommendStream whose 2nd of 4 messages does not "
          "parse; garbage-unary: Recommend calls whose request is not a "
          "protobuf message.");
ABSL_FLAG(std::string, csv, "",
          "flood, garbage-stream: a Santander CSV file (e.g. test_ver2.csv); "
          "its first clean row is the customer every row repeats (required "
          "for these attacks).");
ABSL_FLAG(int32_t, streams, 50, "flood: streams on one connection.");
ABSL_FLAG(int64_t, message_bytes, 4 << 20,
          "flood: bytes per message (rows are padded with an unknown field).");
ABSL_FLAG(int32_t, rows_per_message, 4096, "flood: rows per message.");
ABSL_FLAG(int32_t, seconds, 20,
          "flood: seconds before the streams are cancelled.");
ABSL_FLAG(int32_t, after_seconds, 10,
          "flood: seconds the server's memory is watched after the streams "
          "are cancelled; rapid-reset: seconds to wait for the server's "
          "GOAWAY (or its closing the connection) after the last pair.");
ABSL_FLAG(int32_t, pairs, 20000, "rapid-reset: HEADERS + RST_STREAM pairs.");
ABSL_FLAG(int32_t, calls, 1000, "garbage-unary: calls.");
ABSL_FLAG(std::string, path, "/santander.recsys.v1.Recommender/Recommend",
          "rapid-reset: the method each HEADERS frame opens.");

namespace {

using recsys::testing::ProcessMemory;

const recsys::CommandSpec& Command() {
  static const auto* const kCommand = new recsys::CommandSpec{
      .name = "recsys-hostile",
      .summary =
          "runs one hostile-client attack against a recsys-server and "
          "prints what happened.",
      .usage = {"recsys-hostile --address HOST:PORT --attack ATTACK [--pid "
                "PID] [flags]"},
      .description =
          "For measuring by hand; tests/hostile_e2e_test runs the same "
          "attacks with assertions. Given --pid, the server's memory (RSS, "
          "VmHWM) and CPU time are printed before, during and after the "
          "attack.\n\n"
          "Examples:\n"
          "  recsys-hostile --address 127.0.0.1:50051 --pid PID \\\n"
          "      --attack flood --csv test_ver2.csv\n"
          "  recsys-hostile --address 127.0.0.1:50051 --pid PID \\\n"
          "      --attack rapid-reset --pairs 20000",
      .flags = {{"Flags", {"address", "pid", "attack", "csv"}},
                {"Attack sizes",
                 {"streams", "message_bytes", "rows_per_message", "seconds",
                  "after_seconds", "pairs", "calls", "path"}}},
      .required = {"address", "attack"},
      .exit_status =
          "0 the attack ran (whatever the server did); 1 the "
          "attack could not run; 2 usage error."};
  return *kCommand;
}

double MiB(int64_t bytes) { return static_cast<double>(bytes) / (1 << 20); }

// Memory and CPU of --pid, sampled.
class Probe {
 public:
  explicit Probe(pid_t pid) : pid_(pid) {}
  bool enabled() const { return pid_ > 0; }
  void Sample() {
    if (!enabled()) return;
    absl::StatusOr<ProcessMemory> m = recsys::testing::ReadProcessMemory(pid_);
    if (!m.ok()) return;
    last_ = *m;
    peak_sampled_ = std::max(peak_sampled_, m->rss);
  }
  void Print(const std::string& when) {
    if (!enabled()) return;
    Sample();
    absl::StatusOr<double> cpu = recsys::testing::ReadProcessCpuSeconds(pid_);
    std::printf("%-22s RSS %8.1f MiB  VmHWM %8.1f MiB  CPU %8.2f s\n",
                when.c_str(), MiB(last_.rss), MiB(last_.peak_rss),
                cpu.ok() ? *cpu : -1.0);
  }
  double Cpu() const {
    absl::StatusOr<double> cpu = recsys::testing::ReadProcessCpuSeconds(pid_);
    return cpu.ok() ? *cpu : 0;
  }
  int64_t peak_sampled() const { return peak_sampled_; }
  void ResetPeak() { peak_sampled_ = 0; }

 private:
  pid_t pid_;
  ProcessMemory last_;
  int64_t peak_sampled_ = 0;
};

void WatchAfter(Probe* probe, int seconds) {
  if (!probe->enabled()) return;
  for (int s = 1; s <= seconds; ++s) {
    absl::SleepFor(absl::Seconds(1));
    if (s == 1 || s == seconds || s % 5 == 0)
      probe->Print(absl::StrCat("after +", s, "s"));
  }
}

int Fail(int code, const std::string& message) {
  std::fprintf(stderr, "recsys-hostile: %s\n", message.c_str());
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  const recsys::ParsedCommand command =
      recsys::ParseCommand(Command(), argc, argv);
  if (command.exit_code) return *command.exit_code;
  const std::string address = absl::GetFlag(FLAGS_address);
  const std::string attack = absl::GetFlag(FLAGS_attack);
  Probe probe(absl::GetFlag(FLAGS_pid));
  probe.Print("before");
  const double cpu_before = probe.Cpu();
  const absl::Time start = absl::Now();

  if (attack == "flood" || attack == "garbage-stream") {
    if (absl::GetFlag(FLAGS_csv).empty())
      return recsys::UsageError(Command().name,
                                "--csv is required for --attack=" + attack);
    absl::StatusOr<recsys::v1::ScoreRow> row =
        recsys::testing::FirstCleanRow(absl::GetFlag(FLAGS_csv));
    if (!row.ok()) return Fail(1, std::string(row.status().message()));
    if (attack == "flood") {
      recsys::testing::FloodOptions options;
      options.streams = absl::GetFlag(FLAGS_streams);
      options.message_bytes = absl::GetFlag(FLAGS_message_bytes);
      options.rows_per_message = absl::GetFlag(FLAGS_rows_per_message);
      options.duration = absl::Seconds(absl::GetFlag(FLAGS_seconds));
      options.row = *row;
      int64_t printed = 0;  // whole seconds printed so far
      options.on_tick = [&] {
        probe.Sample();
        const int64_t s = absl::ToInt64Seconds(absl::Now() - start);
        if (s >= printed + 2) {
          printed = s;
          probe.Print(absl::StrCat("during +", s, "s"));
        }
      };
      recsys::testing::FloodResult result =
          recsys::testing::FloodWithUnreadStreams(address, options);
      std::printf(
          "flood: %d streams, messages of %.2f MiB, %lld sent (%.1f MiB) in "
          "%.1f s; statuses: %s; no status: %lld\n",
          options.streams, MiB(result.message_size),
          static_cast<long long>(result.messages_sent), MiB(result.bytes_sent),
          absl::ToDoubleSeconds(absl::Now() - start),
          recsys::testing::FormatStatusCounts(result.statuses).c_str(),
          static_cast<long long>(result.no_status));
      if (probe.enabled())
        std::printf("peak RSS sampled during the attack: %.1f MiB\n",
                    MiB(probe.peak_sampled()));
      probe.Print("at cancel");
      WatchAfter(&probe, absl::GetFlag(FLAGS_after_seconds));
    } else {
      recsys::testing::RawStreamResult result = recsys::testing::RawStream(
          address, {recsys::testing::StreamMessageBytes(*row, 1),
                    recsys::testing::InvalidUtf8StreamMessage(*row, 2),
                    recsys::testing::StreamMessageBytes(*row, 3),
                    recsys::testing::StreamMessageBytes(*row, 4)});
      std::vector<std::string> ids;
      for (uint64_t id : result.AnsweredRowIds())
        ids.push_back(absl::StrCat(id));
      std::printf(
          "garbage-stream: sent row ids 1-4 (2 does not parse); answered: "
          "[%s]; status: %s \"%s\"\n",
          absl::StrJoin(ids, ",").c_str(),
          result.got_status ? recsys::testing::FormatStatusCounts(
                                  {{result.status.error_code(), 1}})
                                  .c_str()
                            : "none (hung)",
          result.status.error_message().c_str());
    }
  } else if (attack == "rapid-reset") {
    recsys::testing::RapidResetOptions options;
    options.pairs = absl::GetFlag(FLAGS_pairs);
    options.linger = absl::Seconds(absl::GetFlag(FLAGS_after_seconds));
    options.path = absl::GetFlag(FLAGS_path);
    absl::StatusOr<recsys::testing::RapidResetResult> result =
        recsys::testing::RapidReset(address, options);
    if (!result.ok()) return Fail(1, std::string(result.status().message()));
    const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
    std::printf(
        "rapid-reset: %lld of %d pairs sent in %.2f s; GOAWAY: %s; closed by "
        "the server: %s; frames received: %lld (RST_STREAM %lld, HEADERS "
        "%lld)\n",
        static_cast<long long>(result->pairs_sent), options.pairs, seconds,
        result->goaway
            ? absl::StrFormat("yes (error %u, last stream %u, \"%s\")",
                              result->goaway_error, result->goaway_last_stream,
                              result->goaway_debug)
                  .c_str()
            : "no",
        result->closed_by_server ? "yes" : "no",
        static_cast<long long>(result->frames_received),
        static_cast<long long>(result->rst_received),
        static_cast<long long>(result->headers_received));
    if (probe.enabled()) {
      // The server may still be working through the frames: wait until its
      // CPU time stops growing (at most 30 s).
      double last = probe.Cpu();
      for (int i = 0; i < 300; ++i) {
        absl::SleepFor(absl::Milliseconds(100));
        const double now = probe.Cpu();
        if (now == last && i >= 5) break;
        last = now;
      }
      std::printf("server CPU for the attack: %.2f s\n",
                  probe.Cpu() - cpu_before);
      probe.Print("after");
    }
  } else if (attack == "garbage-unary") {
    recsys::testing::RawUnaryResult result = recsys::testing::RawUnaryCalls(
        address, "/santander.recsys.v1.Recommender/Recommend",
        recsys::testing::GarbageBytes(), absl::GetFlag(FLAGS_calls));
    std::printf(
        "garbage-unary: %d calls in %.2f s; statuses: %s; no status: "
        "%lld\n",
        absl::GetFlag(FLAGS_calls), absl::ToDoubleSeconds(absl::Now() - start),
        recsys::testing::FormatStatusCounts(result.statuses).c_str(),
        static_cast<long long>(result.no_status));
    for (const std::string& m : result.messages)
      std::printf("  message: \"%s\"\n", m.c_str());
    probe.Print("after");
  } else {
    return recsys::UsageError(
        Command().name,
        absl::StrCat("--attack must be flood, rapid-reset, garbage-stream or "
                     "garbage-unary, got \"",
                     attack, "\""));
  }
  return 0;
}
