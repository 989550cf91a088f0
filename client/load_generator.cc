#include "client/load_generator.h"

#include <grpcpp/client_context.h>
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <streambuf>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "client/record_codec.h"
#include "common/raw_reader.h"

namespace recsys {
namespace {

using Clock = std::chrono::steady_clock;

// User + system CPU seconds of this process so far.
double ProcessCpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) { return t.tv_sec + t.tv_usec * 1e-6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

std::string CodeName(absl::StatusCode code) {
  std::string name = absl::StatusCodeToString(code);
  for (char& c : name) c = static_cast<char>(std::toupper(c));
  return name.empty() ? absl::StrCat("CODE_", static_cast<int>(code)) : name;
}

// What one unary caller thread saw.
struct CallerTally {
  std::vector<int64_t> latencies_ns;       // from when each call was due
  std::vector<int64_t> send_latencies_ns;  // from when it was sent (paced)
  int64_t ok = 0;
  std::map<std::string, int64_t> errors;
};

// A RawReader that ends after `max_rows` rows (0 = no limit) or once `stop`
// has passed, whichever comes first.
class BoundedReader final : public RawReader {
 public:
  BoundedReader(std::unique_ptr<RawReader> inner, int64_t max_rows,
                std::optional<Clock::time_point> stop)
      : inner_(std::move(inner)), max_rows_(max_rows), stop_(stop) {}

  bool Next(RawRecord* record, std::vector<RowError>* errors) override {
    if (max_rows_ > 0 && rows_ >= max_rows_) return false;
    if (stop_.has_value() && Clock::now() >= *stop_) return false;
    if (!inner_->Next(record, errors)) return false;
    ++rows_;
    return true;
  }
  absl::Status status() const override { return inner_->status(); }
  FileLayout layout() const override { return inner_->layout(); }
  const std::vector<std::string>& header() const override {
    return inner_->header();
  }
  int64_t bytes_read() const override { return inner_->bytes_read(); }

 private:
  const std::unique_ptr<RawReader> inner_;
  const int64_t max_rows_;
  const std::optional<Clock::time_point> stop_;
  int64_t rows_ = 0;
};

// An output stream buffer that accepts and drops everything.
class DiscardBuffer final : public std::streambuf {
 protected:
  int overflow(int c) override { return traits_type::not_eof(c); }
  std::streamsize xsputn(const char*, std::streamsize n) override { return n; }
};

}  // namespace

absl::StatusOr<std::vector<v1::RecommendRequest>> ReadUnaryRequests(
    const std::string& path, int64_t max_rows, int k, int64_t* skipped) {
  absl::StatusOr<std::unique_ptr<RawReader>> reader = RawReader::Open(path);
  if (!reader.ok()) return reader.status();
  std::vector<v1::RecommendRequest> requests;
  int64_t bad = 0;
  RawRecord record;
  std::vector<RowError> errors;
  while ((max_rows <= 0 || static_cast<int64_t>(requests.size()) < max_rows) &&
         (*reader)->Next(&record, &errors)) {
    absl::StatusOr<v1::CustomerRecord> customer = EncodeCustomer(record);
    if (!errors.empty() || !customer.ok()) {
      ++bad;
      continue;
    }
    v1::RecommendRequest& request = requests.emplace_back();
    *request.mutable_customer() = *std::move(customer);
    request.set_k(k);
  }
  if (skipped != nullptr) *skipped = bad;
  if (!(*reader)->status().ok()) return (*reader)->status();
  if (requests.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": no row that can be sent"));
  }
  return requests;
}

namespace {

int64_t Nanos(Clock::duration d) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
}

void Count(const grpc::Status& status, CallerTally* tally) {
  if (status.ok()) {
    ++tally->ok;
  } else {
    ++tally->errors[CodeName(
        static_cast<absl::StatusCode>(status.error_code()))];
  }
}

