#include "server/memory_bound.h"

#include <malloc.h>

#include "absl/strings/str_format.h"

namespace recsys {
namespace {

struct Terms {
  int64_t grpc, wire, parsed, answers, unary, http;
  int64_t total() const {
    return grpc + wire + parsed + answers + unary + http;
  }
};

Terms ComputeTerms(const MemoryBoundInputs& in) {
  Terms t;
  t.grpc = in.grpc_memory_bytes;
  t.wire = in.max_streams * in.max_inflight * in.max_message_bytes;
  t.parsed = in.request_memory_bytes;
  t.answers = in.max_streams * (in.max_pending + 1) * in.max_rows *
              kSerializedAnswerBytesPerRow;
  t.unary = in.max_unary * (in.max_message_bytes +
                            kMaxParseExpansion * in.max_unary_message_bytes);
  t.http = in.http_threads * kHttpBodyCopies * in.max_unary_message_bytes;
  return t;
}

double MiB(int64_t bytes) { return static_cast<double>(bytes) / (1 << 20); }

}  // namespace

int64_t TrafficMemoryBound(const MemoryBoundInputs& in) {
  return ComputeTerms(in).total();
}

std::string DescribeMemoryBound(const MemoryBoundInputs& in) {
  const Terms t = ComputeTerms(in);
  return absl::StrFormat(
      "memory bound: traffic can hold at most %.0f MiB above the idle server "
      "(gRPC buffers %.0f + stream messages read %.0f + parsed messages %.0f "
      "+ answers waiting %.0f + unary calls %.0f + HTTP bodies %.0f; "
      "docs/limits.md)",
      MiB(t.total()), MiB(t.grpc), MiB(t.wire), MiB(t.parsed), MiB(t.answers),
      MiB(t.unary), MiB(t.http));
}

void ConfigureMallocForServing() { mallopt(M_MMAP_THRESHOLD, 128 * 1024); }

void ReturnFreedMemory() { malloc_trim(0); }

PeriodicMemoryReturn::PeriodicMemoryReturn(absl::Duration period)
    : thread_([this, period] {
        while (!stop_.WaitForNotificationWithTimeout(period))
          ReturnFreedMemory();
      }) {}

PeriodicMemoryReturn::~PeriodicMemoryReturn() {
  stop_.Notify();
  thread_.join();
}

}  // namespace recsys
