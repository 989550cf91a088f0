#include "server/server.h"

#include <google/protobuf/descriptor.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/resource_quota.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>

#include <chrono>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/cpu_quota.h"
#include "common/status_macros.h"
#include "model_store/model_version.h"
#include "server/admin_service.h"
#include "server/call_tracker.h"
#include "server/customer_directory.h"
#include "server/event_log.h"
#include "server/history_events.h"
#include "server/http_gateway.h"
#include "server/liveness_watchdog.h"
#include "server/listen_error.h"
#include "server/model_events.h"
#include "server/recommender_service.h"
#include "server/request_memory.h"
#include "server/rpc_record.h"
#include "server/scoring_engine.h"
#include "server/realized_quality.h"
#include "server/security.h"
#include "server/served_log.h"
#include "server/worker_pool.h"

namespace recsys {
namespace {

// The names health answers for: the server as a whole and each service.
const char* const kHealthNames[] = {"", v1::Recommender::service_full_name(),
                                    v1::ModelAdmin::service_full_name()};

// Creates the grpc_server_* series of every method of our services at 0, as
// go-grpc-prometheus does for registered methods, so that rate() and
// increase() see a method's first call.
void RegisterRpcMethods(ServerMetrics* metrics) {
  for (const char* name : {v1::Recommender::service_full_name(),
                           v1::ModelAdmin::service_full_name()}) {
    const google::protobuf::ServiceDescriptor* service =
        google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
            name);
    if (service == nullptr) continue;
    for (int i = 0; i < service->method_count(); ++i) {
      const google::protobuf::MethodDescriptor& method = *service->method(i);
      metrics->RegisterRpcMethod(name, method.name(),
                                 RpcTypeOf(method.client_streaming(),
                                           method.server_streaming()),
                                 Protocol::kGrpc);
    }
  }
}

std::string ReportText(const ReloadReport& report) {
  std::string text = absl::StrCat("serving version ", report.serving_version);
  if (report.previous_version != report.serving_version) {
    absl::StrAppend(&text, " (was ", report.previous_version, ")");
  }
  if (!report.loaded.empty())
    absl::StrAppend(&text, "; loaded ", absl::StrJoin(report.loaded, ","));
  if (!report.retried.empty()) {
    absl::StrAppend(&text, "; retried (files changed) ",
                    absl::StrJoin(report.retried, ","));
  }
  for (const auto& [version, reason] : report.failed) {
    absl::StrAppend(&text, "; version ", version, " FAILED: ", reason);
  }
  if (report.serving_deleted) {
    absl::StrAppend(&text, "; the serving version's directory is deleted "
                           "(its loaded copy keeps serving)");
  }
  return text;
}

}  // namespace

struct RecsysServer::Parts {
  explicit Parts(const RecsysServerOptions& options)
      : calls(CallLimits{.max_streams = options.max_concurrent_streams,
                         .max_unary = options.max_concurrent_calls}),
        budget(options.request_memory_bytes) {}
  NullMetrics no_metrics;
  CallTracker calls;
  RequestMemoryBudget budget;
  ServerMetrics* metrics = nullptr;
  std::unique_ptr<ModelEvents> events;
  std::unique_ptr<WorkerPool> workers;
  std::unique_ptr<WorkerPool> admin;
  std::unique_ptr<ModelStore> store;
  std::unique_ptr<ServedLog> served_log;        // null without --served-log
  std::unique_ptr<RealizedQuality> realized;     // likewise
  std::unique_ptr<HistoryEvents> history_events;
  std::unique_ptr<HistoryStore> history;
  std::unique_ptr<ScoringEngine> engine;
  std::unique_ptr<CustomerDirectory> customers;
  std::unique_ptr<RecommenderService> recommender;
  std::unique_ptr<ModelAdminService> model_admin;
  std::unique_ptr<HttpGateway> http;  // when options.http_port >= 0
  std::unique_ptr<LivenessWatchdog> watchdog;  // set by Start()
  std::unique_ptr<PeriodicMemoryReturn> memory_return;  // set by Start()
  TlsFiles tls;
  std::unique_ptr<AdminAuth> admin_auth;
};

