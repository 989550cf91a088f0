#include "server/metrics.h"

#include <array>
#include <map>
#include <string>
#include <exception>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/node_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/date.h"
#include "prometheus/collectable.h"
#include "prometheus/counter.h"
#include "prometheus/exposer.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"
#include "prometheus/text_serializer.h"
#include "server/batch_tally.h"
#include "server/listen_error.h"
#include "server/metric_families.h"
#include "server/process_metrics.h"
#include "server/serving_series.h"

namespace recsys {
namespace {

using prometheus::Counter;
using prometheus::Histogram;

constexpr int kNumCodes = 17;  // absl::StatusCode 0..16, as grpc::StatusCode
constexpr const char* kAdminAuthReasons[] = {"disabled", "no_credentials",
                                           "bad_token", "client_not_allowed"};

struct MethodSeries {
  Counter* started = nullptr;
  std::array<Counter*, kNumCodes> handled{};
  Histogram* handling = nullptr;
};

class ServerMetricsImpl;

// Computes the PSI gauges when /metrics is scraped.
class DriftCollectable final : public prometheus::Collectable {
 public:
  explicit DriftCollectable(const ServerMetricsImpl* owner) : owner_(owner) {}
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  const ServerMetricsImpl* const owner_;  // owns this collectable
};

class ServerMetricsImpl final : public ServerMetrics {
 public:
  ServerMetricsImpl(const MetricsOptions& options,
                    std::unique_ptr<prometheus::Exposer> exposer)
      : options_(options),
        registry_(std::make_shared<prometheus::Registry>()),
        core_(RegisterCoreSeries(*registry_)),
        model_families_(RegisterModelFamilies(*registry_)),
        history_(RegisterHistorySeries(*registry_)),
        drift_collectable_(std::make_shared<DriftCollectable>(this)),
        process_collectable_(std::make_shared<ProcessCollectable>()),
        exposer_(std::move(exposer)) {
    RegisterBuildInfo(CurrentBuildInfo(), *registry_);
    absl::MutexLock lock(&mu_);
    for (auto& ranks : recommended_) ranks.fill(nullptr);
    for (int p = 0; p < kNumProducts; ++p) {
      for (int rank = 0; rank < kPrecreatedRanks; ++rank) {
        RecommendedLocked(p, rank);
      }
    }
    auto& auth_failures =
        prometheus::BuildCounter()
            .Name("recsys_admin_auth_failures_total")
            .Help("ModelAdmin calls refused by admin authentication, by "
                  "reason (disabled, no_credentials, bad_token, "
                  "client_not_allowed).")
            .Register(*registry_);
    for (const char* reason : kAdminAuthReasons)
      admin_auth_failures_[reason] = &auth_failures.Add({{"reason", reason}});
    auto& served_rows =
        prometheus::BuildCounter()
            .Name("recsys_served_log_rows_total")
            .Help("Answered rows written to the served log (--served-log), "
                  "or dropped (queue full, customer or month cap).")
            .Register(*registry_);
    served_logged_ = &served_rows.Add({{"result", "logged"}});
    served_dropped_ = &served_rows.Add({{"result", "dropped"}});
    served_months_dropped_ =
        &prometheus::BuildCounter()
             .Name("recsys_served_log_months_dropped_total")
             .Help("Months dropped from the served log to keep "
                   "--served-log-months months.")
             .Register(*registry_)
             .Add({});
    realized_ap_sum_ =
        &prometheus::BuildCounter()
             .Name("recsys_realized_ap_sum")
             .Help("Sum of AP@7 of the answers a version served for a month, "
                   "against what each customer added that month (served "
                   "customers of the month; evaluated once per process when a "
                   "history holding the month arrives).")
             .Register(*registry_);
    realized_customers_ =
        &prometheus::BuildCounter()
             .Name("recsys_realized_customers_total")
             .Help("Customers of a month a version served, counted in "
                   "recsys_realized_ap_sum (those who added nothing included, "
                   "as Kaggle's MAP@7 counts them).")
             .Register(*registry_);
    validation_map7_ =
        &prometheus::BuildGauge()
             .Name("recsys_model_validation_map7")
             .Help("The validation MAP@7 in a model version's manifest (set "
                   "for the versions with realized numbers).")
             .Register(*registry_);
    version_rows_ = &prometheus::BuildCounter()
                         .Name("recsys_version_rows_scored_total")
                         .Help("Rows scored, by the model version that scored "
                               "them (champion or challenger).")
                         .Register(*registry_);
    challenger_share_ =
        &prometheus::BuildGauge()
             .Name("recsys_challenger_share")
             .Help("Share of the customers (by a hash of ncodpers) answered "
                   "by the challenger version; absent without a challenger.")
             .Register(*registry_);
    if (exposer_ != nullptr) {
      exposer_->RegisterCollectable(registry_);
      exposer_->RegisterCollectable(drift_collectable_);
      exposer_->RegisterCollectable(process_collectable_);
    }
  }

