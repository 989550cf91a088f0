// ServerMetrics: every Prometheus series the server exports, and the drift
// monitor that compares live inputs and predictions with the serving model's
// training references. Exposed by prometheus-cpp's pull exposer at
// http://<bind>:<port>/metrics.
//
// clang-format off
//   MetricsOptions options;
//   options.port = 9464;
//   RECSYS_ASSIGN_OR_RETURN(auto metrics, ServerMetrics::Create(options));
//   metrics->RpcStarted("santander.recsys.v1.Recommender", "Recommend", "unary",
//                       Protocol::kGrpc);
//   ...
//   metrics->RpcHandled("santander.recsys.v1.Recommender", "Recommend", "unary",
//                       Protocol::kGrpc, absl::StatusCode::kOk, seconds);
//
// Series (see docs/monitoring.md):
//   grpc_server_started_total{grpc_service,grpc_method,grpc_type,protocol}
//   grpc_server_handled_total{grpc_service,grpc_method,grpc_type,protocol,grpc_code}
//   grpc_server_handling_seconds{grpc_service,grpc_method,grpc_type,protocol} (histogram)
//     (protocol "grpc", or "http" for the same method called over HTTP/JSON,
//     server/http_gateway.h)
//   recsys_stage_duration_seconds{stage} (histogram; parse featurize predict rank)
//   recsys_rows_scored_total
//   recsys_version_rows_scored_total{model,version} (rows per version that
//     scored them: champion and challenger)
//   recsys_challenger_share{model,version} (share of customers routed to the
//     challenger; absent without one)
//   recsys_inflight_requests
//   recsys_history_lookups_total{result="hit|miss|request"}
//   recsys_model_info{model,version,feature_spec_hash,predictor} = 1 for the serving version
//   recsys_model_load_duration_seconds (histogram)
//   recsys_model_reloads_total{result="success|failure"}
//   recsys_model_loads_in_progress, recsys_model_store_stuck,
//     recsys_serving_model_deleted (gauges)
//   recsys_recommended_total{product,rank}
//   recsys_prediction_score{product} (histogram)
//   recsys_feature_bin_total{feature,bin}, recsys_feature_reference_ratio{feature,bin}
//   recsys_feature_missing_total{feature}
//   recsys_feature_unknown_category_total{feature}
//   recsys_admin_auth_failures_total{reason}
//   recsys_history_info{month}, recsys_history_loads_total{result},
//   recsys_history_stale_requests_total
//   recsys_served_log_rows_total{result}, recsys_served_log_months_dropped_total
//   recsys_realized_ap_sum{model,version,month},
//   recsys_realized_customers_total{model,version,month},
//   recsys_model_validation_map7{model,version}
//   recsys_prediction_bin_total{bin}, recsys_prediction_reference_ratio{bin}
//   recsys_feature_psi{feature}, recsys_prediction_psi (of the newest month
//   served, once its drift sample holds at least drift_min_rows rows)
// clang-format on
//
// Thread-safe: every method may be called from any thread.
#ifndef RECSYS_SERVER_METRICS_H_
#define RECSYS_SERVER_METRICS_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/ranking.h"
#include "model_store/model_version.h"
#include "model_store/scorer.h"

