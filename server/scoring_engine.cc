#include "server/scoring_engine.h"

#include <algorithm>
#include <chrono>
#include <deque>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/date.h"
#include "server/proto_encode.h"

namespace recsys {
namespace {

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
      .count();
}

// A per-row failure of the scorer as the API reports it. The scorer's only
// per-row failure is a fecha_dato before the months the history serves.
absl::Status RowFailure(const absl::Status& status) {
  if (status.code() == absl::StatusCode::kOutOfRange) {
    return absl::Status(
        status.code(), absl::StrCat("customer.fecha_dato: ", status.message()));
  }
  return status;
}

std::string RowFieldPath(const absl::Status& status) {
  if (status.code() == absl::StatusCode::kOutOfRange)
    return "customer.fecha_dato";
  return FieldPathOf(status);
}

// "YYYY-MM-DD" of the month a row was scored for.
std::string ScoredDate(const RawRecord& record, int target_month) {
  return record.fecha_dato.present() ? record.fecha_dato.value.ToString()
                                     : MonthDate(target_month);
}

// Owns a job's completion callback: calls it with UNAVAILABLE when destroyed
// without having been called, i.e. when the pool refused the job because the
// server is stopping, so that no call is left unfinished.
template <typename Fn>
class DoneOnce {
 public:
  explicit DoneOnce(Fn fn) : fn_(std::move(fn)) {}
  DoneOnce(DoneOnce&& other)
      : fn_(std::move(other.fn_)), armed_(std::exchange(other.armed_, false)) {}
  DoneOnce& operator=(DoneOnce&&) = delete;
  ~DoneOnce() {
    if (armed_) fn_(absl::UnavailableError("the server is shutting down"));
  }

  template <typename T>
  void operator()(T&& value) {
    armed_ = false;
    fn_(std::forward<T>(value));
  }

 private:
  Fn fn_;
  bool armed_ = true;
};

}  // namespace

namespace {

google::protobuf::ArenaOptions StreamArenaOptions() {
  google::protobuf::ArenaOptions options;
  // A 256-row message and its answer take about 400 KB: a few blocks.
  options.start_block_size = 64 << 10;
  options.max_block_size = 1 << 20;
  return options;
}

}  // namespace

StreamBatch::StreamBatch()
    : arena(StreamArenaOptions()),
      request(google::protobuf::Arena::CreateMessage<
              v1::RecommendStreamRequest>(&arena)),
      response(google::protobuf::Arena::CreateMessage<
               v1::RecommendStreamResponse>(&arena)) {}

absl::Status CheckCall(const grpc::ServerContextBase& context) {
  if (std::chrono::system_clock::now() >= context.deadline()) {
    return absl::DeadlineExceededError(
        "deadline exceeded before the request was scored");
  }
  if (context.IsCancelled())
    return absl::CancelledError("the call was cancelled");
  return absl::OkStatus();
}

ScoringEngine::ScoringEngine(ModelStore* store, WorkerPool* workers,
                             ServerMetrics* metrics,
                             const ScoringEngineOptions& options)
    : store_(store),
      workers_(workers),
      metrics_(metrics),
      options_{.max_unary_batch = std::max(1, options.max_unary_batch),
               .history = options.history},
      scratch_(workers->size()) {}

ScoringEngine::~ScoringEngine() {
  FailQueuedUnary(absl::UnavailableError("the server is shutting down"));
}

absl::StatusOr<std::shared_ptr<const ModelVersion>>
ScoringEngine::ServingModel() const {
  std::shared_ptr<const ModelVersion> model = store_->Current();
  if (model == nullptr) {
    return absl::UnavailableError(
        "no model is loaded yet; the server is not serving");
  }
  return model;
}

HistoryChoice ScoringEngine::HistoryFor(
    const ModelVersion& model,
    std::shared_ptr<const HistoryVersion>* hold) const {
  if (options_.history != nullptr) *hold = options_.history->Current();
  return ChooseHistory(model, hold->get());
}

std::string ScoringEngine::HistoryLoadError() const {
  return options_.history == nullptr ? "" : options_.history->last_error();
}

void ScoringEngine::CountStaleRows(const HistoryChoice& history,
                                   const Scratch& scratch) {
  int64_t stale = 0;
  for (const RowScore& row : scratch.out) {
    if (row.status.ok() && row.history != HistorySourceKind::kRequest &&
        row.target_month > history.month + 1)
      ++stale;
  }
  metrics_->HistoryStaleRows(stale);
}

