#include "client/batch_scorer.h"

#include <grpcpp/client_context.h>
#include <grpcpp/support/sync_stream.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "client/recommender_client.h"
#include "client/record_codec.h"
#include "client/reused_message.h"
#include "client/row_sink.h"

namespace recsys {
namespace {

using Stream = grpc::ClientReaderWriterInterface<v1::RecommendStreamRequest,
                                                 v1::RecommendStreamResponse>;

// A row sent (or to be resent) and not answered yet.
struct PendingRow {
  int64_t line = 0;
  int64_t ncodpers = 0;
  // The v1::ScoreRow, for a resend: serialized (one allocation), or, without
  // arenas (the client before issue 6's performance pass), as a copy.
  std::string serialized;
  std::unique_ptr<v1::ScoreRow> copy;
};

std::string ClientErrorReason(const std::vector<RowError>& errors) {
  return absl::StrJoin(errors, "; ", [](std::string* out, const RowError& e) {
    absl::StrAppend(out, e.ToString());
  });
}

RowOutcome OutcomeOf(const PendingRow& pending, const v1::RowResult& result) {
  if (result.has_recommendations()) {
    std::string products;
    for (const v1::Recommendation& r :
         result.recommendations().recommendations()) {
      if (!products.empty()) products.push_back(' ');
      products += r.product();
    }
    return RowOutcome::Scored(pending.line, pending.ncodpers,
                              std::move(products));
  }
  std::string reason = "server answered neither recommendations nor an error";
  if (result.has_error()) {
    reason =
        absl::StrCat("server: ",
                     absl::StatusCodeToString(
                         static_cast<absl::StatusCode>(result.error().code())),
                     ": ", result.error().message());
  }
  return RowOutcome::Failed(RowOutcome::kServerError, pending.line,
                            pending.ncodpers, std::move(reason));
}

// The state of one BatchScorer::Run. Threads: the caller's thread reads the
// input and writes requests; per stream, a reader thread consumes responses;
// a monitor thread reports progress and cancels stalled streams.
class ScoreRun {
 public:
  ScoreRun(v1::Recommender::StubInterface* stub,
           const BatchScoreOptions& options, RawReader* reader,
           std::ostream* submission, std::ostream* errors)
      : stub_(stub),
        options_(options),
        reader_(reader),
        sink_(submission, errors) {}

  BatchScoreSummary Run();

 private:
  absl::Status Attempt();
  bool ResendPending(Stream* stream);
  void ReadBatch(v1::RecommendStreamRequest* request);
  bool WaitForRoom();
  void WaitForAnswersOrEnd();
  void ReadResponses(Stream* stream);
  void GiveUp(const absl::Status& why, int attempts);
  // The outcome of a row that is not to be sent: unreadable (`errors`) or a
  // duplicate customer. nullopt for a row to send, whose customer is then
  // remembered.
  std::optional<RowOutcome> LocalOutcome(const RawRecord& record,
                                         const std::vector<RowError>& errors);
  void Monitor();
  BatchProgress ProgressLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  v1::Recommender::StubInterface* const stub_;
  const BatchScoreOptions& options_;
  const size_t capacity_ =
      static_cast<size_t>(options_.batch_rows) * options_.window;

  // Used by the caller's thread only.
  RawReader* const reader_;
  uint64_t next_row_id_ = 0;
  bool input_done_ = false;
  int streams_opened_ = 0;
  // Customer code -> line of its first row (rows that were read cleanly).
  absl::flat_hash_map<int64_t, int64_t> seen_customers_;

  OrderedRowSink sink_;  // thread-safe