  ~ServerMetricsImpl() override {
    // Stop serving /metrics before the registry and collectables go.
    exposer_.reset();
  }

  int port() const override {
    if (exposer_ == nullptr) return -1;
    const std::vector<int> ports = exposer_->GetListeningPorts();
    return ports.empty() ? -1 : ports[0];
  }

  std::string Scrape() const override {
    std::vector<prometheus::MetricFamily> families = registry_->Collect();
    for (prometheus::MetricFamily& f : drift_collectable_->Collect()) {
      families.push_back(std::move(f));
    }
    for (prometheus::MetricFamily& f : process_collectable_->Collect()) {
      families.push_back(std::move(f));
    }
    return prometheus::TextSerializer().Serialize(families);
  }

  void RegisterRpcMethod(absl::string_view service, absl::string_view method,
                         absl::string_view type, Protocol protocol) override {
    Method(service, method, type, protocol);
  }

  void RpcStarted(absl::string_view service, absl::string_view method,
                  absl::string_view type, Protocol protocol) override {
    Method(service, method, type, protocol).started->Increment();
  }

  void RpcHandled(absl::string_view service, absl::string_view method,
                  absl::string_view type, Protocol protocol,
                  absl::StatusCode code, double seconds) override {
    const MethodSeries& series = Method(service, method, type, protocol);
    int c = static_cast<int>(code);
    if (c < 0 || c >= kNumCodes)
      c = static_cast<int>(absl::StatusCode::kUnknown);
    series.handled[c]->Increment();
    series.handling->Observe(seconds);
  }

  void AdminAuthFailure(absl::string_view reason) override {
    // Written only in the constructor: read without a lock.
    const auto it = admin_auth_failures_.find(reason);
    if (it != admin_auth_failures_.end()) it->second->Increment();
  }

  void InflightRequests(int delta) override {
    if (delta >= 0) {
      core_.inflight->Increment(delta);
    } else {
      core_.inflight->Decrement(-delta);
    }
  }

  void StageDuration(Stage stage, double seconds) override {
    const int s = static_cast<int>(stage);
    if (s >= 0 && s < kNumStages) core_.stages[s]->Observe(seconds);
  }

  void RowsScored(int64_t rows) override {
    if (rows > 0) core_.rows_scored->Increment(static_cast<double>(rows));
  }

  void VersionRowsScored(const ModelVersion& version, int64_t rows) override {
    if (rows <= 0) return;
    const std::pair<std::string, int64_t> key(version.name(),
                                              version.version());
    Counter* counter = nullptr;
    {
      absl::MutexLock lock(&version_mu_);
      Counter*& c = version_rows_by_[key];
      if (c == nullptr) {
        c = &version_rows_->Add(
            {{"model", key.first}, {"version", absl::StrCat(key.second)}});
      }
      counter = c;
    }
    counter->Increment(static_cast<double>(rows));
  }

  void ChallengerShare(const ModelVersion* version, double share) override {
    absl::MutexLock lock(&version_mu_);
    if (challenger_gauge_ != nullptr) challenger_share_->Remove(challenger_gauge_);
    challenger_gauge_ = nullptr;
    if (version == nullptr) return;
    challenger_gauge_ = &challenger_share_->Add(
        {{"model", version->name()},
         {"version", absl::StrCat(version->version())}});
    challenger_gauge_->Set(share);
  }