absl::StatusOr<std::unique_ptr<RecsysServer>> RecsysServer::Create(
    const RecsysServerOptions& options) {
  auto bad = [](absl::string_view what) {
    return absl::InvalidArgumentError(absl::StrCat("recsys-server: ", what));
  };
  if (options.store_dir.empty()) return bad("--store is required");
  if (options.model_name.empty()) return bad("--model must not be empty");
  if (options.port < 0 || options.port > 65535) {
    return bad(absl::StrCat("--port must be 0..65535, got ", options.port));
  }
  if (options.workers < 0)
    return bad(absl::StrCat("--workers must be >= 0, got ", options.workers));
  if (options.stuck_after <= absl::ZeroDuration()) {
    return bad(absl::StrCat("--liveness-stuck-after must be positive, got ",
                            absl::FormatDuration(options.stuck_after)));
  }
  if (options.poll_interval <= absl::ZeroDuration())
    return bad("--poll-seconds must be positive");
  if (options.grace_period < absl::ZeroDuration())
    return bad("--grace-period must be >= 0");
  if (options.load_timeout <= absl::ZeroDuration()) {
    return bad(absl::StrCat("--load-timeout must be positive, got ",
                            absl::FormatDuration(options.load_timeout)));
  }
  if (options.max_loaded_versions < 1) {
    return bad(absl::StrCat("--max-loaded-versions must be at least 1, got ",
                            options.max_loaded_versions));
  }
  if (options.max_bundle_file_bytes < 1) {
    return bad(absl::StrCat("--max-bundle-file-bytes must be positive, got ",
                            options.max_bundle_file_bytes));
  }
  if (options.max_message_bytes < 1024) {
    return bad(absl::StrCat("--max-message-bytes must be at least 1024, got ",
                            options.max_message_bytes));
  }
  if (options.max_rows_per_request < 1) {
    return bad(absl::StrCat("--max-rows-per-request must be at least 1, got ",
                            options.max_rows_per_request));
  }
  if (options.max_unary_batch < 1) {
    return bad(absl::StrCat("--max-unary-batch must be at least 1, got ",
                            options.max_unary_batch));
  }
  if (options.max_inflight_batches_per_stream < 1 ||
      options.max_pending_responses_per_stream < 1) {
    return bad("per-stream limits must be at least 1");
  }
  // No limit may be switched off: each is a term of the memory bound.
  const std::pair<const char*, int64_t> memory_limits[] = {
      {"--max-concurrent-streams", options.max_concurrent_streams},
      {"--max-concurrent-calls", options.max_concurrent_calls},
      {"--max-unary-message-bytes", options.max_unary_message_bytes},
      {"--request-memory-bytes", options.request_memory_bytes},
      {"--grpc-memory-bytes", options.grpc_memory_bytes},
      {"--max-streams-per-connection", options.max_streams_per_connection}};
  for (const auto& [flag, value] : memory_limits) {
    if (value < 1) {
      return bad(absl::StrCat(flag, " must be at least 1, got ", value,
                              " (every limit bounds the server's memory)"));
    }
  }
  if (options.challenger_version < 0) {
    return bad(absl::StrCat("--challenger-version must be positive, got ",
                            options.challenger_version));
  }
  if (options.challenger_share != -1 &&
      !(options.challenger_share >= 0 && options.challenger_share <= 1)) {
    return bad(absl::StrCat("--challenger-share must be in [0, 1], got ",
                            options.challenger_share));
  }
  if (options.challenger_version > 0 && options.challenger_share == -1) {
    return bad(
        "--challenger-version needs --challenger-share (e.g. 0.1: the share "
        "of customers it answers)");
  }
  if (options.max_unary_message_bytes > options.max_message_bytes) {
    return bad(absl::StrCat("--max-unary-message-bytes (",
                            options.max_unary_message_bytes,
                            ") must not exceed --max-message-bytes (",
                            options.max_message_bytes, ")"));
  }
  if (options.grpc_memory_bytes < 4 * int64_t{options.max_message_bytes}) {
    return bad(absl::StrCat(
        "--grpc-memory-bytes (", options.grpc_memory_bytes,
        ") must be at least 4x --max-message-bytes (", options.max_message_bytes,
        ") so that one largest message always fits"));
  }

  const std::pair<const char*, int64_t> served_log_limits[] = {
      {"--served-log-months", options.served_log_months},
      {"--served-log-max-customers", options.served_log_max_customers},
      {"--served-log-queue-rows", options.served_log_queue_rows}};
  for (const auto& [flag, value] : served_log_limits) {
    if (value < 1) {
      return bad(absl::StrCat(flag, " must be at least 1, got ", value,
                              " (each bounds the served log)"));
    }
  }

  if (!options.admin_client_names.empty() &&
      options.tls_client_ca_file.empty()) {
    return bad(
        "--admin-client-names needs --tls-client-ca (client certificate "
        "names are known only with mutual TLS)");
  }

  std::unique_ptr<RecsysServer> server(new RecsysServer(options));
  auto parts = std::make_unique<Parts>(options);
  parts->metrics =
      options.metrics != nullptr ? options.metrics : &parts->no_metrics;
  RegisterRpcMethods(parts->metrics);
  RECSYS_ASSIGN_OR_RETURN(
      parts->tls, ReadTlsFiles(options.tls_cert_file, options.tls_key_file,
                               options.tls_client_ca_file));
  AdminAuthOptions auth_options;
  if (!options.admin_token_file.empty()) {
    std::string warning;
    RECSYS_ASSIGN_OR_RETURN(
        auth_options.token,
        ReadAdminTokenFile(options.admin_token_file, &warning));
    if (!warning.empty()) LogEvent(warning);
  }
  auth_options.client_names = options.admin_client_names;
  auth_options.insecure = options.admin_insecure;
  parts->admin_auth =
      std::make_unique<AdminAuth>(std::move(auth_options), parts->metrics);
  RecsysServer* self = server.get();
  parts->events = std::make_unique<ModelEvents>(
      parts->metrics, [self] { self->OnModelServing(); });
  const int workers = options.workers > 0 ? options.workers : AvailableCpus();
  RECSYS_ASSIGN_OR_RETURN(parts->workers,
                          WorkerPool::Create({.threads = workers}));
  RECSYS_ASSIGN_OR_RETURN(parts->admin, WorkerPool::Create({.threads = 1}));

  ModelStoreOptions store_options;
  store_options.store_dir = options.store_dir;
  store_options.model_name = options.model_name;
  store_options.poll_interval = options.poll_interval;
  store_options.use_inotify = options.use_inotify;
  store_options.load_timeout = options.load_timeout;
  store_options.retry_backoff = options.retry_backoff;
  store_options.staging_max_age = options.staging_max_age;
  store_options.max_loaded_versions = options.max_loaded_versions;
  BundleReadLimits read_limits{.max_file_bytes = options.max_bundle_file_bytes,
                               .root = options.store_dir};
  VersionLoader loader =
      options.loader
          ? options.loader
          : VersionLoader([predictor = options.predictor, read_limits](
                              const std::string& dir, int64_t version) {
              ModelLoadOptions load_options;
              load_options.predictor = predictor;
              load_options.limits = read_limits;
              return LoadModelVersionWith(dir, version, load_options);
            });
  RECSYS_ASSIGN_OR_RETURN(
      parts->store,
      ModelStore::Create(store_options, parts->events->WrapLoader(loader),
                         parts->events.get()));
  if (!options.served_log_dir.empty()) {
    RECSYS_ASSIGN_OR_RETURN(
        parts->served_log,
        ServedLog::Create(
            {.dir = options.served_log_dir,
             .max_months = options.served_log_months,
             .max_customers_per_month = options.served_log_max_customers,
             .queue_rows = options.served_log_queue_rows,
             .metrics = parts->metrics}));
    parts->realized = std::make_unique<RealizedQuality>(
        parts->served_log.get(), parts->metrics);
  }
  RealizedQuality* realized = parts->realized.get();
  parts->history_events = std::make_unique<HistoryEvents>(
      parts->metrics, [realized](const HistoryVersion& version) {
        if (realized != nullptr) realized->OnHistory(version);
      });
  RECSYS_ASSIGN_OR_RETURN(
      parts->history,
      HistoryStore::Create({.store_dir = options.store_dir,
                            .poll_interval = options.poll_interval,
                            .use_inotify = options.use_inotify,
                            .staging_max_age = options.staging_max_age,
                            .limits = read_limits},
                           parts->history_events.get()));
  parts->engine = std::make_unique<ScoringEngine>(
      parts->store.get(), parts->workers.get(), parts->metrics,
      ScoringEngineOptions{.max_unary_batch = options.max_unary_batch,
                           .history = parts->history.get()});
  RecommenderLimits limits;
  limits.stream.max_rows_per_message = options.max_rows_per_request;
  limits.stream.max_inflight_batches = options.max_inflight_batches_per_stream;
  limits.stream.max_pending_responses =
      options.max_pending_responses_per_stream;
  limits.max_unary_message_bytes = options.max_unary_message_bytes;
  RECSYS_ASSIGN_OR_RETURN(
      parts->customers,
      CustomerDirectory::Create(options.records_db, parts->engine.get(),
                                parts->store.get()));
  parts->recommender = std::make_unique<RecommenderService>(
      limits, parts->store.get(), parts->engine.get(), parts->admin.get(),
      parts->metrics, &parts->calls, &parts->budget, parts->served_log.get(),
      parts->customers.get());
  parts->model_admin = std::make_unique<ModelAdminService>(
      parts->store.get(), parts->admin.get(), parts->metrics, &parts->calls,
      parts->admin_auth.get());
  if (options.http_port >= 0) {
    HttpGatewayOptions http_options;
    http_options.host = options.host;
    http_options.port = options.http_port;
    http_options.model_name = options.model_name;
    http_options.threads = options.http_threads;
    http_options.max_body_bytes = options.max_unary_message_bytes;
    http_options.tls_cert_file = options.tls_cert_file;
    http_options.tls_key_file = options.tls_key_file;
    http_options.tls_client_ca_file = options.tls_client_ca_file;
    HttpBackend backend;
    backend.store = parts->store.get();
    backend.engine = parts->engine.get();
    backend.metrics = parts->metrics;
    backend.tracker = &parts->calls;
    backend.served_log = parts->served_log.get();
    backend.customers = parts->customers.get();
    backend.reloads = &parts->events->history();
    backend.ready = [self] { return self->serving(); };
    backend.alive = [self] { return self->alive(); };
    RECSYS_ASSIGN_OR_RETURN(parts->http,
                            HttpGateway::Create(http_options, backend));
  }
  server->parts_ = std::move(parts);
  return server;
}