absl::Status ScoringEngine::ScoreDecoded(const ModelVersion& model,
                                         const grpc::ServerContextBase* context,
                                         int k, Scratch* s) {
  const size_t n = s->decoded.size();
  s->views.assign(n, HistoryView());
  s->rows.assign(n, ScoreRow());
  s->out.resize(n);
  for (size_t i = 0; i < n; ++i) {
    s->rows[i].record = &s->decoded[i].record;
    if (s->decoded[i].history.has_value()) {
      // The codec already checked the entries; FromExplicit cannot fail here.
      absl::StatusOr<HistoryView> view =
          HistoryView::FromExplicit(*s->decoded[i].history);
      if (!view.ok()) return view.status();
      s->views[i] = *view;
      s->rows[i].history = &s->views[i];
    }
  }
  // One history snapshot for the whole batch, held until it is scored.
  std::shared_ptr<const HistoryVersion> hold;
  const HistoryChoice history = HistoryFor(model, &hold);
  s->history_month = MonthName(history.month);
  ScoreTimings timings;
  absl::Status scored = ScoreBatch(
      model, *history.snapshot, s->rows, k, &s->score, absl::MakeSpan(s->out),
      &timings, [context] {
        return context == nullptr ? absl::OkStatus() : CheckCall(*context);
      });
  if (!scored.ok()) return scored;
  CountStaleRows(history, *s);

  s->tops.clear();
  s->months.clear();
  for (const RowScore& row : s->out) {
    if (!row.status.ok()) continue;
    s->tops.push_back(row.top);
    s->months.push_back(row.target_month);
  }
  metrics_->StageDuration(Stage::kFeaturize, timings.featurize_seconds);
  metrics_->StageDuration(Stage::kPredict, timings.predict_seconds);
  metrics_->StageDuration(Stage::kRank, timings.rank_seconds);
  metrics_->RowsScored(static_cast<int64_t>(s->tops.size()));
  if (timings.history_hits > 0)
    metrics_->HistoryLookups("hit", timings.history_hits);
  if (timings.history_misses > 0)
    metrics_->HistoryLookups("miss", timings.history_misses);
  if (timings.history_from_request > 0) {
    metrics_->HistoryLookups("request", timings.history_from_request);
  }
  if (!s->tops.empty()) {
    metrics_->ObserveBatch(model, s->score.features.data(),
                           static_cast<int64_t>(s->tops.size()),
                           s->tops.data(), s->months.data());
  }
  return absl::OkStatus();
}

void ScoringEngine::Recommend(const grpc::ServerContextBase* context,
                              DecodedRequest request,
                              v1::RecommendResponse* response,
                              absl::AnyInvocable<void(absl::Status)> done) {
  {
    absl::MutexLock lock(&unary_mu_);
    unary_queue_.push_back(
        UnaryJob{context, std::move(request), response, std::move(done)});
  }
  // One task per call, and each task that finds calls queued takes at least
  // one: no call is left behind. A task may take several (see
  // ScoreQueuedUnary) and later ones find fewer, or none, left.
  if (!workers_->Submit([this](int worker) { ScoreQueuedUnary(worker); })) {
    FailQueuedUnary(absl::UnavailableError("the server is shutting down"));
  }
}

void ScoringEngine::FailQueuedUnary(const absl::Status& status) {
  std::deque<UnaryJob> jobs;
  {
    absl::MutexLock lock(&unary_mu_);
    jobs.swap(unary_queue_);
  }
  for (UnaryJob& job : jobs) job.done(status);
}

void ScoringEngine::ScoreQueuedUnary(int worker) {
  Scratch* s = &scratch_[worker];
  s->unary.clear();
  {
    // Take an even share of what is queued, so that the other workers (woken
    // by the tasks of the calls left behind) score the rest in parallel
    // rather than waiting idle while this one scores everything.
    absl::MutexLock lock(&unary_mu_);
    const int queued = static_cast<int>(unary_queue_.size());
    const int workers = std::max(1, workers_->size());
    const int take =
        std::min(options_.max_unary_batch, (queued + workers - 1) / workers);
    while (!unary_queue_.empty() && static_cast<int>(s->unary.size()) < take) {
      s->unary.push_back(std::move(unary_queue_.front()));
      unary_queue_.pop_front();
    }
  }
  if (s->unary.empty()) return;

  absl::StatusOr<std::shared_ptr<const ModelVersion>> model = ServingModel();
  if (!model.ok()) {
    for (UnaryJob& job : s->unary) job.done(model.status());
    s->unary.clear();
    return;
  }
  // Calls past their deadline (or cancelled) are answered now; the others
  // are scored together with the largest k asked for. TopK breaks ties by
  // product index, so the first k of a longer ranking are exactly the top k.
  s->decoded.clear();
  s->unary_row.assign(s->unary.size(), -1);
  int k = 1;
  for (size_t j = 0; j < s->unary.size(); ++j) {
    UnaryJob& job = s->unary[j];
    if (absl::Status call = CheckCall(*job.context); !call.ok()) {
      job.done(call);
      continue;
    }
    k = std::max(k, job.request.k);
    s->unary_row[j] = static_cast<int>(s->decoded.size());
    s->decoded.push_back(std::move(job.request));
  }
  absl::Status scored = absl::OkStatus();
  if (!s->decoded.empty()) {
    metrics_->UnaryBatch(static_cast<int>(s->decoded.size()));
    scored = ScoreDecoded(**model, nullptr, k, s);
  }
  for (size_t j = 0; j < s->unary.size(); ++j) {
    if (s->unary_row[j] < 0) continue;
    UnaryJob& job = s->unary[j];
    if (!scored.ok()) {
      job.done(scored);
      continue;
    }
    const DecodedRequest& request = s->decoded[s->unary_row[j]];
    RowScore& row = s->out[s->unary_row[j]];
    if (!row.status.ok()) {
      job.done(RowFailure(row.status));
      continue;
    }
    row.top.size = std::min(row.top.size, request.k);
    v1::RecommendResponse* response = job.response;
    EncodeTop(row.top, response->mutable_recommendations());
    response->set_model_name((*model)->name());
    response->set_model_version(absl::StrCat((*model)->version()));
    response->set_history_found(row.history != HistorySourceKind::kNotFound);
    response->set_history_source(EncodeHistorySource(row.history));
    response->set_fecha_dato(ScoredDate(request.record, row.target_month));
    response->set_history_month(s->history_month);
    job.done(absl::OkStatus());
  }
  s->unary.clear();
}