  void UnaryBatch(int calls) override {
    if (calls > 0) core_.unary_batch->Observe(calls);
  }

  void HistoryLookups(HistorySourceKind source, int64_t count) override {
    if (count <= 0) return;
    Counter* counter = nullptr;
    switch (source) {
      case HistorySourceKind::kStore:
        counter = core_.history_hit;
        break;
      case HistorySourceKind::kNotFound:
        counter = core_.history_miss;
        break;
      case HistorySourceKind::kRequest:
        counter = core_.history_request;
        break;
    }
    if (counter != nullptr) counter->Increment(static_cast<double>(count));
  }

  void ModelLoad(bool ok, double seconds) override {
    core_.load_duration->Observe(seconds);
    (ok ? core_.reload_success : core_.reload_failure)->Increment();
  }

  void ModelLoadThreads(int in_progress, int stuck) override {
    core_.loads_in_progress->Set(in_progress);
    core_.store_stuck->Set(stuck);
  }

  void ServingModelDeleted(bool deleted) override {
    core_.serving_deleted->Set(deleted ? 1 : 0);
  }

  void HistoryServing(absl::string_view month) override {
    absl::MutexLock lock(&history_mu_);
    if (history_info_ != nullptr) history_.info->Remove(history_info_);
    history_info_ = &history_.info->Add({{"month", std::string(month)}});
    history_info_->Set(1);
  }

  void HistoryLoad(bool ok) override {
    (ok ? history_.load_success : history_.load_failure)->Increment();
  }

  void HistoryStaleRows(int64_t rows) override {
    if (rows > 0) history_.stale_requests->Increment(static_cast<double>(rows));
  }

  void ServedLogRows(int64_t logged, int64_t dropped) override {
    if (logged > 0) served_logged_->Increment(static_cast<double>(logged));
    if (dropped > 0) served_dropped_->Increment(static_cast<double>(dropped));
  }

  void ServedLogMonthDropped() override { served_months_dropped_->Increment(); }

  void RealizedMonth(absl::string_view model, int64_t version,
                     absl::string_view month, double ap_sum, int64_t customers,
                     double validation_map7) override {
    const std::string name(model);
    const std::string v = absl::StrCat(version);
    const std::map<std::string, std::string> labels = {
        {"model", name}, {"version", v}, {"month", std::string(month)}};
    realized_ap_sum_->Add(labels).Increment(ap_sum);
    realized_customers_->Add(labels).Increment(static_cast<double>(customers));
    validation_map7_->Add({{"model", name}, {"version", v}})
        .Set(validation_map7);
  }

  void ModelServing(const ModelVersion& version) override {
    absl::MutexLock lock(&mu_);
    if (serving_ != nullptr && serving_->identity.Matches(version)) return;
    std::unique_ptr<ServingSeries> next =
        ServingSeries::Create(version, model_families_, DriftOptions());
    if (serving_ != nullptr) RetireSeries(*serving_, *next, model_families_);
    serving_ = std::move(next);
  }

  void ObserveBatch(const ModelVersion& version, const float* features,
                    int64_t rows, const TopKResult* tops,
                    const int* months) override {
    if (rows <= 0) return;
    thread_local BatchTally tally;
    tally.Count(version, features, rows, tops, ScoreBuckets());  // no lock
    absl::MutexLock lock(&mu_);
    for (int p = 0; p < kNumProducts; ++p) {
      if (tally.top1[p] > 0) core_.prediction_bins[p]->Increment(tally.top1[p]);
      for (int rank = 0; rank < tally.max_rank; ++rank) {
        const int64_t n = tally.recommended[p][rank];
        if (n > 0)
          RecommendedLocked(p, rank)->Increment(static_cast<double>(n));
      }
      if (tally.score_count[p] > 0) {
        core_.scores[p]->ObserveMultiple(tally.score_buckets[p],
                                         tally.score_sum[p]);
      }
    }
    ServingSeries* s = serving_.get();
    if (s == nullptr || !s->identity.Matches(version) ||
        s->bin_offsets != tally.bin_offsets) {
      return;  // another version's rows: its bins are not the serving ones
    }
    for (int i : tally.touched_bins) {
      s->bins[i]->Increment(static_cast<double>(tally.bin_counts[i]));
    }
    for (size_t f = 0; f < tally.missing.size(); ++f) {
      if (tally.missing[f] > 0) {
        s->missing[f]->Increment(static_cast<double>(tally.missing[f]));
      }
      if (tally.unknown[f] > 0 && s->unknown[f] != nullptr) {
        s->unknown[f]->Increment(static_cast<double>(tally.unknown[f]));
      }
    }
    if (s->drift != nullptr) AddDriftRowsLocked(s->drift.get(), tally, months, rows);
  }

