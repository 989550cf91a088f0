// recsys-server: serves product recommendations over gRPC from a model store.
// main() only parses flags, builds the server, waits and shuts down; the
// wiring is RecsysServer (server/server.h).
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/marshalling.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/command_line.h"
#include "server/event_log.h"
#include "server/log_throttle.h"
#include "server/memory_bound.h"
#include "server/metrics.h"
#include "server/server.h"
#include "server/signal_thread.h"

ABSL_FLAG(std::string, store, "",
          "Model store directory (required). The server serves versions from "
          "STORE/MODEL/<N>/ as written by `recsys-train` (N = 1, 2, 3, ...), "
          "and picks up new versions while it runs.");
ABSL_FLAG(std::string, model, "santander",
          "Name of the model to serve (the folder under --store).");
ABSL_FLAG(std::string, host, "127.0.0.1",
          "Address to listen on for gRPC and metrics. 0.0.0.0 listens on every "
          "interface.");
ABSL_FLAG(int32_t, port, 50051,
          "gRPC port. 0 picks a free port; the log line \"listening on "
          "HOST:PORT\" tells which.");
ABSL_FLAG(int32_t, metrics_port, 9464,
          "Port of the Prometheus endpoint http://HOST:PORT/metrics. 0 picks a "
          "free port (logged as \"metrics on HOST:PORT\").");
ABSL_FLAG(std::string, metrics_host, "",
          "Address the metrics endpoint listens on, when it differs from "
          "--host (e.g. --host 0.0.0.0 --metrics-host 127.0.0.1 for a local "
          "Prometheus agent). Default: --host.");
ABSL_FLAG(int32_t, metrics_threads, 8,
          "Threads of the metrics endpoint. A client that connects and sends "
          "nothing holds one for up to 5 s, so up to this many slow clients "
          "at once delay a scrape by at most 5 s.");
ABSL_FLAG(int32_t, http_port, -1,
          "Port of the HTTP/JSON API (POST /v1/models/MODEL:recommend, GET "
          "/v1/models/MODEL, /healthz, /readyz) on --host, beside gRPC and "
          "with its TLS settings (HTTPS when --tls-cert is set). 0 picks a "
          "free port (logged as \"HTTP/JSON on ...\"); negative: off (the "
          "default).");
ABSL_FLAG(int32_t, http_threads, 8,
          "Threads of the HTTP/JSON API; each reads one request body at a "
          "time (at most --max-unary-message-bytes: a term of the memory "
          "bound), and a kept-alive idle connection holds one for up to 5 s.");
ABSL_FLAG(std::string, tls_cert, "",
          "PEM file of the server's TLS certificate (chain): gRPC is served "
          "over TLS. Goes with --tls-key. Default: plaintext (see "
          "docs/security.md; scripts/make-certs.sh makes a test CA).");
ABSL_FLAG(std::string, tls_key, "",
          "PEM file of the private key of --tls-cert.");
ABSL_FLAG(std::string, tls_client_ca, "",
          "PEM file of the CA whose client certificates are accepted: every "
          "client must present one (mutual TLS). Needs --tls-cert.");
ABSL_FLAG(std::string, admin_token_file, "",
          "File holding the admin token (one word, at least 16 characters; "
          "e.g. `openssl rand -hex 32 > token; chmod 600 token`). ModelAdmin "
          "calls (versions, reload, pin, unpin, rollback) must send it as "
          "\"authorization: Bearer <token>\" (`recsys reload "
          "--admin-token-file FILE`). Without it, --admin-client-names or "
          "--admin-insecure, every admin call is refused.");
ABSL_FLAG(std::vector<std::string>, admin_client_names, {},
          "Comma-separated names (certificate CN or DNS/IP SAN) of mutual-TLS "
          "clients allowed to call ModelAdmin without the token. Needs "
          "--tls-client-ca.");
ABSL_FLAG(bool, admin_insecure, false,
          "Let ANYONE who reaches the gRPC port call ModelAdmin (reload, pin, "
          "unpin, rollback). For local demos only; logged as a warning.");
