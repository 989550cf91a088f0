#include "server/recommend_stream.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "server/memory_bound.h"
#include "server/proto_encode.h"
#include "server/record_codec.h"
#include "server/request_parsing.h"
#include "server/status_convert.h"

namespace recsys {
namespace {

// A string literal (RpcRecord keeps it).
const char* const kService = v1::Recommender::service_full_name();

std::string MessageName(int64_t index) {
  return absl::StrCat("request message ", index, " of the stream");
}

google::protobuf::ArenaOptions StreamArenaOptions() {
  google::protobuf::ArenaOptions options;
  // A 256-row message and its answer take about 400 KB: a few blocks.
  options.start_block_size = 64 << 10;
  options.max_block_size = 1 << 20;
  return options;
}

// Adds a RowResult per row of the message to the batch's response, with its
// RowError for a row that does not decode, and appends the rows that decode
// to `rows`, each with `k` products.
void DecodeStreamRows(int k, StreamBatch* batch,
                      std::vector<DecodedRequest>* rows) {
  const v1::RecommendStreamRequest& request = *batch->request;
  v1::RecommendStreamResponse* response = batch->response;
  batch->decoded_index.assign(request.rows_size(), -1);
  for (int i = 0; i < request.rows_size(); ++i) {
    const v1::ScoreRow& row = request.rows(i);
    v1::RowResult* result = response->add_results();
    result->set_row_id(row.row_id());
    result->set_ncodpers(row.customer().ncodpers());
    absl::StatusOr<DecodedRequest> decoded = DecodeScoreRow(row, k);
    if (!decoded.ok()) {
      EncodeRowError(decoded.status(), FieldPathOf(decoded.status()),
                     result->mutable_error());
      continue;
    }
    batch->decoded_index[i] = static_cast<int>(rows->size());
    rows->push_back(*std::move(decoded));
  }
}

// Completes the batch's response with the rows the engine scored.
void EncodeScoredRows(const ScoredRows& scored, StreamBatch* batch) {
  v1::RecommendStreamResponse* response = batch->response;
  response->set_model_name(scored.model->name());
  response->set_model_version(absl::StrCat(scored.model->version()));
  response->set_history_month(std::string(scored.history_month));
  for (size_t i = 0; i < batch->decoded_index.size(); ++i) {
    const int r = batch->decoded_index[i];
    if (r < 0) continue;
    const RowScore& row = scored.scores[r];
    v1::RowResult* result = response->mutable_results(static_cast<int>(i));
    if (!row.status.ok()) {
      EncodeRowError(RowScoreStatus(row), RowScoreFieldPath(row),
                     result->mutable_error());
      continue;
    }
    v1::RowRecommendations* answer = result->mutable_recommendations();
    EncodeScoredRow(scored.requests[r].record, row, answer);
    answer->set_model_version(absl::StrCat(scored.ModelOf(r).version()));
    answer->set_history_month(std::string(scored.HistoryMonthOf(r)));
  }
}

}  // namespace

StreamBatch::StreamBatch()
    : arena(StreamArenaOptions()),
      request(google::protobuf::Arena::CreateMessage<
              v1::RecommendStreamRequest>(&arena)),
      response(google::protobuf::Arena::CreateMessage<
               v1::RecommendStreamResponse>(&arena)) {}

RecommendStreamReactor::RecommendStreamReactor(
    grpc::CallbackServerContext* context, ScoringEngine* engine,
    ServerMetrics* metrics, CallTracker* tracker, RequestMemoryBudget* budget,
    const StreamLimits& limits, ServedLog* served_log)
    : context_(context),
      engine_(engine),
      budget_(budget),
      limits_(limits),
      served_log_(served_log),
      rpc_(metrics, tracker, kService, "RecommendStream", kBidiStream,
           context->IsCancelled()) {
  if (!rpc_.admitted()) {
    {
      absl::MutexLock lock(&mu_);
      FailLocked(rpc_.Refusal());
    }
  }
  Actions actions;
  {
    absl::MutexLock lock(&mu_);
    actions = NextActionsLocked();
  }
  Drive(std::move(actions));
}

RecommendStreamReactor::Actions RecommendStreamReactor::NextActionsLocked() {
  Actions actions;
  if (finished_) return actions;
  const bool broken = cancelled_ || write_failed_;
  if (!broken && writing_ == nullptr && !pending_.empty()) {
    writing_ = std::move(pending_.front());
    pending_.pop_front();
    actions.write = writing_.get();
  }
  if (!broken && error_.ok() && !reading_ && !read_closed_ &&
      inflight_ < limits_.max_inflight_batches &&
      static_cast<int>(pending_.size()) < limits_.max_pending_responses) {
    reading_ = true;
    reading_buffer_ = std::make_unique<grpc::ByteBuffer>();
    actions.read = reading_buffer_.get();
  }
  if (actions.read != nullptr || actions.write != nullptr) {
    ++running_;
    return actions;
  }
  // Finish once no batch is being scored, no write is outstanding, and every
  // computed answer is written (unless the client can no longer receive).
  if (running_ > 0 || inflight_ > 0 || writing_ != nullptr) return actions;
  if (!broken && !pending_.empty()) return actions;
  absl::Status status;
  if (broken || context_->IsCancelled()) {
    status =
        absl::CancelledError("the client cancelled the stream or went away");
  } else if (!error_.ok()) {
    status = error_;  // a read may still be outstanding: Finish ends it
  } else if (read_closed_ && !reading_) {
    status = absl::OkStatus();
  } else {
    return actions;
  }
  finished_ = true;
  if (broken || context_->IsCancelled()) {
    const absl::StatusCode call = CheckCall(*context_).code();
    final_code_ =
        call == absl::StatusCode::kOk ? absl::StatusCode::kCancelled : call;
  } else {
    final_code_ = status.code();
  }
  rpc_.Finished(final_code_);
  actions.finish = ToGrpcStatus(status);
  return actions;
}

void RecommendStreamReactor::Drive(Actions actions) {
  while (actions.any()) {
    if (actions.finish.has_value()) {
      Finish(*std::move(actions.finish));  // the last thing we do with `this`
      return;
    }
    if (actions.read != nullptr) StartRead(actions.read);
    if (actions.write != nullptr) StartWrite(actions.write);
    absl::MutexLock lock(&mu_);
    --running_;
    actions = NextActionsLocked();
  }
}

void RecommendStreamReactor::FailLocked(absl::Status status) {
  if (error_.ok()) error_ = std::move(status);
}

void RecommendStreamReactor::OnReadDone(bool ok) {
  // The message's bytes, copied out of gRPC's slices once: counted here,
  // parsed once the budget allows.
  std::optional<std::string> wire;
  int64_t index = 0;
  int64_t estimate = 0;
  Actions actions;
  {
    absl::MutexLock lock(&mu_);
    // The read is done: its buffer is ours (the next read gets a fresh one).
    std::unique_ptr<grpc::ByteBuffer> read = std::move(reading_buffer_);
    reading_ = false;
    if (!ok) {
      read_closed_ = true;
    } else if (!finished_ && error_.ok() && !cancelled_ && read != nullptr) {
      index = ++messages_read_;
      // Rows are counted on the wire, before any memory is spent on them.
      std::string bytes = FlattenByteBuffer(*read);
      read.reset();
      absl::StatusOr<int64_t> rows = CountTopLevelField(
          bytes, v1::RecommendStreamRequest::kRowsFieldNumber);
      if (!rows.ok()) {
        FailLocked(absl::InvalidArgumentError(
            absl::StrCat(MessageName(index), " is not a valid ",
                         v1::RecommendStreamRequest::descriptor()->full_name(),
                         ": ", rows.status().message())));
      } else if (*rows > limits_.max_rows_per_message) {
        FailLocked(absl::InvalidArgumentError(absl::StrCat(
            "rows: ", *rows, " rows in ", MessageName(index),
            "; the limit is ", limits_.max_rows_per_message,
            " (--max-rows-per-request)")));
      } else {
        estimate = ParsedStreamMessageBound(static_cast<int64_t>(bytes.size()),
                                            *rows);
        wire = std::move(bytes);
        ++inflight_;
      }
    }
    actions = NextActionsLocked();
  }
  if (wire.has_value()) {
    budget_->Reserve(estimate, [this, index, wire = *std::move(wire)](
                                   int64_t reserved) mutable {
      ParseAndScore(index, std::move(wire), reserved);
    });
  }
  Drive(std::move(actions));
}

void RecommendStreamReactor::ParseAndScore(int64_t index, std::string wire,
                                           int64_t reserved) {
  bool answerable;
  {
    absl::MutexLock lock(&mu_);
    answerable = !finished_ && error_.ok() && !cancelled_ && !write_failed_;
  }
  // Nothing more is answered on a broken stream.
  if (!answerable) return Abandon(absl::OkStatus(), reserved);
  auto batch = std::make_unique<StreamBatch>();
  absl::Status parsed =
      ParseRequestBytes(wire, batch->request, MessageName(index));
  std::string().swap(wire);
  if (!parsed.ok()) return Abandon(std::move(parsed), reserved);
  absl::StatusOr<int> k = DecodeTopK(batch->request->k());
  if (!k.ok()) {
    return Abandon(absl::InvalidArgumentError(absl::StrCat(
                       MessageName(index), ": ", k.status().message())),
                   reserved);
  }
  absl::StatusOr<VersionSelector> version =
      DecodeModelVersion(batch->request->model_version());
  if (!version.ok()) {
    return Abandon(absl::InvalidArgumentError(absl::StrCat(
                       MessageName(index), ": ", version.status().message())),
                   reserved);
  }
  if (batch->request->rows_size() == 0) return Abandon(absl::OkStatus(), reserved);
  // Keep what the parse took plus room for the answer; give back the rest.
  const int64_t needed = std::min<int64_t>(
      reserved, static_cast<int64_t>(batch->arena.SpaceAllocated()) +
                    batch->request->rows_size() * kAnswerBytesPerRow);
  if (needed < reserved) {
    budget_->Release(reserved - needed);
    reserved = needed;
  }
  StreamBatch* target = batch.get();
  engine_->ScoreRows(
      [context = context_] { return CheckCall(*context); }, *k,
      [target, k = *k](std::vector<DecodedRequest>* rows) {
        DecodeStreamRows(k, target, rows);
      },
      [this, reserved, batch = std::move(batch)](
          absl::StatusOr<ScoredRows> scored) mutable {
        if (scored.ok()) {
          EncodeScoredRows(*scored, batch.get());
          if (served_log_ != nullptr) served_log_->Record(*scored);
        }
        BatchDone(scored.status(), std::move(batch), reserved);
      },
      *version);
}

void RecommendStreamReactor::Abandon(absl::Status status, int64_t reserved) {
  budget_->Release(reserved);
  Actions actions;
  {
    absl::MutexLock lock(&mu_);
    --inflight_;
    if (!status.ok()) FailLocked(std::move(status));
    actions = NextActionsLocked();
  }
  Drive(std::move(actions));
}

void RecommendStreamReactor::BatchDone(absl::Status status,
                                       std::unique_ptr<StreamBatch> batch,
                                       int64_t reserved) {
  // The answer is kept serialized (a fraction of the parsed batch's size);
  // the batch and its arena go now.
  std::unique_ptr<grpc::ByteBuffer> answer;
  if (status.ok()) {
    answer = std::make_unique<grpc::ByteBuffer>();
    status = SerializeToByteBuffer(*batch->response, answer.get());
  }
  batch.reset();
  budget_->Release(reserved);
  Actions actions;
  {
    absl::MutexLock lock(&mu_);
    --inflight_;
    if (status.ok()) {
      if (!cancelled_ && !write_failed_) pending_.push_back(std::move(answer));
    } else {
      FailLocked(std::move(status));
    }
    actions = NextActionsLocked();
  }
  Drive(std::move(actions));
}

void RecommendStreamReactor::OnWriteDone(bool ok) {
  Actions actions;
  {
    absl::MutexLock lock(&mu_);
    writing_.reset();
    if (!ok) write_failed_ = true;
    actions = NextActionsLocked();
  }
  Drive(std::move(actions));
}

void RecommendStreamReactor::OnCancel() {
  Actions actions;
  {
    absl::MutexLock lock(&mu_);
    cancelled_ = true;
    actions = NextActionsLocked();
  }
  Drive(std::move(actions));
}

void RecommendStreamReactor::OnDone() {
  absl::StatusCode code;
  {
    absl::MutexLock lock(&mu_);
    code = final_code_;
  }
  rpc_.Done(code);
  // The last stream gone: give what the streams freed back to the system.
  if (rpc_.tracker()->streams() == 0) ReturnFreedMemory();
  delete this;
}

}  // namespace recsys
