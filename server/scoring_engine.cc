#include "server/scoring_engine.h"

#include <algorithm>
#include <chrono>
#include <deque>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/date.h"
#include "common/elapsed.h"
#include "common/status_macros.h"
#include "common/traffic_split.h"

namespace recsys {
namespace {

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

ScoringEngine::ScoringEngine(ModelStore* store, WorkerPool* workers,
                             ServerMetrics* metrics,
                             const ScoringEngineOptions& options)
    : store_(store),
      workers_(workers),
      metrics_(metrics),
      options_{.max_unary_batch = std::max(1, options.max_unary_batch),
               .score_lone_calls_inline = options.score_lone_calls_inline,
               .history = options.history},
      scratch_(workers->size()) {
  absl::MutexLock lock(&unary_mu_);
  inline_scratch_ = std::make_unique<Scratch>();
}

ScoringEngine::~ScoringEngine() {
  FailQueuedUnary(absl::UnavailableError("the server is shutting down"));
}

absl::StatusOr<ServingModels> ScoringEngine::ServingModel() const {
  ServingModels serving = store_->Serving();
  if (serving.champion == nullptr) {
    return absl::UnavailableError(
        "no model is loaded yet; the server is not serving");
  }
  return serving;
}

namespace {

// The version `serving` routes the customer of `request` to.
const ModelVersion* RouteOf(const ServingModels& serving,
                            const DecodedRequest& request) {
  if (serving.challenger != nullptr &&
      RoutesToChallenger(request.record.ncodpers.value,
                         serving.challenger_share))
    return serving.challenger.get();
  return serving.champion.get();
}

}  // namespace

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
                                   absl::Span<const RowScore> out) {
  int64_t stale = 0;
  for (const RowScore& row : out) {
    if (row.status.ok() && row.history != HistorySourceKind::kRequest &&
        row.target_month > history.month + 1)
      ++stale;
  }
  metrics_->HistoryStaleRows(stale);
}

absl::Status ScoringEngine::ScoreDecoded(const ServingModels& serving,
                                         const CallCheck& check, int k,
                                         Scratch* s) {
  const size_t n = s->decoded.size();
  s->out.resize(n);
  s->row_model.resize(n);
  for (size_t i = 0; i < n; ++i) s->row_model[i] = RouteOf(serving, s->decoded[i]);
  s->challenger_history_month.clear();
  s->explanations.clear();
  for (const ModelVersion* model :
       {serving.champion.get(), serving.challenger.get()}) {
    if (model == nullptr) continue;
    const bool champion = model == serving.champion.get();
    std::string* month =
        champion ? &s->history_month : &s->challenger_history_month;
    s->part.clear();
    for (size_t i = 0; i < n; ++i) {
      if (s->row_model[i] == model) s->part.push_back(static_cast<int>(i));
    }
    if (s->part.empty()) {
      if (champion) {  // the response names it even when no row used it
        std::shared_ptr<const HistoryVersion> hold;
        *month = MonthName(HistoryFor(*model, &hold).month);
      }
      continue;
    }
    RECSYS_RETURN_IF_ERROR(ScorePart(*model, check, k, s, month));
  }
  return absl::OkStatus();
}

absl::Status ScoringEngine::ScorePart(const ModelVersion& model,
                                      const CallCheck& check, int k,
                                      Scratch* s, std::string* month) {
  const size_t m = s->part.size();
  // Every row on one version (no challenger, the usual case): scored in
  // place, without copies.
  const bool whole = m == s->decoded.size();
  s->views.assign(m, HistoryView());
  s->rows.assign(m, ScoreInput());
  for (size_t j = 0; j < m; ++j) {
    DecodedRequest& request = s->decoded[s->part[j]];
    s->rows[j].record = &request.record;
    if (request.history.has_value()) {
      // The codec already checked the entries; FromExplicit cannot fail here.
      absl::StatusOr<HistoryView> view =
          HistoryView::FromExplicit(*request.history);
      if (!view.ok()) return view.status();
      s->views[j] = *view;
      s->rows[j].history = &s->views[j];
    }
  }
  absl::Span<RowScore> out = absl::MakeSpan(s->out);
  if (!whole) {
    s->part_out.resize(m);
    out = absl::MakeSpan(s->part_out);
  }
  // One history snapshot for all the rows of this version, held until they
  // are scored.
  std::shared_ptr<const HistoryVersion> hold;
  const HistoryChoice history = HistoryFor(model, &hold);
  *month = MonthName(history.month);
  ScoreTimings timings;
  absl::Status scored = ScoreBatch(model, *history.snapshot, s->rows, k,
                                   &s->score, out, &timings, check);
  if (!scored.ok()) return scored;
  CountStaleRows(history, out);

  s->tops.clear();
  s->months.clear();
  for (const RowScore& row : out) {
    if (!row.status.ok()) continue;
    s->tops.push_back(row.top);
    s->months.push_back(row.target_month);
  }
  metrics_->StageDuration(Stage::kFeaturize, timings.featurize_seconds);
  metrics_->StageDuration(Stage::kPredict, timings.predict_seconds);
  metrics_->StageDuration(Stage::kRank, timings.rank_seconds);
  metrics_->RowsScored(static_cast<int64_t>(s->tops.size()));
  metrics_->VersionRowsScored(model, static_cast<int64_t>(s->tops.size()));
  metrics_->HistoryLookups(HistorySourceKind::kStore, timings.history_hits);
  metrics_->HistoryLookups(HistorySourceKind::kNotFound,
                           timings.history_misses);
  metrics_->HistoryLookups(HistorySourceKind::kRequest,
                           timings.history_from_request);
  if (!s->tops.empty()) {
    metrics_->ObserveBatch(model, s->score.features.data(),
                           static_cast<int64_t>(s->tops.size()),
                           s->tops.data(), s->months.data());
  }
  ExplainPart(model, out, s);
  if (!whole) {
    for (size_t j = 0; j < m; ++j) s->out[s->part[j]] = std::move(out[j]);
  }
  return absl::OkStatus();
}

void ScoringEngine::ExplainPart(const ModelVersion& model,
                                absl::Span<RowScore> out, Scratch* s) {
  const size_t nf = static_cast<size_t>(model.num_features());
  for (size_t j = 0; j < s->part.size(); ++j) {
    const int r = s->part[j];
    const DecodedRequest& request = s->decoded[r];
    if (!request.explain || !out[j].status.ok()) continue;
    if (s->explanations.size() != s->decoded.size()) {
      s->explanations.resize(s->decoded.size());
    }
    // Only the call's own k (a batch is scored with its largest).
    TopKResult top = out[j].top;
    top.size = std::min(top.size, request.k);
    const float* features =
        s->score.features.data() + s->score.feature_row[j] * nf;
    absl::Status explained =
        ExplainRow(model, features, top, request.explain_features, &s->explain,
                   &s->explanations[r]);
    if (!explained.ok()) {
      out[j].status = absl::InternalError(
          absl::StrCat("explaining the products: ", explained.message()));
      out[j].error_field = {};
    }
  }
}

std::unique_ptr<ScoringEngine::Scratch> ScoringEngine::InlineScratchLocked(
    const ModelVersion* model) {
  if (!options_.score_lone_calls_inline || model == nullptr ||
      model->forest() == nullptr || !unary_queue_.empty() ||
      inline_scratch_ == nullptr || workers_->queued() > 0 ||
      workers_->running() > 0) {
    return nullptr;
  }
  return std::move(inline_scratch_);
}

void ScoringEngine::Recommend(CallCheck check, DecodedRequest request,
                              Done done) {
  ServingModels serving;
  const ModelVersion* model = nullptr;  // the version the call goes to
  // Explaining predicts with XGBoost: on the pool's threads only.
  if (options_.score_lone_calls_inline && !request.explain) {
    serving = store_->Serving();
    if (serving.champion != nullptr) model = RouteOf(serving, request);
  }
  std::unique_ptr<Scratch> inline_scratch;
  {
    absl::MutexLock lock(&unary_mu_);
    inline_scratch = InlineScratchLocked(model);
    if (inline_scratch == nullptr) {
      unary_queue_.push_back(
          UnaryJob{std::move(check), std::move(request), std::move(done)});
    }
  }
  if (inline_scratch != nullptr) {
    inline_scratch->unary.clear();
    inline_scratch->unary.push_back(
        UnaryJob{std::move(check), std::move(request), std::move(done)});
    scored_inline_.fetch_add(1, std::memory_order_relaxed);
    AnswerUnary(serving, inline_scratch.get());
    absl::MutexLock lock(&unary_mu_);
    inline_scratch_ = std::move(inline_scratch);
    return;
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

  absl::StatusOr<ServingModels> serving = ServingModel();
  if (!serving.ok()) {
    for (UnaryJob& job : s->unary) job.done(serving.status());
    s->unary.clear();
    return;
  }
  AnswerUnary(*serving, s);
}

void ScoringEngine::AnswerUnary(const ServingModels& serving, Scratch* s) {
  // Calls past their deadline (or cancelled) are answered now; the others
  // are scored together with the largest k asked for. TopK breaks ties by
  // product index, so the first k of a longer ranking are exactly the top k.
  s->decoded.clear();
  s->unary_row.assign(s->unary.size(), -1);
  int k = 1;
  for (size_t j = 0; j < s->unary.size(); ++j) {
    UnaryJob& job = s->unary[j];
    if (absl::Status call = job.check(); !call.ok()) {
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
    scored = ScoreDecoded(serving, CallCheck(), k, s);
  }
  for (size_t j = 0; j < s->unary.size(); ++j) {
    if (s->unary_row[j] < 0) continue;
    UnaryJob& job = s->unary[j];
    if (!scored.ok()) {
      job.done(scored);
      continue;
    }
    const int r = s->unary_row[j];
    RowScore& row = s->out[r];
    // Scored with the batch's largest k: keep the call's own.
    row.top.size = std::min(row.top.size, s->decoded[r].k);
    const bool challenger = s->row_model[r] != serving.champion.get();
    absl::Span<const std::vector<ProductExplanation>> explanations;
    if (!s->explanations.empty()) {
      explanations = absl::MakeConstSpan(&s->explanations[r], 1);
    }
    job.done(ScoredRows{.model = s->row_model[r],
                        .history_month = challenger
                                             ? s->challenger_history_month
                                             : s->history_month,
                        .requests = absl::MakeConstSpan(&s->decoded[r], 1),
                        .scores = absl::MakeConstSpan(&row, 1),
                        .row_models = absl::MakeConstSpan(&s->row_model[r], 1),
                        .challenger_history_month = {},
                        .explanations = explanations});
  }
  s->unary.clear();
}

void ScoringEngine::ScoreRows(CallCheck check, int k, DecodeRows decode,
                              Done done) {
  auto job = [this, check = std::move(check), k, decode = std::move(decode),
              done = DoneOnce(std::move(done))](int worker) mutable {
    if (absl::Status call = check(); !call.ok()) return done(call);
    absl::StatusOr<ServingModels> serving = ServingModel();
    if (!serving.ok()) return done(serving.status());
    Scratch* s = &scratch_[worker];
    const auto parse_start = std::chrono::steady_clock::now();
    s->decoded.clear();
    decode(&s->decoded);
    metrics_->StageDuration(Stage::kParse, SecondsSince(parse_start));
    if (absl::Status scored = ScoreDecoded(*serving, check, k, s);
        !scored.ok()) {
      return done(scored);
    }
    done(ScoredRows{.model = serving->champion.get(),
                    .history_month = s->history_month,
                    .requests = s->decoded,
                    .scores = s->out,
                    .row_models = s->row_model,
                    .challenger_history_month = s->challenger_history_month,
                    .explanations = s->explanations});
  };
  workers_->Submit(
      std::move(job));  // a refused job answers UNAVAILABLE (DoneOnce)
}

}  // namespace recsys