ABSL_FLAG(int32_t, workers, 0,
          "Scoring threads. 0 = the CPUs this process may use: the "
          "container's CPU quota (cgroup v2 cpu.max or v1 cpu.cfs_quota_us, "
          "rounded up) or its CPU affinity, whichever is smaller, at least 1. "
          "Every prediction runs on one of them; each predicts with one "
          "thread.");
ABSL_FLAG(absl::Duration, liveness_stuck_after, absl::Seconds(60),
          "The grpc.health.v1 service \"liveness\" (for a Kubernetes "
          "livenessProbe) is SERVING while the process works, with or without "
          "a model; it turns NOT_SERVING when scoring work has been queued "
          "this long with no task finishing (every worker stuck), e.g. 60s. "
          "Readiness is the service \"\" (SERVING once a model serves).");
ABSL_FLAG(int32_t, poll_seconds, 10,
          "Seconds between rescans of the model store (new versions are also "
          "noticed at once through inotify). SIGHUP or `recsys reload` rescans "
          "now.");
ABSL_FLAG(absl::Duration, grace_period, absl::Seconds(10),
          "On SIGTERM/SIGINT: how long in-flight calls may run before they are "
          "cancelled, e.g. 10s, 500ms.");
ABSL_FLAG(int32_t, max_message_bytes, 4 << 20,
          "Largest request message accepted, in bytes (default 4 MiB); larger "
          "ones fail with RESOURCE_EXHAUSTED.");
ABSL_FLAG(int32_t, max_unary_message_bytes, 64 << 10,
          "Largest unary Recommend/GetModelInfo request, in bytes (default "
          "64 KiB; one customer takes about 1 KiB); larger ones fail with "
          "RESOURCE_EXHAUSTED before they are parsed. Batches go over "
          "RecommendStream.");
ABSL_FLAG(int32_t, max_concurrent_streams, 16,
          "RecommendStream calls answered at once; more are refused with "
          "RESOURCE_EXHAUSTED (clients retry). A term of the memory bound "
          "printed at start (docs/security.md).");
ABSL_FLAG(int32_t, max_concurrent_calls, 64,
          "Unary calls answered at once; more are refused with "
          "RESOURCE_EXHAUSTED.");
ABSL_FLAG(int32_t, max_streams_per_connection, 32,
          "HTTP/2 streams one client connection may have open at once.");
ABSL_FLAG(int64_t, request_memory_bytes, int64_t{256} << 20,
          "Memory for parsed RecommendStream messages being scored, all "
          "streams together (default 256 MiB); a stream waits while it is "
          "spent.");
ABSL_FLAG(int64_t, grpc_memory_bytes, int64_t{128} << 20,
          "Memory gRPC may use for its own buffers (its ResourceQuota; "
          "default 128 MiB).");
ABSL_FLAG(int32_t, max_rows_per_request, 4096,
          "Most customers in one RecommendStream message; more fail the stream "
          "with INVALID_ARGUMENT.");
ABSL_FLAG(int32_t, max_unary_batch, 64,
          "Most Recommend calls scored together when they queue up behind "
          "busy workers (an idle server scores each call at once); 1 turns "
          "batching off.");
ABSL_FLAG(absl::Duration, load_timeout, absl::Seconds(60),
          "Longest a model version may take to load (read, validate, warm), "
          "e.g. 60s. A load still running then (a hung network file system, "
          "a FIFO) marks the version FAILED and is abandoned: reload, pin and "
          "shutdown do not wait for it, and recsys_model_store_stuck shows it.");
ABSL_FLAG(int32_t, max_loaded_versions, 3,
          "Most model versions kept in memory, at least 1: the champion and "
          "the challenger always, then the newest other versions loaded "
          "(e.g. the one served before, for an instant rollback); older ones "
          "are unloaded. A request may name any version in memory "
          "(RecommendRequest.model_version, recsys recommend "
          "--model-version); one not in memory is NOT_FOUND. Each version "
          "costs its loaded bundle in memory (model, forest, history "
          "snapshot; README.md, \"Model versions in requests and in "
          "memory\").");