// Closed loop: `concurrency` threads, each making its next call as soon as
// the previous one returned, until `end` (if timed) or max_calls.
std::vector<CallerTally> RunClosedLoop(
    v1::Recommender::StubInterface* stub,
    const std::vector<v1::RecommendRequest>& requests,
    const UnaryLoadOptions& options, std::optional<Clock::time_point> end) {
  const auto deadline = absl::ToChronoNanoseconds(options.deadline);
  std::atomic<int64_t> next_call{0};
  std::vector<CallerTally> tallies(options.concurrency);
  auto caller = [&](CallerTally* tally) {
    v1::RecommendResponse response;
    while (true) {
      const int64_t n = next_call.fetch_add(1, std::memory_order_relaxed);
      if (options.max_calls > 0 && n >= options.max_calls) return;
      const Clock::time_point sent = Clock::now();
      if (end.has_value() && sent >= *end) return;
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + deadline);
      const grpc::Status status =
          stub->Recommend(&context, requests[n % requests.size()], &response);
      tally->latencies_ns.push_back(Nanos(Clock::now() - sent));
      Count(status, tally);
    }
  };
  std::vector<std::thread> threads;
  for (CallerTally& tally : tallies) threads.emplace_back(caller, &tally);
  for (std::thread& t : threads) t.join();
  return tallies;
}

// Open loop: one thread starts call n at start + n / rate with gRPC's
// callback API, without waiting for earlier calls, while fewer than
// `concurrency` calls are in flight; answers are timed on gRPC's threads.
absl::StatusOr<CallerTally> RunPaced(
    v1::Recommender::StubInterface* stub,
    const std::vector<v1::RecommendRequest>& requests,
    const UnaryLoadOptions& options, Clock::time_point start,
    std::optional<Clock::time_point> end) {
  if (stub->async() == nullptr) {
    return absl::InvalidArgumentError("the stub has no callback API");
  }
  struct Call {
    grpc::ClientContext context;
    v1::RecommendResponse response;
    Clock::time_point due;
    Clock::time_point sent;
  };
  // What the answers record; shared with the callbacks, so that the last of
  // them may still release the mutex after this function returned.
  struct Shared {
    absl::Mutex mu;
    CallerTally tally ABSL_GUARDED_BY(mu);
    int in_flight ABSL_GUARDED_BY(mu) = 0;
    int limit = 0;
    bool HasRoom() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
      return in_flight < limit;
    }
    bool None() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
      return in_flight == 0;
    }
  };
  const auto deadline = absl::ToChronoNanoseconds(options.deadline);
  auto shared = std::make_shared<Shared>();
  shared->limit = options.concurrency;
  for (int64_t n = 0; options.max_calls <= 0 || n < options.max_calls; ++n) {
    const Clock::time_point due =
        start +
        std::chrono::nanoseconds(static_cast<int64_t>(n * 1e9 / options.rate));
    if (end.has_value() && due >= *end) break;
    std::this_thread::sleep_until(due);
    {
      absl::MutexLock lock(&shared->mu);
      shared->mu.Await(absl::Condition(shared.get(), &Shared::HasRoom));
      ++shared->in_flight;
    }
    auto* call = new Call;
    call->due = due;
    call->context.set_deadline(std::chrono::system_clock::now() + deadline);
    call->sent = Clock::now();
    stub->async()->Recommend(
        &call->context, &requests[n % requests.size()], &call->response,
        [shared, call](grpc::Status status) {
          const Clock::time_point done = Clock::now();
          const int64_t latency = Nanos(done - call->due);
          const int64_t send_latency = Nanos(done - call->sent);
          // Free the call (its ClientContext refers to the channel) before
          // the waiting thread can see in_flight reach 0 and tear down.
          delete call;
          absl::MutexLock lock(&shared->mu);
          shared->tally.latencies_ns.push_back(latency);
          shared->tally.send_latencies_ns.push_back(send_latency);
          Count(status, &shared->tally);
          --shared->in_flight;
        });
  }
  absl::MutexLock lock(&shared->mu);
  shared->mu.Await(absl::Condition(shared.get(), &Shared::None));
  return shared->tally;
}

}  // namespace

