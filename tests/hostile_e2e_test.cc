// Hostile clients against the real recsys-server program (a subprocess, so
// that its whole memory and CPU time are measured): after each attack every
// call has a status (none hangs), health "" and "liveness" still say
// SERVING, and an ordinary Recommend call is still answered. The server's
// peak memory (VmHWM) and CPU time are printed for each attack.
//
// The attacks are the breaks of issue 10, scaled down to keep this suite
// within ~30 s; recsys-hostile runs them at full size by hand.
#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "proto/api.h"
#include "server/memory_bound.h"
#include "server/server.h"
#include "tests/hostile.h"
#include "tests/server_process.h"
#include "tests/trained_fixture.h"

namespace recsys {
namespace {

using testing::ProcessMemory;
using testing::ServerProcess;
using Health = grpc::health::v1::HealthCheckResponse;

double MiB(int64_t bytes) { return static_cast<double>(bytes) / (1 << 20); }

class HostileE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<testing::TrainedFixture> fixture =
        testing::GetTrainedFixture();
    ASSERT_TRUE(fixture.ok()) << fixture.status();
    absl::StatusOr<v1::ScoreRow> row =
        testing::FirstCleanRow(fixture->test_csv);
    ASSERT_TRUE(row.ok()) << row.status();
    row_ = *row;
    testing::ServerProcessOptions options;
    options.args = {"--workers=2", "--grace-period=2s"};
    absl::StatusOr<std::unique_ptr<ServerProcess>> server =
        ServerProcess::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    absl::StatusOr<ProcessMemory> memory = server_->Memory();
    ASSERT_TRUE(memory.ok()) << memory.status();
    baseline_ = *memory;
  }

  void TearDown() override {
    if (server_ == nullptr) return;
    // The server still shuts down cleanly after the attack.
    ASSERT_TRUE(server_->Signal(SIGTERM).ok());
    absl::StatusOr<int> code = server_->WaitExit(absl::Seconds(30));
    EXPECT_TRUE(code.ok() && *code == 0)
        << (code.ok() ? absl::StrCat("exit code ", *code)
                      : std::string(code.status().message()))
        << "\n"
        << server_->Log().substr(0, 20000);
  }

  std::string address() const { return server_->address(); }

  grpc::health::v1::HealthCheckResponse::ServingStatus HealthOf(
      const std::string& service) {
    auto stub = grpc::health::v1::Health::NewStub(
        grpc::CreateChannel(address(), grpc::InsecureChannelCredentials()));
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(10));
    grpc::health::v1::HealthCheckRequest request;
    request.set_service(service);
    Health response;
    grpc::Status status = stub->Check(&context, request, &response);
    EXPECT_TRUE(status.ok()) << service << ": " << status.error_message();
    return response.status();
  }

  // What every attack must leave: a live, ready server that still answers.
  void ExpectStillServes() {
    ASSERT_TRUE(server_->Running()) << server_->Log().substr(0, 20000);
    EXPECT_EQ(HealthOf(""), Health::SERVING);
    EXPECT_EQ(HealthOf(kLivenessService), Health::SERVING);
    auto stub = v1::Recommender::NewStub(
        grpc::CreateChannel(address(), grpc::InsecureChannelCredentials()));
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(10));
    v1::RecommendRequest request;
    *request.mutable_customer() = row_.customer();
    v1::RecommendResponse response;
    const grpc::Status status = stub->Recommend(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    EXPECT_GT(response.recommendations_size(), 0);
  }

  ProcessMemory MemoryNow() {
    absl::StatusOr<ProcessMemory> memory = server_->Memory();
    EXPECT_TRUE(memory.ok()) << memory.status();
    return memory.ok() ? *memory : ProcessMemory{};
  }

  double CpuNow() {
    absl::StatusOr<double> cpu = server_->CpuSeconds();
    EXPECT_TRUE(cpu.ok()) << cpu.status();
    return cpu.ok() ? *cpu : 0;
  }

  v1::ScoreRow row_;
  std::unique_ptr<ServerProcess> server_;
  ProcessMemory baseline_;
};