namespace recsys {

struct MetricsOptions {
  // Address the /metrics endpoint binds. Default "127.0.0.1".
  std::string bind = "127.0.0.1";
  // Port; 0 picks a free one (see ServerMetrics::port()); negative: no HTTP
  // endpoint at all (tests, benchmarks: Scrape() still works). Default 9464.
  int port = 9464;
  // Threads of the /metrics HTTP server. Each connection holds one until its
  // request has been read, so this many slow or idle clients at once delay a
  // scrape by up to request_timeout. Default 8.
  int threads = 8;
  // How long a connection may take to send its request (and the answer to be
  // written) before it is closed. Default 5 s.
  absl::Duration request_timeout = absl::Seconds(5);
  // Rows sampled (uniformly) per served month for drift PSI. Default 5000.
  int drift_window = 5000;
  // PSI is exported only once the window holds this many rows (small samples
  // give false alarms). Default 2000.
  int drift_min_rows = 2000;
};

enum class Stage { kParse, kFeaturize, kPredict, kRank };

// How a call reached the server: gRPC, or the HTTP/JSON gateway
// (server/http_gateway.h), which calls the same methods.
enum class Protocol { kGrpc, kHttp };

// "grpc", "http": the values of the `protocol` label.
absl::string_view ProtocolName(Protocol protocol);

// "parse", "featurize", "predict", "rank": the values of the `stage` label.
absl::string_view StageName(Stage stage);

// The grpc_code label value of `code`, as go-grpc-prometheus writes it (Go's
// codes.Code.String()): "OK", "Canceled", "Unknown", "InvalidArgument",
// "DeadlineExceeded", "NotFound", "AlreadyExists", "PermissionDenied",
// "ResourceExhausted", "FailedPrecondition", "Aborted", "OutOfRange",
// "Unimplemented", "Internal", "Unavailable", "DataLoss", "Unauthenticated";
// "Unknown" for a value outside the enum.
absl::string_view GrpcCodeName(absl::StatusCode code);

// The serving version's drift state, as the PSI gauges show it, for the
// web console (GET /v1/models/MODEL/drift).
struct DriftSnapshot {
  bool serving = false;  // false: no version serves yet (the rest is empty)
  std::string model;
  int64_t version = 0;
  // The newest month whose rows were sampled ("YYYY-MM"; "" before any row).
  std::string month;
  int64_t rows_seen = 0;     // rows of that month offered to the sample
  int64_t rows_sampled = 0;  // rows in the sample (<= window_rows)
  int window_rows = 0;
  int min_rows = 0;  // PSI is reported from this many sampled rows on
  struct Feature {
    std::string name;
    int64_t rows = 0;  // sampled rows with a bin for it
    std::optional<double> psi;  // nullopt below min_rows or without bins
  };
  std::vector<Feature> features;  // in the feature spec's order
  // The top-1 product: its PSI, and per product (kProducts order) the share
  // of sampled rows it is the top-1 of, beside its training share.
  std::optional<double> prediction_psi;
  std::vector<double> prediction_share;
  std::vector<double> prediction_reference;
};

class ServerMetrics {
 public:
  // Starts the exposer (unless options.port < 0). UNAVAILABLE ("metrics port
  // P on HOST is already in use ...") when the port is taken, INTERNAL
  // (naming the address) if it cannot listen otherwise; INVALID_ARGUMENT for
  // drift_window < 1, drift_min_rows outside 1..drift_window, threads < 2 or
  // request_timeout under 100 ms.
  static absl::StatusOr<std::unique_ptr<ServerMetrics>> Create(
      const MetricsOptions& options);
  virtual ~ServerMetrics() = default;

  // The port the exposer listens on (-1 without an HTTP endpoint).
  virtual int port() const = 0;

  // The text exposition format of every series, as GET /metrics returns it
  // (computing the PSI gauges from the current window). Not pure, so that
  // test doubles need not implement it: the default returns "".
  virtual std::string Scrape() const { return ""; }

  // The serving version's drift window now. The default (test doubles,
  // NullMetrics): not serving.
  virtual DriftSnapshot Drift() const { return {}; }

  // Creates the series of one RPC method at 0, every grpc_code included, as
  // go-grpc-prometheus does for registered methods (so that rate() and
  // increase() see the first call). RpcStarted/RpcHandled do it on first use.
  // The default (for test doubles) does nothing.
  virtual void RegisterRpcMethod(absl::string_view service,
                                 absl::string_view method,
                                 absl::string_view type, Protocol protocol) {}

  // One ModelAdmin call refused by admin authentication (server/security.h):
  // recsys_admin_auth_failures_total{reason}, reason one of "disabled",
  // "no_credentials", "bad_token", "client_not_allowed" (each exists at 0
  // from the start). The default (for test doubles) does nothing.
  virtual void AdminAuthFailure(absl::string_view reason) {}

  // gRPC, as go-grpc-prometheus names them, with the protocol the call came
  // over. `type` is "unary" or "bidi_stream".
  virtual void RpcStarted(absl::string_view service, absl::string_view method,
                          absl::string_view type, Protocol protocol) = 0;
  virtual void RpcHandled(absl::string_view service, absl::string_view method,
                          absl::string_view type, Protocol protocol,
                          absl::StatusCode code, double seconds) = 0;
  virtual void InflightRequests(int delta) = 0;

  // Work.
  virtual void StageDuration(Stage stage, double seconds) = 0;
  virtual void RowsScored(int64_t rows) = 0;
  // `rows` rows scored by `version` (champion or challenger):
  // recsys_version_rows_scored_total{model,version}. Default (test doubles):
  // nothing.
  virtual void VersionRowsScored(const ModelVersion& version, int64_t rows) {}
  // The challenger is `version` with `share` of the customers (null: none):
  // recsys_challenger_share{model,version} = share, the previous
  // challenger's series removed. Default (test doubles): nothing.
  virtual void ChallengerShare(const ModelVersion* version, double share) {}
  // Unary Recommend calls scored together in one batch (1 = alone).
  virtual void UnaryBatch(int calls) = 0;
  // `count` rows whose history came from `source`: the `result` label is
  // "hit" (kStore: found in the store), "miss" (kNotFound: served as a new
  // customer) or "request" (kRequest: given in the request).
  virtual void HistoryLookups(HistorySourceKind source, int64_t count) = 0;