ABSL_FLAG(int64_t, max_bundle_file_bytes, int64_t{2} << 30,
          "Largest model bundle file read, in bytes (default 2 GiB). Larger "
          "files, files of another size than the manifest records, "
          "non-regular files and symlinks leading out of --store are refused "
          "before they are read.");
ABSL_FLAG(int32_t, drift_window, 5000,
          "Drift monitoring: N rows of each served month (a uniform sample, "
          "whatever the order they come in) are compared with the model's "
          "training distributions (PSI per feature).");
ABSL_FLAG(int32_t, drift_min_rows, 2000,
          "Drift monitoring: PSI is exported only once the month's sample "
          "holds this many rows (small samples give false alarms).");
ABSL_FLAG(std::string, predictor, "auto",
          "What computes the scores: auto (the server's own tree evaluator "
          "when it gives XGBoost's exact bytes on the check run at every "
          "model load, else XGBoost), forest (the own evaluator; a model "
          "version it does not match exactly fails to load) or xgboost.");
ABSL_FLAG(std::string, served_log, "",
          "Realized quality: keep a served log in this directory (off when "
          "empty): per month (the rows' fecha_dato) the model version and "
          "top 7 of the last answer to each customer, in an append-only, "
          "checksummed file per month, synced after each write and replayed "
          "at start. When a history version holding a served month arrives, "
          "the month is scored against what customers added "
          "(recsys_realized_ap_sum / recsys_realized_customers_total). "
          "Bounds for n customers a month: memory <= --served-log-months x "
          "30 n bytes (27.3 MB a month for n = 950,000), disk <= "
          "--served-log-months x (40 n bytes + 1 MiB + 20 x "
          "--served-log-queue-rows) (40.3 MB a month for n = 950,000); see "
          "docs/monthly.md.");
ABSL_FLAG(int32_t, served_log_months, 3,
          "Months the served log keeps; a row of a newer month drops the "
          "oldest (logged, recsys_served_log_months_dropped_total).");
ABSL_FLAG(int64_t, served_log_max_customers, 2000000,
          "Customers the served log keeps per month; rows of further new "
          "customers are dropped and counted "
          "(recsys_served_log_rows_total{result=\"dropped\"}).");
ABSL_FLAG(int64_t, served_log_queue_rows, 65536,
          "Answered rows waiting for the served log's writer thread (16 "
          "bytes each); when full, rows are dropped and counted rather than "
          "slowing scoring.");

ABSL_FLAG(std::string, records_db, "",
          "Web console and GetCustomer: the records database (written by "
          "`recsys-data ingest`) to read customers' newest records from, "
          "opened read-only. Empty: customers are described by the product "
          "history only.");

ABSL_FLAG(int64_t, challenger_version, 0,
          "Serve this model version beside the serving one (the champion) to "
          "--challenger-share of the customers, chosen by a hash of ncodpers "
          "(a customer always gets the same version). Refused (logged; the "
          "champion answers everybody) when it is not in the store, does not "
          "load, or is the champion. Saved in the store's serving policy, as "
          "`recsys challenger set` does. 0: keep the saved challenger, if "
          "any.");
ABSL_FLAG(double, challenger_share, -1,
          "Share of customers the challenger answers, in (0, 1], e.g. 0.1; "
          "0 clears the challenger at start. Without --challenger-version: "
          "the new share of the saved challenger. Default: unchanged.");

