// RecsysServer: the prediction server, wired and ready to run in a process
// (recsys-server's main) or in a test.
//
//   RecsysServerOptions options;
//   options.store_dir = "models";
//   options.port = 0;                       // pick a free port
//   RECSYS_ASSIGN_OR_RETURN(auto server, RecsysServer::Create(options));
//   RECSYS_RETURN_IF_ERROR(server->Start());
//   Connect(server->address());             // "127.0.0.1:41234"
//   ...
//   server->Shutdown();                     // drain, then stop
//
// What Start() sets up:
//   - the Recommender and ModelAdmin services (gRPC callback API), the
//     standard grpc.health.v1 service and server reflection;
//   - a fixed pool of `workers` threads that run all featurizing and
//     prediction, and one admin thread for model loads requested by RPC;
//   - the ModelStore on STORE/<model>, watched for new versions;
//   - the HistoryStore on STORE/history, watched for product-history
//     versions refreshed without retraining (a batch scores with the newest
//     one that serves the model's month or later, else the bundle's own).
//   - optionally (http_port >= 0) the HTTP/JSON gateway (server/http_gateway.h)
//     on the same host, with the same TLS, sharing the unary call caps;
// Readiness: health ("", "santander.recsys.v1.Recommender",
// "santander.recsys.v1.ModelAdmin") is NOT_SERVING until a model version is
// loaded and warmed, SERVING after, and NOT_SERVING again once Shutdown()
// begins. Liveness: health "liveness" (kLivenessService) is SERVING from
// Start() on, model or not, NOT_SERVING only while the scoring workers are
// wedged (queued work, nothing finished for options.stuck_after) and once
// Shutdown() begins. If no version can be loaded at start the server still
// starts (NOT_SERVING, logging why) and keeps watching, so a version published
// later is picked up.
//
// Logs (stderr, one line per event): "listening on HOST:PORT" (before health
// turns SERVING), model loads / failures / swaps with their version, reloads,
// store notices (serving directory deleted, staging removed, serving policy
// read or not saved), "draining ..." and "stopped". A load that hangs is
// abandoned after load_timeout, so neither start-up nor Shutdown() waits for
// it longer (Shutdown() not at all).
//
// Thread-safe: Reload, Shutdown, Wait and the accessors may be called from
// any thread.
#ifndef RECSYS_SERVER_SERVER_H_
#define RECSYS_SERVER_SERVER_H_

#include <grpcpp/server.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "model_store/model_store.h"
#include "server/memory_bound.h"
#include "server/metrics.h"