  mutable absl::Mutex mu_;
  absl::CondVar cv_;  // signalled when pending_ or stream_ended_ change
  std::map<uint64_t, PendingRow> pending_ ABSL_GUARDED_BY(mu_);
  grpc::ClientContext* context_ ABSL_GUARDED_BY(mu_) = nullptr;
  bool stream_ended_ ABSL_GUARDED_BY(mu_) = false;
  bool writes_done_ ABSL_GUARDED_BY(mu_) = false;
  absl::Time last_activity_ ABSL_GUARDED_BY(mu_);
  absl::Time last_answer_ ABSL_GUARDED_BY(mu_);  // or the start of the run
  int64_t answered_total_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t rows_read_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t bytes_read_ ABSL_GUARDED_BY(mu_) = 0;
  int retries_ ABSL_GUARDED_BY(mu_) = 0;
  bool run_over_ ABSL_GUARDED_BY(mu_) = false;
  std::set<std::string> versions_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, int64_t> rows_by_version_ ABSL_GUARDED_BY(mu_);
};

BatchScoreSummary ScoreRun::Run() {
  const absl::Time start = absl::Now();
  {
    absl::MutexLock lock(&mu_);
    last_answer_ = start;
  }
  std::thread monitor([this] { Monitor(); });
  absl::Status gave_up;
  int attempts = 0;
  absl::Duration backoff = options_.initial_backoff;
  while (true) {
    int64_t answered_before = 0;
    {
      absl::MutexLock lock(&mu_);
      answered_before = answered_total_;
    }
    absl::Status status = Attempt();
    ++attempts;
    if (status.ok()) break;
    absl::Time last_answer;
    {
      absl::MutexLock lock(&mu_);
      last_answer = last_answer_;
      if (answered_total_ > answered_before) {
        backoff = options_.initial_backoff;  // the stream made progress
      }
    }
    const absl::Duration idle = absl::Now() - last_answer;
    if (!IsTransient(status) || idle >= options_.retry_for) {
      if (IsTransient(status)) {
        status = absl::Status(
            status.code(),
            absl::StrCat(status.message(), " (no row answered for ",
                         absl::FormatDuration(idle), ")"));
      }
      GiveUp(status, attempts);
      gave_up = status;
      break;
    }
    {
      absl::MutexLock lock(&mu_);
      ++retries_;
    }
    absl::SleepFor(std::min(backoff, options_.retry_for - idle));
    backoff = std::min(backoff * 2, options_.max_backoff);
  }
  BatchScoreSummary summary;
  {
    absl::MutexLock lock(&mu_);
    run_over_ = true;
    summary.rows_read = rows_read_;
    summary.retries = retries_;
    summary.model_versions.assign(versions_.begin(), versions_.end());
    summary.rows_by_version = rows_by_version_;
  }
  monitor.join();
  const RowCounts counts = sink_.counts();
  summary.rows_scored = counts.scored;
  summary.client_errors = counts.client_errors;
  summary.server_errors = counts.server_errors;
  summary.given_up = counts.given_up;
  summary.duplicates = counts.duplicates;
  summary.streams_opened = streams_opened_;
  summary.give_up_reason = gave_up;
  summary.input_status = reader_->status();
  summary.elapsed = absl::Now() - start;
  return summary;
}

absl::Status ScoreRun::Attempt() {
  grpc::ClientContext context;
  std::unique_ptr<Stream> stream = stub_->RecommendStream(&context);
  ++streams_opened_;
  {
    absl::MutexLock lock(&mu_);
    context_ = &context;
    stream_ended_ = false;
    writes_done_ = false;
    last_activity_ = absl::Now();
  }
  std::thread responses([this, s = stream.get()] { ReadResponses(s); });
  bool writable = ResendPending(stream.get());
  ReusedMessage<v1::RecommendStreamRequest> requests(options_.use_arenas);
  while (writable && !input_done_ && WaitForRoom()) {
    v1::RecommendStreamRequest* request = requests.Fresh();
    request->set_k(options_.k);
    request->set_model_version(options_.model_version);
    ReadBatch(request);
    // Write serializes the message before it returns.
    if (request->rows_size() > 0) writable = stream->Write(*request);
  }
  if (writable && input_done_) {
    stream->WritesDone();
    absl::MutexLock lock(&mu_);
    writes_done_ = true;
    last_activity_ = absl::Now();
  }
  WaitForAnswersOrEnd();
  responses.join();
  const grpc::Status status = stream->Finish();
  size_t unanswered = 0;
  {
    absl::MutexLock lock(&mu_);
    context_ = nullptr;
    unanswered = pending_.size();
  }
  if (unanswered == 0 && input_done_) return absl::OkStatus();
  if (!status.ok()) return FromGrpcStatus(status);
  // A deterministic server fault (e.g. a message it could not parse): the
  // same rows would meet the same end, so this is not retried.
  return absl::InternalError(absl::StrCat(
      "the server ended the stream OK with ", unanswered,
      " rows unanswered (the protocol promises an answer for every row)"));
}

bool ScoreRun::ResendPending(Stream* stream) {
  std::vector<v1::RecommendStreamRequest> requests;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [id, pending] : pending_) {
      if (requests.empty() ||
          requests.back().rows_size() >= options_.batch_rows) {
        requests.emplace_back().set_k(options_.k);
        requests.back().set_model_version(options_.model_version);
      }
      if (pending.copy != nullptr) {
        *requests.back().add_rows() = *pending.copy;
      } else {
        requests.back().add_rows()->ParseFromString(pending.serialized);
      }
    }
  }
  for (const v1::RecommendStreamRequest& request : requests) {
    if (!stream->Write(request)) return false;
  }
  return true;
}