RecsysServer::RecsysServer(const RecsysServerOptions& options)
    : options_(options) {}

RecsysServer::~RecsysServer() { Shutdown(); }

ModelStore* RecsysServer::store() const { return parts_->store.get(); }

MemoryBoundInputs RecsysServer::memory_bound() const {
  return MemoryBoundOf(options_);
}

MemoryBoundInputs MemoryBoundOf(const RecsysServerOptions& options) {
  MemoryBoundInputs in;
  in.grpc_memory_bytes = options.grpc_memory_bytes;
  in.max_streams = options.max_concurrent_streams;
  in.max_inflight = options.max_inflight_batches_per_stream;
  in.max_pending = options.max_pending_responses_per_stream;
  in.max_rows = options.max_rows_per_request;
  in.max_message_bytes = options.max_message_bytes;
  in.request_memory_bytes = options.request_memory_bytes;
  in.max_unary = options.max_concurrent_calls;
  in.max_unary_message_bytes = options.max_unary_message_bytes;
  in.http_threads = options.http_port >= 0 ? options.http_threads : 0;
  return in;
}

absl::Status RecsysServer::Start() {
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  const std::string requested = absl::StrCat(options_.host, ":", options_.port);
  int selected_port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort(requested, ServerCredentialsFor(parts_->tls),
                           &selected_port);
  // gRPC turns SO_REUSEPORT on by default: a second server on this port
  // would start and silently share the traffic. Off, the port is ours alone.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.SetMaxReceiveMessageSize(options_.max_message_bytes);
  // The memory bound's gRPC term, and a cap per connection (one client
  // cannot hold every stream slot's worth of HTTP/2 state).
  grpc::ResourceQuota quota("recsys-server");
  quota.Resize(static_cast<size_t>(options_.grpc_memory_bytes));
  builder.SetResourceQuota(quota);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS,
                             options_.max_streams_per_connection);
  builder.RegisterService(parts_->recommender.get());
  builder.RegisterService(parts_->model_admin.get());
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || selected_port == 0) {
    if (PortInUse(options_.host, options_.port))
      return PortInUseError("gRPC", options_.host, options_.port, "--port");
    if (parts_->tls.enabled()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "cannot listen on ", requested,
          " with TLS: gRPC refused the certificate or key (--tls-cert, "
          "--tls-key and --tls-client-ca must be PEM files and the key must "
          "belong to the certificate; gRPC's log line above says more)"));
    }
    return absl::UnavailableError(absl::StrCat(
        "cannot listen on ", requested, " (address not available?)"));
  }
  {
    // gRPC's health service starts with "" SERVING: turn it down at once (a
    // check in the microseconds before this would be answered SERVING).
    absl::MutexLock lock(&mu_);
    grpc_server_ = std::move(server);
    port_ = selected_port;
    SetHealthLocked(false);
    if (auto* health = grpc_server_->GetHealthCheckService())
      health->SetServingStatus(kLivenessService, true);
  }
  LogEvent(absl::StrCat("listening on ", options_.host, ":", selected_port));
  if (parts_->http != nullptr) {
    if (absl::Status http = parts_->http->Start(); !http.ok()) {
      absl::MutexLock lock(&mu_);
      grpc_server_->Shutdown(std::chrono::system_clock::now());
      return http;
    }
    absl::MutexLock lock(&mu_);
    http_port_ = parts_->http->port();
    LogEvent(absl::StrCat("HTTP/JSON on ", parts_->http->tls() ? "https" : "http",
                          "://", options_.host, ":", http_port_,
                          " (/v1/models/", options_.model_name,
                          ":recommend, /healthz, /readyz)"));
    LogEvent(absl::StrCat("web console on ",
                          parts_->http->tls() ? "https" : "http", "://",
                          options_.host, ":", http_port_, "/",
                          options_.records_db.empty()
                              ? " (no --records-db: customers' records are "
                                "not shown)"
                              : absl::StrCat(" (records from ",
                                             options_.records_db, ")")));
  }
  LogEvent(!parts_->tls.enabled() ? "transport: plaintext (no --tls-cert)"
           : parts_->tls.client_ca_pem.empty()
               ? "transport: TLS"
               : "transport: mutual TLS (client certificates required)");
  LogEvent(parts_->admin_auth->Describe());
  LogEvent(DescribeMemoryBound(memory_bound()));
  LogEvent(absl::StrCat("scoring on ", parts_->workers->size(),
                        " worker thread(s); liveness NOT_SERVING after ",
                        absl::FormatDuration(options_.stuck_after),
                        " with queued work and none finished"));
  WorkerPool* workers = parts_->workers.get();
  parts_->memory_return =
      std::make_unique<PeriodicMemoryReturn>(absl::Seconds(5));
  parts_->watchdog = std::make_unique<LivenessWatchdog>(
      LivenessWatchdogOptions{.stuck_after = options_.stuck_after},
      [workers] { return workers->StalledFor(absl::Now()); },
      [this](bool alive) { OnLivenessChange(alive); });

  absl::StatusOr<ReloadReport> first = parts_->store->Reload();
  if (!first.ok()) {
    LogEvent(
        absl::StrCat("no model can be served yet (", first.status().message(),
                     "); health stays NOT_SERVING; watching ",
                     options_.store_dir, "/", options_.model_name, " every ",
                     absl::FormatDuration(options_.poll_interval),
                     " and on file-system events"));
  }
  ApplyChallengerOptions();
  parts_->store->StartWatching();
  StartHistory();
  return absl::OkStatus();
}