namespace recsys {

// The grpc.health.v1 service name that reports liveness (see above).
inline constexpr char kLivenessService[] = "liveness";

struct RecsysServerOptions {
  // Root of the model store; versions are read from <store_dir>/<model_name>/.
  // Required.
  std::string store_dir;
  // Model to serve. Default "santander".
  std::string model_name = "santander";
  // Address to listen on. Default "127.0.0.1".
  std::string host = "127.0.0.1";
  // Port; 0 picks a free one (see port()). Default 50051.
  int port = 50051;
  // Transport security and admin authentication (docs/security.md).
  // PEM files of the server's TLS certificate chain and private key: both
  // set = gRPC over TLS, both empty = plaintext. Default empty.
  std::string tls_cert_file;
  std::string tls_key_file;
  // PEM file of the CA(s) whose client certificates are accepted: set =
  // mutual TLS (every client must present one). Needs the two above.
  // Default empty.
  std::string tls_client_ca_file;
  // File holding the admin bearer token (server/security.h). Default empty.
  std::string admin_token_file;
  // Mutual-TLS client certificate names (CN or SAN) allowed to call
  // ModelAdmin; needs tls_client_ca_file. Default empty.
  std::vector<std::string> admin_client_names;
  // Anyone may call ModelAdmin (local demos only). With no token, no names
  // and not this, every ModelAdmin call is refused. Default false.
  bool admin_insecure = false;
  // Scoring threads; 0 = the CPUs this process may use (the container's CPU
  // quota or affinity mask, common/cpu_quota.h). Default 0.
  int workers = 0;
  // Liveness: the health service "liveness" is SERVING from Start() on,
  // whether or not a model serves, and NOT_SERVING while scoring tasks have
  // waited this long with none finishing (every worker stuck). Default 60 s.
  absl::Duration stuck_after = absl::Seconds(60);
  // How often the store is rescanned without a file-system event. Default 10 s.
  absl::Duration poll_interval = absl::Seconds(10);
  // Also watch the store with inotify. Default true.
  bool use_inotify = true;
  // Model loading limits (docs/architecture.md, "Model store"): a load not done
  // after load_timeout marks its version FAILED and is abandoned (reload, pin
  // and shutdown do not wait for it; recsys_model_store_stuck counts it);
  // bundle files over max_bundle_file_bytes (or not regular files, or
  // symlinks out of the store) are refused before they are read; a FAILED
  // version whose files change is retried after retry_backoff (doubling);
  // staging directories older than staging_max_age are removed. Defaults
  // 60 s, 2 GiB, 2 s, 1 h.
  absl::Duration load_timeout = absl::Seconds(60);
  int64_t max_bundle_file_bytes = kDefaultMaxBundleFileBytes;
  // Most model versions kept in memory, >= 1: the champion and the
  // challenger always, then the newest others (ModelStoreOptions); a request
  // may name any of them (RecommendRequest.model_version). Each costs one
  // loaded bundle (README.md, "Model versions in requests and in memory").
  // Default 3.
  int max_loaded_versions = 3;
  absl::Duration retry_backoff = absl::Seconds(2);
  absl::Duration staging_max_age = absl::Hours(1);
  // How long Shutdown() lets in-flight calls finish before cancelling them.
  // Default 10 s.
  absl::Duration grace_period = absl::Seconds(10);
  // Largest request message accepted, in bytes (larger: RESOURCE_EXHAUSTED
  // from gRPC). Default 4 MiB.
  int max_message_bytes = 4 << 20;
  // Rows one RecommendStream message may carry (more: INVALID_ARGUMENT).
  // Default 4096.
  int max_rows_per_request = 4096;
  // Most unary Recommend calls scored together in one prediction when they
  // queue up behind busy workers (scoring_engine.h); 1 = each on its own.
  // Default 64.
  int max_unary_batch = 64;
  // Per stream: messages scored at once, and answers waiting to be written.
  // Defaults 2 and 2.
  int max_inflight_batches_per_stream = 2;
  int max_pending_responses_per_stream = 2;
  // What traffic may hold: the terms of the memory bound
  // (server/memory_bound.h). Streams and unary calls answered at once (more
  // are refused with RESOURCE_EXHAUSTED); defaults 16 and 64.
  int max_concurrent_streams = 16;
  int max_concurrent_calls = 64;
  // Largest unary request, in bytes (larger: RESOURCE_EXHAUSTED before
  // parsing). Default 64 KiB.
  int max_unary_message_bytes = 64 << 10;
  // Parsed stream messages being scored, all streams together; a stream
  // waits (stops reading) while it is spent. Default 256 MiB.
  int64_t request_memory_bytes = int64_t{256} << 20;
  // gRPC's own buffers (its ResourceQuota). Default 128 MiB.
  int64_t grpc_memory_bytes = int64_t{128} << 20;
  // HTTP/2 streams one client connection may open at once. Default 32.
  int max_streams_per_connection = 32;
  // Where metrics go; borrowed, must outlive the server. Default null: none.
  ServerMetrics* metrics = nullptr;
  // Loads one version directory. Default (empty): LoadModelVersionWith the
  // predictor below.
  VersionLoader loader;

  // --- HTTP/JSON (server/http_gateway.h) ---
  // Port of the HTTP/JSON gateway on `host`, with the gRPC port's TLS
  // settings; 0 picks a free one (see http_port()); negative: no gateway.
  // Default -1.
  int http_port = -1;
  // Threads serving HTTP requests (each reads at most one body of up to
  // max_unary_message_bytes: a term of the memory bound). Default 8.
  int http_threads = 8;

  // --- Web console (server/console_http.h, server/customer_directory.h) ---
  // The records database GetCustomer reads customers' newest records from,
  // opened read-only (its schema must have the customer index: any
  // `recsys-data ingest` adds it). Empty: none; GetCustomer answers from the
  // product history only. Default empty.
  std::string records_db;

  // --- Champion and challenger (model_store.h, common/traffic_split.h) ---
  // Applied once at Start(), after the first store scan; the admin API
  // changes it later, and either way it is saved in the store's
  // serving_policy.json. challenger_version > 0 with challenger_share in
  // (0, 1]: serve that version to that share of the customers;
  // challenger_share 0: no challenger (clears a saved one); a share alone:
  // the saved challenger's new share. A challenger that cannot be set is
  // logged and the champion answers everybody. Defaults 0 (none given) and
  // -1 (none given).
  int64_t challenger_version = 0;
  double challenger_share = -1;

