// HttpGateway: the Recommender API over HTTP/JSON, in the server's process,
// beside gRPC (recsys-server --http-port). It is a second door to the same
// code, not a second implementation: a JSON body is parsed with protobuf's
// JSON mapping into the same RecommendRequest the gRPC method takes, decoded
// and validated by the same codec (server/record_codec.h), scored by the same
// ScoringEngine, and answered with the same RecommendResponse
// (server/recommend_answer.h) printed as JSON, so the two APIs cannot drift:
// the same customer gets the same answer, byte for byte once parsed back,
// and the same error texts.
//
//   HttpGatewayOptions options;            // host, port, TLS files, limits
//   RECSYS_ASSIGN_OR_RETURN(auto gateway,
//                           HttpGateway::Create(options, backend));
//   RECSYS_RETURN_IF_ERROR(gateway->Start());  // listening on its own threads
//   ...
//   gateway->Stop();
//
// Routes (MODEL is the served model's name, e.g. santander):
//   POST /v1/models/MODEL:recommend        body: RecommendRequest as JSON;
//        the query parameters explain=1 (or 0, true, false) and
//        explain_features=N set those request fields (over the body's): each
//        recommendation then carries its explanation; a bad value is 400
//        naming the parameter
//   POST /v1/models/MODEL/versions/V:recommend
//        the same, answered by version V: a loaded version's number or a
//        label (serving, latest, pinned, challenger), as the body's
//        model_version (RecommendRequest); a V that names no loaded version
//        is 404 naming it and the versions loaded; a body whose
//        model_version names another version is 400
//   GET  /v1/models/MODEL                  metadata: {"model": ModelInfo of
//        the serving version, "versions": ListVersionsResponse (states; the
//        failure reasons left out, they are for the admin API),
//        "loadedVersions": the versions in memory, which requests may name
//        (["2", "3"]), "featureSpec": the serving version's feature spec}
//   GET  /, /console/*, /v1/customers/N, /v1/models/MODEL/drift,
//        /v1/models/MODEL/reloads: the web console and its data
//        (server/console_http.h)
//   GET  /healthz   200 while the process works (gRPC health "liveness"),
//                   503 when the scoring workers are wedged or it drains
//   GET  /readyz    200 while a model serves (gRPC health ""), else 503
// JSON field names are proto3's JSON names (lowerCamelCase; the proto names,
// e.g. "fecha_dato", are accepted too); unknown fields are refused. Answers
// print every field, zero values included.
//
// Errors: the gRPC status the same call would get, as JSON
// {"code": <google.rpc.Code number>, "message": "...", "details": []} with
// the HTTP status of the gRPC-HTTP mapping (grpc-gateway's
// HTTPStatusFromCode): INVALID_ARGUMENT and FAILED_PRECONDITION 400,
// UNAUTHENTICATED 401, PERMISSION_DENIED 403, NOT_FOUND 404, ABORTED and
// ALREADY_EXISTS 409, RESOURCE_EXHAUSTED 429, CANCELLED 499, UNIMPLEMENTED
// 501, UNAVAILABLE 503, DEADLINE_EXCEEDED 504, others 500. One exception: a
// body over the size limit is 413 (code RESOURCE_EXHAUSTED).
//
// Limits, the same as gRPC's: a body over max_body_bytes
// (--max-unary-message-bytes) is refused before it is read; each call takes
// one of the unary call slots it shares with gRPC (--max-concurrent-calls;
// over it 429, while draining 503); a deadline comes in the header
// "grpc-timeout" in gRPC's wire form (e.g. "250m" = 250 ms, units H M S m u
// n), as grpc-gateway reads it; at most `threads` requests are read at once.
// Calls are counted in the same grpc_server_* series as gRPC's, with the
// label protocol="http".
//
// Security: the gateway listens on the gRPC host and follows the gRPC
// port's transport: HTTPS with the same certificate and key when gRPC uses
// TLS, with client certificates required from the same CA under mutual TLS;
// plaintext only when gRPC is plaintext too. It serves no admin method. So
// the HTTP port never admits a client the gRPC port would refuse
// (docs/security.md).
//
// Thread-safe: Start and Stop may be called from any thread; requests are
// served on the gateway's own threads.
#ifndef RECSYS_SERVER_HTTP_GATEWAY_H_
#define RECSYS_SERVER_HTTP_GATEWAY_H_

#include <google/protobuf/message.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "model_store/model_store.h"
#include "server/call_tracker.h"
#include "server/metrics.h"
#include "server/scoring_engine.h"
#include "server/served_log.h"

namespace httplib {
class Server;
}  // namespace httplib