absl::StatusOr<LoadReport> RunUnaryLoad(
    v1::Recommender::StubInterface* stub,
    const std::vector<v1::RecommendRequest>& requests,
    const UnaryLoadOptions& options) {
  if (stub == nullptr || requests.empty()) {
    return absl::InvalidArgumentError("a stub and at least one request needed");
  }
  if (options.concurrency < 1 || options.rate < 0 ||
      options.deadline <= absl::ZeroDuration() ||
      (options.duration <= absl::ZeroDuration() && options.max_calls <= 0)) {
    return absl::InvalidArgumentError(
        "concurrency >= 1, rate >= 0, a positive deadline, and a duration or "
        "a number of calls are needed");
  }
  const double cpu_start = ProcessCpuSeconds();
  const Clock::time_point start = Clock::now();
  std::optional<Clock::time_point> end;
  if (options.duration > absl::ZeroDuration()) {
    end = start + absl::ToChronoNanoseconds(options.duration);
  }
  std::vector<CallerTally> tallies;
  if (options.rate > 0) {
    absl::StatusOr<CallerTally> paced =
        RunPaced(stub, requests, options, start, end);
    if (!paced.ok()) return paced.status();
    tallies.push_back(*std::move(paced));
  } else {
    tallies = RunClosedLoop(stub, requests, options, end);
  }

  LoadReport report;
  report.elapsed = absl::FromChrono(Clock::now() - start);
  report.client_cpu_seconds = ProcessCpuSeconds() - cpu_start;
  report.mode = "unary";
  report.concurrency = options.concurrency;
  report.target_rate = options.rate;
  std::vector<int64_t> latencies;
  std::vector<int64_t> send_latencies;
  for (CallerTally& tally : tallies) {
    latencies.insert(latencies.end(), tally.latencies_ns.begin(),
                     tally.latencies_ns.end());
    send_latencies.insert(send_latencies.end(), tally.send_latencies_ns.begin(),
                          tally.send_latencies_ns.end());
    report.rows_scored += tally.ok;
    for (const auto& [code, count] : tally.errors) {
      report.errors_by_code[code] += count;
      report.errors += count;
    }
  }
  report.calls = static_cast<int64_t>(latencies.size());
  report.latency = SummarizeLatencies(std::move(latencies));
  report.send_latency = SummarizeLatencies(std::move(send_latencies));
  return report;
}

absl::StatusOr<LoadReport> RunStreamLoad(v1::Recommender::StubInterface* stub,
                                         const std::string& input,
                                         const StreamLoadOptions& options) {
  if (options.concurrency < 1 || options.max_rows_per_stream < 0 ||
      options.duration < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "concurrency >= 1, max_rows_per_stream >= 0 and duration >= 0 needed");
  }
  std::vector<std::unique_ptr<RawReader>> readers;
  std::vector<std::unique_ptr<BatchScorer>> scorers;
  const double cpu_start = ProcessCpuSeconds();
  const Clock::time_point start = Clock::now();
  std::optional<Clock::time_point> stop;
  if (options.duration > absl::ZeroDuration()) {
    stop = start + absl::ToChronoNanoseconds(options.duration);
  }
  for (int i = 0; i < options.concurrency; ++i) {
    absl::StatusOr<std::unique_ptr<RawReader>> reader = RawReader::Open(input);
    if (!reader.ok()) return reader.status();
    readers.push_back(std::make_unique<BoundedReader>(
        *std::move(reader), options.max_rows_per_stream, stop));
    absl::StatusOr<std::unique_ptr<BatchScorer>> scorer =
        BatchScorer::Create(stub, options.batch);
    if (!scorer.ok()) return scorer.status();
    scorers.push_back(*std::move(scorer));
  }
  std::vector<absl::StatusOr<BatchScoreSummary>> summaries(
      options.concurrency, absl::UnknownError("not run"));
  std::vector<std::thread> threads;
  for (int i = 0; i < options.concurrency; ++i) {
    threads.emplace_back([&, i] {
      DiscardBuffer discard;
      std::ostream submission(&discard);
      summaries[i] = scorers[i]->Run(readers[i].get(), &submission, nullptr);
    });
  }
  for (std::thread& t : threads) t.join();

  LoadReport report;
  report.elapsed = absl::FromChrono(Clock::now() - start);
  report.client_cpu_seconds = ProcessCpuSeconds() - cpu_start;
  report.mode = "stream";
  report.concurrency = options.concurrency;
  for (const absl::StatusOr<BatchScoreSummary>& summary : summaries) {
    if (!summary.ok()) return summary.status();
    if (!summary->input_status.ok()) return summary->input_status;
    report.calls += summary->streams_opened;
    report.rows_scored += summary->rows_scored;
    report.errors += summary->rows_failed();
    const std::pair<const char*, int64_t> failures[] = {
        {"CLIENT_ERROR", summary->client_errors},
        {"SERVER_ROW_ERROR", summary->server_errors},
        {"GIVEN_UP", summary->given_up}};
    for (const auto& [name, count] : failures) {
      if (count > 0) report.errors_by_code[name] += count;
    }
  }
  return report;
}

}  // namespace recsys