// Issue 10 item 6: streams on one connection that send big messages and
// never read their answers.
TEST_F(HostileE2eTest, FloodOfUnreadStreams) {
  testing::FloodOptions flood;
  flood.streams = 20;
  flood.message_bytes = 2 << 20;
  flood.rows_per_message = 2048;
  flood.duration = absl::Seconds(6);
  flood.row = row_;
  int64_t peak_sampled = 0;
  flood.on_tick = [&] {
    absl::StatusOr<ProcessMemory> m = server_->Memory();
    if (m.ok()) peak_sampled = std::max(peak_sampled, m->rss);
  };
  const testing::FloodResult result =
      testing::FloodWithUnreadStreams(address(), flood);
  const ProcessMemory at_cancel = MemoryNow();
  std::printf(
      "[flood] %d streams x %.2f MiB messages for %s: %lld messages sent; "
      "statuses %s\n"
      "[flood] server RSS: baseline %.1f MiB, peak sampled %.1f MiB, VmHWM "
      "%.1f MiB, at cancel %.1f MiB\n",
      flood.streams, MiB(result.message_size),
      absl::FormatDuration(flood.duration).c_str(),
      static_cast<long long>(result.messages_sent),
      testing::FormatStatusCounts(result.statuses).c_str(), MiB(baseline_.rss),
      MiB(peak_sampled), MiB(at_cancel.peak_rss), MiB(at_cancel.rss));

  EXPECT_EQ(result.no_status, 0) << "streams without a status (hung)";
  int64_t ended = 0;
  for (const auto& [code, n] : result.statuses) ended += n;
  EXPECT_EQ(ended, flood.streams);
  EXPECT_GT(result.messages_sent, 0);
  ExpectStillServes();
  absl::SleepFor(absl::Seconds(1));
  const ProcessMemory after = MemoryNow();
  std::printf("[flood] server RSS 1 s after cancel and a call: %.1f MiB\n",
              MiB(after.rss));

  // ---- Memory bound of the server under this flood (issue 10 item 6) ----
  // The server's peak resident memory stays under its stated bound: what it
  // held idle plus the bound computed from its flags (server/memory_bound.h;
  // the subprocess runs with the defaults).
  RecsysServerOptions defaults;
  const int64_t bound = TrafficMemoryBound(MemoryBoundOf(defaults));
  const int64_t kPeakBound = baseline_.peak_rss + bound;
  std::printf("[flood] stated bound: %.1f MiB idle + %.1f MiB traffic\n",
              MiB(baseline_.peak_rss), MiB(bound));
  EXPECT_LE(at_cancel.peak_rss, kPeakBound)
      << "VmHWM " << MiB(at_cancel.peak_rss) << " MiB over the bound "
      << MiB(kPeakBound) << " MiB";
  // Streams over the cap were refused at once, with a status (gRPC's own
  // ResourceQuota may refuse more under memory pressure, also with
  // RESOURCE_EXHAUSTED).
  EXPECT_GE(result.statuses.count(grpc::StatusCode::RESOURCE_EXHAUSTED) > 0
                ? result.statuses.at(grpc::StatusCode::RESOURCE_EXHAUSTED)
                : 0,
            flood.streams - defaults.max_concurrent_streams);
  // What the flood made the server hold went back to the system.
  EXPECT_LE(after.rss, baseline_.rss + (at_cancel.peak_rss - baseline_.rss) / 2)
      << "RSS " << MiB(after.rss) << " MiB after the flood, baseline "
      << MiB(baseline_.rss) << " MiB, peak " << MiB(at_cancel.peak_rss);
}

// Issue 10 item 11: HTTP/2 rapid reset (HEADERS + RST_STREAM pairs).
TEST_F(HostileE2eTest, RapidReset) {
  const double cpu_before = CpuNow();
  testing::RapidResetOptions options;
  options.pairs = 5000;
  options.linger = absl::Seconds(1);
  absl::StatusOr<testing::RapidResetResult> result =
      testing::RapidReset(address(), options);
  ASSERT_TRUE(result.ok()) << result.status();
  std::printf(
      "[rapid-reset] %lld of %d pairs sent; GOAWAY %s (error %u, last "
      "stream %u); closed by server %s; frames received %lld\n",
      static_cast<long long>(result->pairs_sent), options.pairs,
      result->goaway ? "yes" : "no", result->goaway_error,
      result->goaway_last_stream, result->closed_by_server ? "yes" : "no",
      static_cast<long long>(result->frames_received));
  EXPECT_GT(result->pairs_sent, 0);
  // The server answered the HTTP/2 handshake (at least its SETTINGS).
  EXPECT_GT(result->frames_received, 0);
  ExpectStillServes();
  const ProcessMemory right_after = MemoryNow();
  // The reset calls hold no memory for long: the server returns what gRPC
  // freed every 5 s (measured before the fix: +200 MiB per 10,000 pairs,
  // kept for good).
  const int64_t limit = baseline_.rss + (int64_t{32} << 20);
  ProcessMemory after = right_after;
  const absl::Time deadline = absl::Now() + absl::Seconds(12);
  while (after.rss > limit && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(250));
    after = MemoryNow();
  }
  std::printf(
      "[rapid-reset] server CPU: %.2f s; RSS right after %.1f MiB, then "
      "%.1f MiB (VmHWM %.1f)\n",
      CpuNow() - cpu_before, MiB(right_after.rss), MiB(after.rss),
      MiB(after.peak_rss));
  EXPECT_LE(after.rss, limit);
}