void RecsysServer::ApplyChallengerOptions() {
  const double share = options_.challenger_share;
  if (share == -1) return;  // the saved policy holds
  ModelStore* store = parts_->store.get();
  if (share == 0) {
    const int64_t was = store->ClearChallenger();
    if (was != 0) {
      LogEvent(absl::StrCat("--challenger-share 0: challenger version ", was,
                            " cleared"));
    }
    return;
  }
  int64_t version = options_.challenger_version;
  if (version == 0) {
    const ServingModels serving = store->Serving();
    if (serving.challenger == nullptr) {
      LogEvent(absl::StrCat("--challenger-share ", share,
                            " ignored: no challenger is set (give "
                            "--challenger-version or use `recsys challenger "
                            "set`)"));
      return;
    }
    version = serving.challenger->version();
  }
  if (absl::Status set = store->SetChallenger(version, share); !set.ok()) {
    LogEvent(absl::StrCat("challenger not set (--challenger-version ", version,
                          "): ", set.message(),
                          "; the champion answers every customer"));
  }
}

void RecsysServer::StartHistory() {
  const HistoryReloadReport first = parts_->history->Reload();
  if (first.serving_month == 0) {
    LogEvent(absl::StrCat("no history version in ", options_.store_dir, "/",
                          kHistoryStoreDir,
                          " yet: each model serves with its own product "
                          "history; watching for one"));
  }
  parts_->history->StartWatching();
}