  DriftSnapshot Drift() const override {
    DriftSnapshot out;
    absl::MutexLock lock(&mu_);
    const ServingSeries* s = serving_.get();
    if (s == nullptr) return out;
    out.serving = true;
    out.model = s->identity.model;
    out.version = s->identity.version;
    out.window_rows = options_.drift_window;
    out.min_rows = options_.drift_min_rows;
    const int nf = static_cast<int>(s->feature_names.size());
    const DriftMonitor* drift = s->drift.get();
    if (drift != nullptr && drift->month().has_value()) {
      out.month = MonthName(*drift->month());
      out.rows_seen = drift->rows_seen();
      out.rows_sampled = drift->rows();
    }
    for (int f = 0; f < nf; ++f) {
      DriftSnapshot::Feature& feature = out.features.emplace_back();
      feature.name = s->feature_names[f];
      if (drift == nullptr || !s->has_drift[f]) continue;
      feature.rows = drift->rows(f);
      feature.psi = drift->Psi(f);
    }
    out.prediction_share.assign(kNumProducts, 0.0);
    out.prediction_reference.assign(kNumProducts, 0.0);
    for (int p = 0; p < kNumProducts; ++p) {
      if (s->prediction_ratios[p] != nullptr)
        out.prediction_reference[p] = s->prediction_ratios[p]->Value();
    }
    if (drift != nullptr) {
      out.prediction_psi = drift->Psi(nf);
      const std::vector<double> counts = drift->Counts(nf);
      const double total = static_cast<double>(drift->rows(nf));
      for (int p = 0; p < kNumProducts && p < static_cast<int>(counts.size());
           ++p) {
        out.prediction_share[p] = total > 0 ? counts[p] / total : 0.0;
      }
    }
    return out;
  }

  // The PSI gauges of the serving version's window (see DriftCollectable).
  std::vector<prometheus::MetricFamily> CollectDrift() const {
    prometheus::MetricFamily feature_psi = FeaturePsiFamily();
    prometheus::MetricFamily prediction_psi = PredictionPsiFamily();
    {
      absl::MutexLock lock(&mu_);
      const ServingSeries* s = serving_.get();
      if (s != nullptr && s->drift != nullptr) {
        const int nf = static_cast<int>(s->feature_names.size());
        for (int f = 0; f < nf; ++f) {
          if (!s->has_drift[f]) continue;
          std::optional<double> psi = s->drift->Psi(f);
          if (!psi.has_value()) continue;
          prometheus::ClientMetric m;
          m.label.push_back({"feature", s->feature_names[f]});
          m.gauge.value = *psi;
          feature_psi.metric.push_back(std::move(m));
        }
        if (std::optional<double> psi = s->drift->Psi(nf); psi.has_value()) {
          prometheus::ClientMetric m;
          m.gauge.value = *psi;
          prediction_psi.metric.push_back(std::move(m));
        }
      }
    }
    std::vector<prometheus::MetricFamily> out;
    if (!feature_psi.metric.empty()) out.push_back(std::move(feature_psi));
    if (!prediction_psi.metric.empty())
      out.push_back(std::move(prediction_psi));
    return out;
  }

 private:
  // Ranks 1..7 (the default k) exist at 0 from the start; deeper ranks appear
  // when first recommended.
  static constexpr int kPrecreatedRanks = 7;