namespace {

const recsys::CommandSpec& Command() {
  static const auto* const kCommand = new recsys::CommandSpec{
      .name = "recsys-server",
      .summary = "serves Santander product recommendations over gRPC (and "
                 "HTTP/JSON with --http-port).",
      .usage = {"recsys-server --store STORE [--port PORT] "
                "[--metrics-port PORT] [flags]"},
      .description =
          "The server loads the newest valid model version from STORE/MODEL/ "
          "(a bundle written by `recsys-train`: manifest, XGBoost model, "
          "product-history snapshot), checks it (feature spec, checksums, "
          "golden set), warms it, and answers the santander.recsys.v1 "
          "Recommender and ModelAdmin services. New versions are picked up "
          "without a restart; a broken one is refused and the serving one "
          "stays. Until a model is loaded the standard grpc.health.v1 service "
          "answers NOT_SERVING (the server keeps watching the store); the "
          "service \"liveness\" answers SERVING as long as the process "
          "works.\n\n"
          "Signals: SIGHUP rescans the store now; SIGTERM or SIGINT drains "
          "in-flight calls for up to --grace-period, then exits 0.\n\n"
          "Example:\n"
          "  recsys-server --store models --port 0 --metrics-port 0\n"
          "  recsys info --server 127.0.0.1:PORT    (PORT from the log)",
      .flags = {{"Model flags",
                 {"store", "model", "poll_seconds", "load_timeout",
                  "max_bundle_file_bytes", "max_loaded_versions",
                  "predictor"}},
                {"Champion and challenger flags (docs/monthly.md)",
                 {"challenger_version", "challenger_share"}},
                {"Network flags",
                 {"host", "port", "http_port", "http_threads", "metrics_port",
                  "metrics_host", "metrics_threads"}},
                {"Security flags (docs/security.md)",
                 {"tls_cert", "tls_key", "tls_client_ca", "admin_token_file",
                  "admin_client_names", "admin_insecure"}},
                {"Scoring flags",
                 {"workers", "max_unary_batch", "liveness_stuck_after",
                  "grace_period"}},
                {"Limits (docs/limits.md)",
                 {"max_message_bytes", "max_unary_message_bytes",
                  "max_concurrent_streams", "max_concurrent_calls",
                  "max_streams_per_connection", "request_memory_bytes",
                  "grpc_memory_bytes", "max_rows_per_request"}},
                {"Drift monitoring flags", {"drift_window", "drift_min_rows"}},
                {"Web console flags (GET / on --http-port)", {"records_db"}},
                {"Realized quality flags (docs/monthly.md)",
                 {"served_log", "served_log_months",
                  "served_log_max_customers", "served_log_queue_rows"}}},
      .required = {"store"},
      .exit_status =
          "0 stopped by SIGTERM or SIGINT after draining; 1 the server could "
          "not start (e.g. a port in use, an unreadable certificate); 2 usage "
          "error (unknown flag, bad value, missing --store, inconsistent "
          "security flags)."};
  return *kCommand;
}

int Fail(int code, const std::string& message) {
  recsys::LogEvent(message);
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  // Debian's abseil is built with Mutex deadlock detection on, which tracks
  // lock order on every lock (GraphCycles, ~1% of CPU under load in perf).
  // Our lock order is checked at compile time (make tsa) and by TSAN tests.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  recsys::ConfigureMallocForServing();
  recsys::InstallLibraryLogHandlers();
  const recsys::ParsedCommand command =
      recsys::ParseCommand(Command(), argc, argv);
  if (command.exit_code) return *command.exit_code;
  // Before any thread exists, so that every thread inherits the mask and
  // only the signal thread receives SIGTERM/SIGINT/SIGHUP.
  recsys::BlockServerSignals();
  if (absl::GetFlag(FLAGS_poll_seconds) < 1)
    return recsys::UsageError(Command().name,
                              "--poll-seconds must be at least 1");

  recsys::MetricsOptions metrics_options;
  metrics_options.bind = absl::GetFlag(FLAGS_metrics_host).empty()
                             ? absl::GetFlag(FLAGS_host)
                             : absl::GetFlag(FLAGS_metrics_host);
  metrics_options.threads = absl::GetFlag(FLAGS_metrics_threads);
  metrics_options.port = absl::GetFlag(FLAGS_metrics_port);
  metrics_options.drift_window = absl::GetFlag(FLAGS_drift_window);
  metrics_options.drift_min_rows = absl::GetFlag(FLAGS_drift_min_rows);
  absl::StatusOr<std::unique_ptr<recsys::ServerMetrics>> metrics =
      recsys::ServerMetrics::Create(metrics_options);
  if (!metrics.ok()) return Fail(1, std::string(metrics.status().message()));
  recsys::LogEvent(absl::StrCat("metrics on ", metrics_options.bind, ":",
                                (*metrics)->port()));

  recsys::RecsysServerOptions options;
  options.store_dir = absl::GetFlag(FLAGS_store);
  options.model_name = absl::GetFlag(FLAGS_model);
  options.host = absl::GetFlag(FLAGS_host);
  options.port = absl::GetFlag(FLAGS_port);
  options.http_port = absl::GetFlag(FLAGS_http_port);
  options.http_threads = absl::GetFlag(FLAGS_http_threads);
  options.tls_cert_file = absl::GetFlag(FLAGS_tls_cert);
  options.tls_key_file = absl::GetFlag(FLAGS_tls_key);
  options.tls_client_ca_file = absl::GetFlag(FLAGS_tls_client_ca);
  options.admin_token_file = absl::GetFlag(FLAGS_admin_token_file);
  options.admin_client_names = absl::GetFlag(FLAGS_admin_client_names);
  options.admin_insecure = absl::GetFlag(FLAGS_admin_insecure);
  options.workers = absl::GetFlag(FLAGS_workers);
  options.stuck_after = absl::GetFlag(FLAGS_liveness_stuck_after);
  options.poll_interval = absl::Seconds(absl::GetFlag(FLAGS_poll_seconds));
  options.grace_period = absl::GetFlag(FLAGS_grace_period);
  options.max_message_bytes = absl::GetFlag(FLAGS_max_message_bytes);
  options.max_rows_per_request = absl::GetFlag(FLAGS_max_rows_per_request);
  options.max_unary_batch = absl::GetFlag(FLAGS_max_unary_batch);
  options.load_timeout = absl::GetFlag(FLAGS_load_timeout);
  options.max_bundle_file_bytes = absl::GetFlag(FLAGS_max_bundle_file_bytes);
  options.max_loaded_versions = absl::GetFlag(FLAGS_max_loaded_versions);
  options.max_unary_message_bytes =
      absl::GetFlag(FLAGS_max_unary_message_bytes);
  options.max_concurrent_streams = absl::GetFlag(FLAGS_max_concurrent_streams);
  options.max_concurrent_calls = absl::GetFlag(FLAGS_max_concurrent_calls);
  options.max_streams_per_connection =
      absl::GetFlag(FLAGS_max_streams_per_connection);
  options.request_memory_bytes = absl::GetFlag(FLAGS_request_memory_bytes);
  options.grpc_memory_bytes = absl::GetFlag(FLAGS_grpc_memory_bytes);
  options.challenger_version = absl::GetFlag(FLAGS_challenger_version);
  options.challenger_share = absl::GetFlag(FLAGS_challenger_share);
  options.metrics = metrics->get();
  options.served_log_dir = absl::GetFlag(FLAGS_served_log);
  options.records_db = absl::GetFlag(FLAGS_records_db);
  options.served_log_months = absl::GetFlag(FLAGS_served_log_months);
  options.served_log_max_customers =
      absl::GetFlag(FLAGS_served_log_max_customers);
  options.served_log_queue_rows = absl::GetFlag(FLAGS_served_log_queue_rows);
  absl::StatusOr<recsys::PredictorChoice> predictor =
      recsys::ParsePredictorChoice(absl::GetFlag(FLAGS_predictor));
  if (!predictor.ok()) {
    return recsys::UsageError(
        Command().name,
        absl::StrCat("--predictor: ", predictor.status().message()));
  }
  options.predictor = *predictor;
  absl::StatusOr<std::unique_ptr<recsys::RecsysServer>> server =
      recsys::RecsysServer::Create(options);
  if (!server.ok()) return Fail(2, std::string(server.status().message()));
  if (absl::Status started = (*server)->Start(); !started.ok()) {
    return Fail(1, std::string(started.message()));
  }

  recsys::RecsysServer* s = server->get();
  recsys::SignalThread signals([s] { s->ReloadAsync("SIGHUP"); },
                               [s](int) { s->Shutdown(); });
  s->Wait();
  return 0;
}