int RecsysServer::port() const {
  absl::MutexLock lock(&mu_);
  return port_;
}

int RecsysServer::http_port() const {
  absl::MutexLock lock(&mu_);
  return http_port_;
}

bool RecsysServer::alive() const {
  absl::MutexLock lock(&mu_);
  return alive_ && !draining_;
}

std::string RecsysServer::address() const {
  return absl::StrCat(options_.host, ":", port());
}

bool RecsysServer::serving() const {
  absl::MutexLock lock(&mu_);
  return serving_;
}

void RecsysServer::SetHealthLocked(bool serving) {
  serving_ = serving;
  if (grpc_server_ == nullptr) return;
  grpc::HealthCheckServiceInterface* health =
      grpc_server_->GetHealthCheckService();
  if (health == nullptr) return;
  for (const char* name : kHealthNames) health->SetServingStatus(name, serving);
}

void RecsysServer::OnModelServing() {
  absl::MutexLock lock(&mu_);
  if (draining_ || serving_ || grpc_server_ == nullptr) return;
  SetHealthLocked(true);
  LogEvent("health: SERVING");
}

void RecsysServer::OnLivenessChange(bool alive) {
  absl::MutexLock lock(&mu_);
  if (draining_ || grpc_server_ == nullptr) return;
  alive_ = alive;
  if (auto* health = grpc_server_->GetHealthCheckService())
    health->SetServingStatus(kLivenessService, alive);
  LogEvent(alive ? "liveness: SERVING (scoring workers make progress again)"
                 : absl::StrCat("liveness: NOT_SERVING (queued scoring work, "
                                "none finished for ",
                                absl::FormatDuration(options_.stuck_after),
                                ": every worker is stuck)"));
}