  // Gives each run of rows of one month to that month's drift sample.
  void AddDriftRowsLocked(DriftMonitor* drift, const BatchTally& tally,
                          const int* months, int64_t rows)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    const int64_t nv = drift->num_variables();
    for (int64_t start = 0, end = 0; start < rows; start = end) {
      end = start + 1;
      while (end < rows && months[end] == months[start]) ++end;
      drift->AddRows(months[start], tally.drift_bins.data() + start * nv,
                     end - start);
    }
  }

  DriftMonitorOptions DriftOptions() const {
    return DriftMonitorOptions{.window_rows = options_.drift_window,
                               .min_rows = options_.drift_min_rows};
  }

  // The series of one RPC method, created (every code at 0) on first use.
  // node_hash_map entries never move and are never erased, so the reference
  // stays valid after the lock is released.
  const MethodSeries& Method(absl::string_view service,
                             absl::string_view method, absl::string_view type,
                             Protocol protocol) {
    std::string key = absl::StrCat(service, "/", method, "/", type, "/",
                                   ProtocolName(protocol));
    {
      absl::ReaderMutexLock lock(&methods_mu_);
      auto it = methods_.find(key);
      if (it != methods_.end()) return it->second;
    }
    absl::MutexLock lock(&methods_mu_);
    auto [it, inserted] = methods_.try_emplace(std::move(key));
    if (inserted) {
      const prometheus::Labels labels = {{"grpc_service", std::string(service)},
                                         {"grpc_method", std::string(method)},
                                         {"grpc_type", std::string(type)},
                                         {"protocol", std::string(ProtocolName(protocol))}};
      it->second.started = &core_.grpc_started->Add(labels);
      it->second.handling = &core_.grpc_handling->Add(labels, LatencyBuckets());
      for (int c = 0; c < kNumCodes; ++c) {
        prometheus::Labels with_code = labels;
        with_code["grpc_code"] =
            std::string(GrpcCodeName(static_cast<absl::StatusCode>(c)));
        it->second.handled[c] = &core_.grpc_handled->Add(with_code);
      }
    }
    return it->second;
  }

  Counter* RecommendedLocked(int product, int rank)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    Counter*& c = recommended_[product][rank];
    if (c == nullptr) {
      c = &core_.recommended->Add(
          {{"product", std::string(kProducts[product].column)},
           {"rank", absl::StrCat(rank + 1)}});
    }
    return c;
  }

  // Constant after construction (the series they point to are thread-safe).
  const MetricsOptions options_;
  const std::shared_ptr<prometheus::Registry> registry_;
  const CoreSeries core_;
  const ModelFamilies model_families_;
  const HistorySeries history_;
  const std::shared_ptr<DriftCollectable> drift_collectable_;
  const std::shared_ptr<ProcessCollectable> process_collectable_;

  // By reason; filled by the constructor, constant after.
  absl::flat_hash_map<std::string, Counter*> admin_auth_failures_;

  absl::Mutex methods_mu_;
  absl::node_hash_map<std::string, MethodSeries> methods_
      ABSL_GUARDED_BY(methods_mu_);

  // Set in the constructor; prometheus-cpp's families and counters are
  // thread-safe.
  Counter* served_logged_ = nullptr;
  Counter* served_dropped_ = nullptr;
  Counter* served_months_dropped_ = nullptr;
  prometheus::Family<Counter>* realized_ap_sum_ = nullptr;
  prometheus::Family<Counter>* realized_customers_ = nullptr;
  prometheus::Family<prometheus::Gauge>* validation_map7_ = nullptr;
  // Written only in the constructor.
  prometheus::Family<Counter>* version_rows_ = nullptr;
  prometheus::Family<prometheus::Gauge>* challenger_share_ = nullptr;

  absl::Mutex version_mu_;
  // recsys_version_rows_scored_total by (model, version); never removed (a
  // counter of a version once served keeps its count).
  std::map<std::pair<std::string, int64_t>, Counter*> version_rows_by_
      ABSL_GUARDED_BY(version_mu_);
  prometheus::Gauge* challenger_gauge_ ABSL_GUARDED_BY(version_mu_) = nullptr;

  absl::Mutex history_mu_;
  prometheus::Gauge* history_info_ ABSL_GUARDED_BY(history_mu_) = nullptr;