namespace recsys {

class CustomerDirectory;
class ReloadHistory;

struct HttpGatewayOptions {
  // Address and port to listen on; port 0 picks a free one (see port()).
  // Defaults "127.0.0.1" and 0.
  std::string host = "127.0.0.1";
  int port = 0;
  // The model the routes name (/v1/models/MODEL). Default "santander".
  std::string model_name = "santander";
  // Threads serving requests; each holds at most one request body, and a
  // kept-alive idle connection holds one for up to read_timeout. Default 8.
  int threads = 8;
  // Largest request body, in bytes (larger: 413 before it is read).
  // Default 64 KiB (--max-unary-message-bytes).
  int64_t max_body_bytes = 64 << 10;
  // How long a connection may take to send a request (or take an answer),
  // and stay idle between kept-alive requests. Default 5 s.
  absl::Duration read_timeout = absl::Seconds(5);
  // The gRPC port's TLS files (server/security.h): cert and key both set =
  // HTTPS; client_ca set = client certificates from it required. Default
  // empty: plaintext.
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string tls_client_ca_file;
};

// What the gateway answers from. Pointers are borrowed and must outlive the
// gateway; the functions are called on the gateway's threads.
struct HttpBackend {
  ModelStore* store = nullptr;
  ScoringEngine* engine = nullptr;
  ServerMetrics* metrics = nullptr;
  CallTracker* tracker = nullptr;
  // Where answered rows are recorded, as the gRPC service records them
  // (server/served_log.h); null: not recorded.
  ServedLog* served_log = nullptr;
  // The web console's data (server/console_http.h): GetCustomer and the
  // reload history; null: GET /v1/customers/N is UNIMPLEMENTED, no reloads.
  const CustomerDirectory* customers = nullptr;
  const ReloadHistory* reloads = nullptr;
  // Readiness (a model serves, not draining) and liveness (the process
  // works: the gRPC health services "" and "liveness").
  std::function<bool()> ready;
  std::function<bool()> alive;
};

// The HTTP status of the gRPC-HTTP mapping for `code` (see above; 200 for
// OK).
int HttpStatusOf(absl::StatusCode code);

// The JSON error body {"code": N, "message": "...", "details": []} of
// `status` (not OK).
std::string JsonErrorBody(const absl::Status& status);

// `message` in proto3's JSON mapping with every field printed (zero values
// included), as the HTTP API answers; INTERNAL naming the message type when
// protobuf cannot print it.
absl::StatusOr<std::string> ProtoToJson(
    const google::protobuf::Message& message);

// NOT_FOUND for a route naming model `asked` when this server serves
// `served`: 'model "x" is not served here; this server serves "santander"'.
absl::Status ModelNotServed(absl::string_view asked, absl::string_view served);

// The deadline a "grpc-timeout" header value gives, from `now`: digits (at
// most 8) and a unit H, M, S, m, u or n. INVALID_ARGUMENT naming the header
// and the value otherwise.
absl::StatusOr<std::chrono::system_clock::time_point> ParseGrpcTimeout(
    absl::string_view value, std::chrono::system_clock::time_point now);

class HttpGateway {
 public:
  // Checks the options (INVALID_ARGUMENT naming the bad one; TLS files that
  // cannot be used as INVALID_ARGUMENT naming them) and sets up the routes.
  static absl::StatusOr<std::unique_ptr<HttpGateway>> Create(
      const HttpGatewayOptions& options, HttpBackend backend);
  ~HttpGateway();  // Stop()
  HttpGateway(const HttpGateway&) = delete;
  HttpGateway& operator=(const HttpGateway&) = delete;

  // Binds and starts serving on the gateway's threads. UNAVAILABLE when the
  // address cannot be bound ("HTTP port P on HOST is already in use ...").
  // REQUIRES: called once.
  absl::Status Start() ABSL_LOCKS_EXCLUDED(mu_);

  // The port listened on once started; 0 before.
  int port() const ABSL_LOCKS_EXCLUDED(mu_);

  // Whether it serves HTTPS.
  bool tls() const { return !options_.tls_cert_file.empty(); }

  // Stops listening, finishes the requests being served and joins the
  // threads. Idempotent.
  void Stop() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  HttpGateway(const HttpGatewayOptions& options, HttpBackend backend,
              std::unique_ptr<httplib::Server> http);
  void AddRoutes();

  const HttpGatewayOptions options_;
  const HttpBackend backend_;
  const std::unique_ptr<httplib::Server> http_;

  mutable absl::Mutex mu_;
  std::thread listener_ ABSL_GUARDED_BY(mu_);
  int port_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace recsys

#endif  // RECSYS_SERVER_HTTP_GATEWAY_H_