  // Model lifecycle.
  virtual void ModelLoad(bool ok, double seconds) = 0;
  // recsys_model_loads_in_progress = in_progress; recsys_model_store_stuck =
  // stuck (loads past their timeout whose threads have not returned).
  // Default (test doubles): nothing.
  virtual void ModelLoadThreads(int in_progress, int stuck) {}
  // recsys_serving_model_deleted: 1 while the serving version's directory is
  // gone. Default (test doubles): nothing.
  virtual void ServingModelDeleted(bool deleted) {}
  // `version` now serves: replaces recsys_model_info, the reference-ratio
  // gauges and the bins, and restarts the drift window. Every bin counter of
  // the reference exists from here on (at 0 when new; counters of bins that
  // stay keep counting); series of features or bins no longer in the
  // reference are removed. Announcing the serving version again (same model
  // name, version and feature spec hash) changes nothing and keeps the window.
  virtual void ModelServing(const ModelVersion& version) = 0;

  // The history store (model_store/history_store.h): `month` ("YYYY-MM") is
  // the newest version loaded (recsys_history_info{month} = 1, the previous
  // month's series removed); a load succeeded or failed (recsys_history_loads_total);
  // `rows` rows scored more than one month after the history's month
  // (recsys_history_stale_requests_total). Defaults (test doubles): nothing.
  virtual void HistoryServing(absl::string_view month) {}
  virtual void HistoryLoad(bool ok) {}
  virtual void HistoryStaleRows(int64_t rows) {}

  // The served log (server/served_log.h): rows written or dropped
  // (recsys_served_log_rows_total{result="logged|dropped"}); a month dropped
  // by the month cap (recsys_served_log_months_dropped_total). Defaults
  // (test doubles): nothing.
  virtual void ServedLogRows(int64_t logged, int64_t dropped) {}
  virtual void ServedLogMonthDropped() {}
  // Realized quality (server/realized_quality.h): what `model` version
  // `version` served for `month` ("YYYY-MM") met its outcome: adds `ap_sum`
  // and `customers` to recsys_realized_ap_sum{model,version,month} and
  // recsys_realized_customers_total{model,version,month}, and sets
  // recsys_model_validation_map7{model,version} to `validation_map7`.
  // Default (test doubles): nothing.
  virtual void RealizedMonth(absl::string_view model, int64_t version,
                             absl::string_view month, double ap_sum,
                             int64_t customers, double validation_map7) {}

  // One scored batch of `rows` rows of `version`: `features` is row-major
  // (version.num_features() floats per row), `tops[i]` the ranking of row i
  // and `months[i]` the month index it was scored for. Updates bins, missing
  // / unknown counts, the recommended mix, score histograms and the drift
  // sample of each row's month (server/drift_monitor.h). Cheap: one lock per batch. Rows of a
  // version other than the serving one (in flight across a swap) count
  // toward the recommended mix, the top-1 bins and the score histograms only.
  virtual void ObserveBatch(const ModelVersion& version, const float* features,
                            int64_t rows, const TopKResult* tops,
                            const int* months) = 0;
};

// A ServerMetrics that records nothing: for a server run without metrics, and
// a base for test doubles that watch one method. Thread-safe (stateless).
class NullMetrics : public ServerMetrics {
 public:
  int port() const override { return 0; }
  void RpcStarted(absl::string_view, absl::string_view, absl::string_view,
                  Protocol) override {}
  void RpcHandled(absl::string_view, absl::string_view, absl::string_view,
                  Protocol, absl::StatusCode, double) override {}
  void InflightRequests(int) override {}
  void StageDuration(Stage, double) override {}
  void RowsScored(int64_t) override {}
  void UnaryBatch(int) override {}
  void HistoryLookups(HistorySourceKind, int64_t) override {}
  void ModelLoad(bool, double) override {}
  void ModelServing(const ModelVersion&) override {}
  void ObserveBatch(const ModelVersion&, const float*, int64_t,
                    const TopKResult*, const int*) override {}
};

}  // namespace recsys

#endif  // RECSYS_SERVER_METRICS_H_