  mutable absl::Mutex mu_;
  std::unique_ptr<ServingSeries> serving_ ABSL_GUARDED_BY(mu_);
  // [product][rank - 1]; null until created.
  std::array<std::array<Counter*, kNumProducts>, kNumProducts> recommended_
      ABSL_GUARDED_BY(mu_);

  // Last, so that it is destroyed first (also reset in the destructor):
  // its threads call the collectables above.
  std::unique_ptr<prometheus::Exposer> exposer_;
};

std::vector<prometheus::MetricFamily> DriftCollectable::Collect() const {
  return owner_->CollectDrift();
}

}  // namespace

absl::string_view StageName(Stage stage) {
  switch (stage) {
    case Stage::kParse:
      return "parse";
    case Stage::kFeaturize:
      return "featurize";
    case Stage::kPredict:
      return "predict";
    case Stage::kRank:
      return "rank";
  }
  return "unknown";
}

absl::string_view ProtocolName(Protocol protocol) {
  return protocol == Protocol::kHttp ? "http" : "grpc";
}

absl::string_view GrpcCodeName(absl::StatusCode code) {
  static constexpr absl::string_view kNames[kNumCodes] = {"OK",
                                                          "Canceled",
                                                          "Unknown",
                                                          "InvalidArgument",
                                                          "DeadlineExceeded",
                                                          "NotFound",
                                                          "AlreadyExists",
                                                          "PermissionDenied",
                                                          "ResourceExhausted",
                                                          "FailedPrecondition",
                                                          "Aborted",
                                                          "OutOfRange",
                                                          "Unimplemented",
                                                          "Internal",
                                                          "Unavailable",
                                                          "DataLoss",
                                                          "Unauthenticated"};
  const int c = static_cast<int>(code);
  return c >= 0 && c < kNumCodes ? kNames[c] : kNames[2];
}

absl::StatusOr<std::unique_ptr<ServerMetrics>> ServerMetrics::Create(
    const MetricsOptions& options) {
  if (options.drift_window < 1 || options.drift_min_rows < 1 ||
      options.drift_min_rows > options.drift_window) {
    return absl::InvalidArgumentError(
        absl::StrCat("metrics: need 1 <= drift_min_rows <= drift_window, got ",
                     options.drift_min_rows, " and ", options.drift_window));
  }
  if (options.threads < 2) {
    return absl::InvalidArgumentError(absl::StrCat(
        "metrics: --metrics-threads must be at least 2, got ", options.threads));
  }
  if (options.request_timeout < absl::Milliseconds(100)) {
    return absl::InvalidArgumentError(
        absl::StrCat("metrics: request timeout must be at least 100ms, got ",
                     absl::FormatDuration(options.request_timeout)));
  }
  std::unique_ptr<prometheus::Exposer> exposer;
  if (options.port >= 0) {
    const bool ipv6 = options.bind.find(':') != std::string::npos;
    const std::string address =
        ipv6 ? absl::StrCat("[", options.bind, "]:", options.port)
             : absl::StrCat(options.bind, ":", options.port);
    // civetweb gives each connection a thread of its own until the request
    // is read: a client that connects and sends nothing holds one for up to
    // request_timeout_ms (civetweb's default: 30 s). Enough threads, and a
    // short timeout, keep a few slow clients from blinding Prometheus.
    std::vector<std::string> civetweb_options = {
        "listening_ports",
        address,
        "num_threads",
        absl::StrCat(options.threads),
        "request_timeout_ms",
        absl::StrCat(absl::ToInt64Milliseconds(options.request_timeout)),
        "enable_keep_alive",
        "no"};
    try {
      exposer = std::make_unique<prometheus::Exposer>(civetweb_options);
    } catch (const std::exception& e) {
      if (PortInUse(options.bind, options.port)) {
        return PortInUseError("metrics", options.bind, options.port,
                              "--metrics-port");
      }
      return absl::InternalError(
          absl::StrCat("metrics: cannot listen on ", address, ": ", e.what()));
    }
  }
  return std::unique_ptr<ServerMetrics>(
      new ServerMetricsImpl(options, std::move(exposer)));
}

}  // namespace recsys