void ScoreRun::ReadBatch(v1::RecommendStreamRequest* request) {
  RawRecord record;
  std::vector<RowError> errors;
  int64_t read = 0;
  while (request->rows_size() < options_.batch_rows) {
    if (!reader_->Next(&record, &errors)) {
      input_done_ = true;
      break;
    }
    ++read;
    const uint64_t id = next_row_id_++;
    if (std::optional<RowOutcome> local = LocalOutcome(record, errors)) {
      sink_.Complete(id, *std::move(local));
      continue;
    }
    v1::ScoreRow* row = request->add_rows();
    if (absl::Status encoded =
            EncodeCustomerTo(record, row->mutable_customer());
        !encoded.ok()) {
      request->mutable_rows()->RemoveLast();
      sink_.Complete(id, RowOutcome::Failed(RowOutcome::kClientError,
                                            record.line, record.ncodpers.value,
                                            std::string(encoded.message())));
      continue;
    }
    row->set_row_id(id);
    PendingRow pending{record.line, record.ncodpers.value, std::string(),
                       nullptr};
    if (options_.use_arenas) {
      row->SerializeToString(&pending.serialized);
    } else {
      pending.copy = std::make_unique<v1::ScoreRow>(*row);
    }
    absl::MutexLock lock(&mu_);
    if (pending_.empty()) last_activity_ = absl::Now();
    pending_.emplace(id, std::move(pending));
  }
  absl::MutexLock lock(&mu_);
  rows_read_ += read;
  bytes_read_ = reader_->bytes_read();
}

bool ScoreRun::WaitForRoom() {
  absl::MutexLock lock(&mu_);
  while (!stream_ended_ &&
         pending_.size() + static_cast<size_t>(options_.batch_rows) >
             capacity_) {
    cv_.Wait(&mu_);
  }
  return !stream_ended_;
}

void ScoreRun::WaitForAnswersOrEnd() {
  // After WritesDone the server closes the stream once it has answered every
  // row; after a failed write the stream is already over. Either way the
  // reader thread sees the end (the monitor cancels a stream that stalls).
  absl::MutexLock lock(&mu_);
  while (!stream_ended_) cv_.Wait(&mu_);
}

void ScoreRun::ReadResponses(Stream* stream) {
  ReusedMessage<v1::RecommendStreamResponse> responses(options_.use_arenas);
  std::vector<std::pair<uint64_t, RowOutcome>> done;
  while (true) {
    v1::RecommendStreamResponse& response = *responses.Fresh();
    if (!stream->Read(&response)) break;
    done.clear();
    {
      absl::MutexLock lock(&mu_);
      for (const v1::RowResult& result : response.results()) {
        auto it = pending_.find(result.row_id());
        if (it == pending_.end()) continue;  // unknown or already answered
        if (result.has_recommendations()) {
          const std::string& version =
              result.recommendations().model_version().empty()
                  ? response.model_version()
                  : result.recommendations().model_version();
          if (!version.empty()) {
            ++rows_by_version_[version];
            versions_.insert(version);
          }
        }
        done.emplace_back(it->first, OutcomeOf(it->second, result));
        pending_.erase(it);
      }
      answered_total_ += static_cast<int64_t>(done.size());
      last_activity_ = absl::Now();
      if (!done.empty()) last_answer_ = last_activity_;
      if (!response.model_version().empty()) {
        versions_.insert(response.model_version());
      }
      cv_.SignalAll();
    }
    for (auto& [id, outcome] : done) sink_.Complete(id, std::move(outcome));
  }
  absl::MutexLock lock(&mu_);
  stream_ended_ = true;
  cv_.SignalAll();
}

void ScoreRun::GiveUp(const absl::Status& why, int attempts) {
  const std::string reason = absl::StrCat(
      "not scored: gave up after ", attempts,
      attempts == 1 ? " attempt: " : " attempts: ", why.ToString());
  std::map<uint64_t, PendingRow> pending;
  {
    absl::MutexLock lock(&mu_);
    pending.swap(pending_);
  }
  for (const auto& [id, row] : pending) {
    sink_.Complete(id, RowOutcome::Failed(RowOutcome::kGivenUp, row.line,
                                          row.ncodpers, reason));
  }
  RawRecord record;
  std::vector<RowError> errors;
  int64_t read = 0;
  while (!input_done_ && reader_->Next(&record, &errors)) {
    ++read;
    std::optional<RowOutcome> local = LocalOutcome(record, errors);
    sink_.Complete(next_row_id_++,
                   local.has_value()
                       ? *std::move(local)
                       : RowOutcome::Failed(RowOutcome::kGivenUp, record.line,
                                            record.ncodpers.value, reason));
  }
  input_done_ = true;
  absl::MutexLock lock(&mu_);
  rows_read_ += read;
  bytes_read_ = reader_->bytes_read();
}

