#include "server/recommend_stream.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "server/record_codec.h"
#include "server/status_convert.h"

namespace recsys {
namespace {

constexpr absl::string_view kService = "santander.recsys.v1.Recommender";

}  // namespace

RecommendStreamReactor::RecommendStreamReactor(
    grpc::CallbackServerContext* context, ScoringEngine* engine,
    ServerMetrics* metrics, CallTracker* tracker, const StreamLimits& limits)
    : context_(context),
      engine_(engine),
      limits_(limits),
      rpc_(metrics, tracker, kService, "RecommendStream", kBidiStream) {
  if (!rpc_.admitted()) {
    {
      absl::MutexLock lock(&mu_);
      FailLocked(RpcRecord::Refusal());
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
    actions.write = writing_->response;
  }
  if (!broken && error_.ok() && !reading_ && !read_closed_ &&
      inflight_ < limits_.max_inflight_batches &&
      static_cast<int>(pending_.size()) < limits_.max_pending_responses) {
    reading_ = true;
    reading_batch_ = std::make_unique<StreamBatch>();
    actions.read = reading_batch_->request;
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
  std::unique_ptr<StreamBatch> batch;
  int k = kDefaultTopK;
  Actions actions;
  {
    absl::MutexLock lock(&mu_);
    // The read is done: its batch is ours (the next read gets a fresh one).
    std::unique_ptr<StreamBatch> read = std::move(reading_batch_);
    reading_ = false;
    if (!ok) {
      read_closed_ = true;
    } else if (!finished_ && error_.ok() && !cancelled_ && read != nullptr) {
      const v1::RecommendStreamRequest& request = *read->request;
      absl::StatusOr<int> top_k = DecodeTopK(request.k());
      if (!top_k.ok()) {
        FailLocked(top_k.status());
      } else if (request.rows_size() > limits_.max_rows_per_message) {
        FailLocked(absl::InvalidArgumentError(absl::StrCat(
            "rows: ", request.rows_size(),
            " rows in one message; the limit is ", limits_.max_rows_per_message,
            " (--max-rows-per-request)")));
      } else if (request.rows_size() > 0) {
        k = *top_k;
        batch = std::move(read);
        ++inflight_;
      }
    }
    actions = NextActionsLocked();
  }
  if (batch != nullptr) {
    engine_->ScoreStreamMessage(
        context_, std::move(batch), k,
        [this](absl::StatusOr<std::unique_ptr<StreamBatch>> result) {
          BatchDone(std::move(result));
        });
  }
  Drive(std::move(actions));
}

void RecommendStreamReactor::BatchDone(
    absl::StatusOr<std::unique_ptr<StreamBatch>> result) {
  Actions actions;
  {
    absl::MutexLock lock(&mu_);
    --inflight_;
    if (result.ok()) {
      if (!cancelled_ && !write_failed_) pending_.push_back(*std::move(result));
    } else {
      FailLocked(result.status());
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
  delete this;
}

}  // namespace recsys