void ScoringEngine::ScoreStreamMessage(
    const grpc::ServerContextBase* context,
    std::unique_ptr<StreamBatch> batch, int k, StreamDone done) {
  auto job = [this, context, batch = std::move(batch), k,
              done = DoneOnce(std::move(done))](int worker) mutable {
    absl::StatusOr<std::unique_ptr<StreamBatch>> result =
        [&]() -> absl::StatusOr<std::unique_ptr<StreamBatch>> {
      if (absl::Status call = CheckCall(*context); !call.ok()) return call;
      absl::StatusOr<std::shared_ptr<const ModelVersion>> model =
          ServingModel();
      if (!model.ok()) return model.status();
      Scratch* s = &scratch_[worker];
      const v1::RecommendStreamRequest* request = batch->request;
      v1::RecommendStreamResponse* response = batch->response;
      response->set_model_name((*model)->name());
      response->set_model_version(absl::StrCat((*model)->version()));

      // Decode: a bad row gets its error now, the others are scored together.
      const auto parse_start = std::chrono::steady_clock::now();
      const int num_rows = request->rows_size();
      std::vector<int> decoded_index(num_rows, -1);
      s->decoded.clear();
      for (int i = 0; i < num_rows; ++i) {
        const v1::ScoreRow& row = request->rows(i);
        v1::RowResult* result = response->add_results();
        result->set_row_id(row.row_id());
        result->set_ncodpers(row.customer().ncodpers());
        absl::StatusOr<DecodedRequest> decoded = DecodeScoreRow(row, k);
        if (!decoded.ok()) {
          v1::RowError* error = result->mutable_error();
          error->set_code(static_cast<int>(decoded.status().code()));
          error->set_message(std::string(decoded.status().message()));
          error->set_field_path(FieldPathOf(decoded.status()));
          continue;
        }
        decoded_index[i] = static_cast<int>(s->decoded.size());
        s->decoded.push_back(*std::move(decoded));
      }
      metrics_->StageDuration(Stage::kParse, SecondsSince(parse_start));

      if (absl::Status scored = ScoreDecoded(**model, context, k, s);
          !scored.ok()) {
        return scored;
      }
      response->set_history_month(s->history_month);
      for (int i = 0; i < num_rows; ++i) {
        if (decoded_index[i] < 0) continue;
        const RowScore& row = s->out[decoded_index[i]];
        v1::RowResult* result = response->mutable_results(i);
        if (!row.status.ok()) {
          const absl::Status failure = RowFailure(row.status);
          v1::RowError* error = result->mutable_error();
          error->set_code(static_cast<int>(failure.code()));
          error->set_message(std::string(failure.message()));
          error->set_field_path(RowFieldPath(row.status));
          continue;
        }
        v1::RowRecommendations* recs = result->mutable_recommendations();
        EncodeTop(row.top, recs->mutable_recommendations());
        recs->set_history_found(row.history != HistorySourceKind::kNotFound);
        recs->set_history_source(EncodeHistorySource(row.history));
        recs->set_fecha_dato(
            ScoredDate(s->decoded[decoded_index[i]].record, row.target_month));
      }
      return std::move(batch);
    }();
    done(std::move(result));
  };
  workers_->Submit(
      std::move(job));  // a refused job answers UNAVAILABLE (DoneOnce)
}

}  // namespace recsys