// Issue 10 item 1: a RecommendStream whose 2nd message does not parse.
TEST_F(HostileE2eTest, StreamWithAnUnparseableMessage) {
  const testing::RawStreamResult result =
      testing::RawStream(address(), {testing::StreamMessageBytes(row_, 1),
                                     testing::InvalidUtf8StreamMessage(row_, 2),
                                     testing::StreamMessageBytes(row_, 3),
                                     testing::StreamMessageBytes(row_, 4)});
  std::vector<uint64_t> answered = result.AnsweredRowIds();
  std::printf(
      "[garbage-stream] rows 1-4 sent (2 unparseable); answered [%s]; "
      "status %d \"%s\"\n",
      absl::StrJoin(answered, ",").c_str(),
      static_cast<int>(result.status.error_code()),
      result.status.error_message().c_str());
  EXPECT_TRUE(result.got_status) << "the stream got no status (hung)";
  EXPECT_EQ(result.unparseable_responses, 0);
  // Row 1 answered, row 2 not, and the stream fails naming message 2 (before
  // the fix: status OK with rows 2-4 silently missing). Rows 3-4 may have
  // been scored meanwhile.
  EXPECT_EQ(std::count(answered.begin(), answered.end(), 1), 1);
  EXPECT_EQ(std::count(answered.begin(), answered.end(), 2), 0);
  EXPECT_EQ(result.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(result.status.error_message().find("request message 2"),
            std::string::npos);
  ExpectStillServes();
}

// Issue 10 item 2: unary calls whose request is not a protobuf message.
TEST_F(HostileE2eTest, UnaryCallsWithGarbageBytes) {
  const testing::RawUnaryResult result = testing::RawUnaryCalls(
      address(), "/santander.recsys.v1.Recommender/Recommend",
      testing::GarbageBytes(), /*calls=*/200);
  std::printf("[garbage-unary] 200 calls: %s; messages: \"%s\"\n",
              testing::FormatStatusCounts(result.statuses).c_str(),
              absl::StrJoin(result.messages, "\", \"").c_str());
  EXPECT_EQ(result.no_status, 0);
  int64_t answered = 0;
  for (const auto& [code, n] : result.statuses) answered += n;
  EXPECT_EQ(answered, 200);
  EXPECT_EQ(result.statuses.count(grpc::StatusCode::OK), 0u)
      << "garbage was answered as a request";
  // Before the fix: UNIMPLEMENTED with an empty message.
  EXPECT_EQ(result.statuses.count(grpc::StatusCode::INVALID_ARGUMENT) > 0
                ? result.statuses.at(grpc::StatusCode::INVALID_ARGUMENT)
                : 0,
            200);
  ExpectStillServes();
}

// ---- The tools themselves ----------------------------------------------

TEST(HpackTest, IntegersFollowRfc7541Examples) {
  EXPECT_EQ(testing::HpackInteger(10, 5, 0), "\x0a");            // C.1.1
  EXPECT_EQ(testing::HpackInteger(1337, 5, 0), "\x1f\x9a\x0a");  // C.1.2
  EXPECT_EQ(testing::HpackInteger(42, 8, 0), "\x2a");            // C.1.3
  EXPECT_EQ(testing::HpackInteger(127, 7, 0), std::string("\x7f\x00", 2));
}

TEST(HpackTest, LiteralWithoutIndexingNewName) {
  // 0x00, name length, name, value length, value (no Huffman).
  EXPECT_EQ(
      testing::HpackLiteral("custom-key", "custom-header"),
      std::string("\x00\x0a", 2) + "custom-key" + "\x0d" + "custom-header");
  const std::string long_value(200, 'v');
  EXPECT_EQ(testing::HpackLiteral("k", long_value),
            std::string("\x00\x01k\x7f\x49", 5) + long_value);
}

TEST(ProcessStatsTest, ReadsThisProcess) {
  absl::StatusOr<ProcessMemory> memory = testing::ReadProcessMemory(::getpid());
  ASSERT_TRUE(memory.ok()) << memory.status();
  EXPECT_GT(memory->rss, 0);
  EXPECT_GE(memory->peak_rss, memory->rss);
  absl::StatusOr<double> cpu = testing::ReadProcessCpuSeconds(::getpid());
  ASSERT_TRUE(cpu.ok()) << cpu.status();
  EXPECT_GE(*cpu, 0.0);
}

TEST(ProcessStatsTest, AMissingProcessIsNotFound) {
  // Above the kernel's pid_max limit (4194304): never a process.
  EXPECT_EQ(testing::ReadProcessMemory(99999999).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(testing::ReadProcessCpuSeconds(99999999).status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace recsys