  // --- Predictor (issue 13) ---
  // What scores the rows of a loaded version (ModelLoadOptions::predictor):
  // kAuto = our forest evaluator when it matched XGBoost byte for byte at
  // load, else XGBoost. Ignored when `loader` is set. Default kAuto.
  PredictorChoice predictor = PredictorChoice::kAuto;
  // --- Realized quality (issue 12; server/served_log.h,
  // server/realized_quality.h) ---
  // Directory of the served log: every answer's top 7 per month and
  // customer, scored against the truth when a history holding the month
  // arrives. Empty: no served log, no realized metrics. Default empty.
  std::string served_log_dir;
  // Months the served log keeps (a newer month drops the oldest), customers
  // per month, and rows queued for its writer. Defaults 3, 2,000,000, 65,536.
  int served_log_months = 3;
  int64_t served_log_max_customers = 2'000'000;
  int64_t served_log_queue_rows = 65'536;
};

// The inputs of the memory bound (server/memory_bound.h) for `options`.
MemoryBoundInputs MemoryBoundOf(const RecsysServerOptions& options);

class RecsysServer {
 public:
  // Checks the options and reads the TLS and admin token files.
  // INVALID_ARGUMENT naming the bad option; NOT_FOUND or PERMISSION_DENIED
  // naming a file that cannot be read.
  static absl::StatusOr<std::unique_ptr<RecsysServer>> Create(
      const RecsysServerOptions& options);
  ~RecsysServer();  // Shutdown()
  RecsysServer(const RecsysServer&) = delete;
  RecsysServer& operator=(const RecsysServer&) = delete;

  // Listens, loads the newest model version that validates (or logs why none
  // can be) and starts watching the store. UNAVAILABLE when the address
  // cannot be bound ("port P on HOST is already in use ..." when another
  // process holds it: the port is never shared, SO_REUSEPORT is off);
  // INVALID_ARGUMENT when gRPC refuses the TLS certificate or key.
  // REQUIRES: called once.
  absl::Status Start() ABSL_LOCKS_EXCLUDED(mu_);

  // The port listened on, once started (the actual one when options.port
  // was 0); 0 before.
  int port() const ABSL_LOCKS_EXCLUDED(mu_);
  // "host:port".
  std::string address() const ABSL_LOCKS_EXCLUDED(mu_);
  // The HTTP/JSON gateway's port once started; 0 without a gateway.
  int http_port() const ABSL_LOCKS_EXCLUDED(mu_);

  // Whether the gRPC health service "liveness" reports SERVING now.
  bool alive() const ABSL_LOCKS_EXCLUDED(mu_);

  // Whether health reports SERVING now.
  bool serving() const ABSL_LOCKS_EXCLUDED(mu_);

  // Rescans the store on the admin thread (as SIGHUP does) and logs the
  // outcome, naming `why`. Returns at once.
  void ReloadAsync(absl::string_view why);

  // Drains, then stops: health NOT_SERVING; new calls are refused with
  // UNAVAILABLE; calls in flight may finish for up to grace_period; then the
  // gRPC server stops at once (listening ends, what still runs is
  // cancelled), and the workers and the store watcher stop. Idempotent;
  // returns when the server has stopped.
  void Shutdown() ABSL_LOCKS_EXCLUDED(mu_);

  // Blocks until Shutdown() (from another thread) has completed.
  void Wait() ABSL_LOCKS_EXCLUDED(mu_);

  // The model store (e.g. for tests and admin tools).
  ModelStore* store() const;

  // The bound on what traffic can make the server hold, from the options.
  MemoryBoundInputs memory_bound() const;

 private:
  struct Parts;  // services, pools, store: built by Create(), constant after
  explicit RecsysServer(const RecsysServerOptions& options);
  void OnModelServing() ABSL_LOCKS_EXCLUDED(mu_);
  // Applies options_.challenger_* (see there) and logs the outcome.
  void ApplyChallengerOptions();
  // First history load, then the history watcher (model_store/history_store.h).
  void StartHistory();
  void OnLivenessChange(bool alive) ABSL_LOCKS_EXCLUDED(mu_);
  void SetHealthLocked(bool serving) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const RecsysServerOptions options_;
  std::unique_ptr<Parts> parts_;

  mutable absl::Mutex mu_;
  std::unique_ptr<grpc::Server> grpc_server_ ABSL_GUARDED_BY(mu_);
  int port_ ABSL_GUARDED_BY(mu_) = 0;
  int http_port_ ABSL_GUARDED_BY(mu_) = 0;
  bool serving_ ABSL_GUARDED_BY(mu_) = false;
  bool alive_ ABSL_GUARDED_BY(mu_) = true;
  bool draining_ ABSL_GUARDED_BY(mu_) = false;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace recsys

#endif  // RECSYS_SERVER_SERVER_H_