std::optional<RowOutcome> ScoreRun::LocalOutcome(
    const RawRecord& record, const std::vector<RowError>& errors) {
  std::optional<int64_t> ncodpers;
  if (record.ncodpers.present()) ncodpers = record.ncodpers.value;
  if (!errors.empty()) {
    return RowOutcome::Failed(RowOutcome::kClientError, record.line, ncodpers,
                              ClientErrorReason(errors));
  }
  if (!ncodpers.has_value()) {  // the reader reports it; kept as a guard
    return RowOutcome::Failed(RowOutcome::kClientError, record.line, ncodpers,
                              "column ncodpers: required value is missing");
  }
  auto [it, first] = seen_customers_.emplace(*ncodpers, record.line);
  if (first) return std::nullopt;
  return RowOutcome::Failed(
      RowOutcome::kDuplicate, record.line, ncodpers,
      absl::StrCat("duplicate customer: ncodpers ", *ncodpers,
                   " was first on line ", it->second,
                   "; only a customer's first row is scored (a Kaggle "
                   "submission has one line per customer)"));
}

void ScoreRun::Monitor() {
  while (true) {
    BatchProgress progress;
    {
      absl::MutexLock lock(&mu_);
      mu_.AwaitWithTimeout(absl::Condition(&run_over_),
                           options_.progress_interval);
      if (run_over_) return;
      // Rows in flight without an answer, or an answered stream the server
      // does not close: cancel, which the caller's thread sees as CANCELLED.
      const bool waiting = !pending_.empty() || writes_done_;
      if (context_ != nullptr && waiting && !stream_ended_ &&
          absl::Now() - last_activity_ > options_.stall_timeout) {
        context_->TryCancel();
        last_activity_ = absl::Now();
      }
      progress = ProgressLocked();
    }
    if (options_.on_progress) options_.on_progress(progress);
  }
}

BatchProgress ScoreRun::ProgressLocked() const {
  const RowCounts counts = sink_.counts();
  BatchProgress progress;
  progress.rows_read = rows_read_;
  progress.rows_scored = counts.scored;
  progress.rows_failed = counts.failed();
  progress.rows_in_flight = static_cast<int64_t>(pending_.size());
  progress.bytes_read = bytes_read_;
  progress.retries = retries_;
  return progress;
}

}  // namespace

absl::StatusOr<std::unique_ptr<BatchScorer>> BatchScorer::Create(
    v1::Recommender::StubInterface* stub, const BatchScoreOptions& options) {
  if (stub == nullptr) return absl::InvalidArgumentError("stub: required");
  if (options.batch_rows < 1 || options.window < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("batch_rows and window must be at least 1, got ",
                     options.batch_rows, " and ", options.window));
  }
  if (options.k < 1 || options.k > kNumProducts) {
    return absl::InvalidArgumentError(
        absl::StrCat("k: must be between 1 and 24, got ", options.k));
  }
  if (options.retry_for < absl::ZeroDuration() ||
      options.initial_backoff <= absl::ZeroDuration() ||
      options.max_backoff < options.initial_backoff ||
      options.stall_timeout <= absl::ZeroDuration() ||
      options.progress_interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "retry_for must be >= 0, initial_backoff, stall_timeout and "
        "progress_interval > 0, max_backoff >= initial_backoff");
  }
  return std::unique_ptr<BatchScorer>(new BatchScorer(stub, options));
}

absl::StatusOr<BatchScoreSummary> BatchScorer::Run(RawReader* reader,
                                                   std::ostream* submission,
                                                   std::ostream* errors) {
  BatchScoreSummary summary;
  {
    ScoreRun run(stub_, options_, reader, submission, errors);
    summary = run.Run();
  }
  errno = 0;
  submission->flush();
  const int submission_errno = errno;
  if (errors != nullptr) errors->flush();
  const int error = submission->good() ? errno : submission_errno;
  if (!submission->good() || (errors != nullptr && !errors->good())) {
    return absl::InternalError(absl::StrCat(
        "writing the ", submission->good() ? "errors" : "submission",
        " file failed", error != 0 ? ": " : "",
        error != 0 ? std::strerror(error) : ""));
  }
  return summary;
}

}  // namespace recsys