void RecsysServer::ReloadAsync(absl::string_view why) {
  LogEvent(absl::StrCat("reload requested (", why, ")"));
  parts_->admin->Submit([this, why = std::string(why)](int) {
    absl::StatusOr<ReloadReport> report = parts_->store->Reload();
    parts_->history->Reload();  // logs through HistoryEvents
    LogEvent(
        report.ok()
            ? absl::StrCat("reload (", why, "): ", ReportText(*report))
            : absl::StrCat("reload (", why, "): ", report.status().message()));
  });
}

void RecsysServer::Shutdown() {
  grpc::Server* server = nullptr;
  {
    absl::MutexLock lock(&mu_);
    if (parts_ == nullptr) {  // Create() failed half-way
      draining_ = stopped_ = true;
      return;
    }
    if (draining_) {
      mu_.Await(absl::Condition(&stopped_));
      return;
    }
    draining_ = true;
    // A load hung in the file system must not hold shutdown (or an admin
    // call in flight) hostage: waits for loads end now.
    parts_->store->CancelLoads();
    server = grpc_server_.get();
    if (server != nullptr) {
      // Refuse new calls before health says NOT_SERVING, so that a client
      // who saw NOT_SERVING is never served by a call it starts afterwards.
      parts_->calls.StartDraining();
      SetHealthLocked(false);
      // Refuse later status changes (e.g. a model swapped in while draining).
      if (server->GetHealthCheckService() != nullptr)
        server->GetHealthCheckService()->Shutdown();
    }
  }
  if (server != nullptr) {
    // New calls are refused (UNAVAILABLE) from here on; calls in flight get
    // up to the grace period. gRPC is shut down only then, and at once: its
    // own Shutdown(deadline) would also wait for idle client connections.
    LogEvent(absl::StrCat(
        "draining: health NOT_SERVING, new calls refused; waiting up to ",
        absl::FormatDuration(options_.grace_period), " for ",
        parts_->calls.inflight(), " call(s) in flight"));
    const absl::Time start = absl::Now();
    const bool idle = parts_->calls.WaitIdle(start + options_.grace_period);
    const int64_t left = parts_->calls.inflight();
    if (parts_->http != nullptr) parts_->http->Stop();
    server->Shutdown(std::chrono::system_clock::now());
    LogEvent(idle ? absl::StrFormat(
                        "drained in %.2fs: every call in flight finished",
                        absl::ToDoubleSeconds(absl::Now() - start))
                  : absl::StrCat("grace period over: cancelled ", left,
                                 " call(s) still running"));
  }
  // No call is left: nothing waits for the pools any more.
  if (parts_->watchdog != nullptr) parts_->watchdog->Stop();
  parts_->memory_return.reset();
  parts_->store->StopWatching();
  parts_->history->StopWatching();
  parts_->admin->Stop();
  parts_->workers->Stop();
  absl::MutexLock lock(&mu_);
  stopped_ = true;
  if (server != nullptr) LogEvent("stopped");
}

void RecsysServer::Wait() {
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(&stopped_));
}

}  // namespace recsys
