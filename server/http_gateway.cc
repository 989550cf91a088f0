#include "server/http_gateway.h"

#include <google/protobuf/util/json_util.h>
#include <httplib.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "common/elapsed.h"
#include "nlohmann/json.hpp"
#include "proto/api.h"
#include "server/admin_service.h"
#include "server/console_http.h"
#include "server/event_log.h"
#include "server/listen_error.h"
#include "server/proto_encode.h"
#include "server/recommend_answer.h"
#include "server/record_codec.h"
#include "server/rpc_record.h"

namespace recsys {
namespace {

// String literals (RpcRecord keeps them).
const char* const kService = v1::Recommender::service_full_name();
constexpr char kRecommend[] = "Recommend";
constexpr char kGetModelInfo[] = "GetModelInfo";
constexpr char kJson[] = "application/json";
constexpr char kTimeoutHeader[] = "grpc-timeout";

using Clock = std::chrono::system_clock;

// Writes `status` (not OK) as the JSON error body with its HTTP status.
void ReplyError(const absl::Status& status, httplib::Response& res,
                int http_status = 0) {
  res.status = http_status != 0 ? http_status : HttpStatusOf(status.code());
  res.set_content(JsonErrorBody(status), kJson);
}

// Parses a JSON body into `*message` (unknown fields refused).
// INVALID_ARGUMENT naming the message type and protobuf's reason, which
// names the field: "(customer.age): invalid value "x" for type TYPE_INT32".
absl::Status FromJson(absl::string_view body,
                      google::protobuf::Message* message) {
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  const auto parsed = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(body.data(), body.size()), message,
      options);
  if (parsed.ok()) return absl::OkStatus();
  std::string reason = parsed.message().as_string();
  absl::StripTrailingAsciiWhitespace(&reason);
  return absl::InvalidArgumentError(absl::StrCat(
      "request is not a valid ", message->GetTypeName(), " in JSON: ", reason));
}

// The recommend routes' query parameters, which override the body's fields:
// explain=1|0|true|false and explain_features=N (range checked by the
// codec, as for gRPC). INVALID_ARGUMENT naming the parameter and the value.
absl::Status ApplyQueryParameters(const httplib::Request& req,
                                  v1::RecommendRequest* request) {
  if (req.has_param("explain")) {
    const std::string value = req.get_param_value("explain");
    if (value == "1" || value == "true") {
      request->set_explain(true);
    } else if (value == "0" || value == "false") {
      request->set_explain(false);
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("explain: must be 1, 0, true or false, got \"",
                       absl::CEscape(value), "\""));
    }
  }
  if (req.has_param("explain_features")) {
    const std::string value = req.get_param_value("explain_features");
    int32_t n = 0;
    if (!absl::SimpleAtoi(value, &n)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "explain_features: must be an integer between 1 and ",
          kMaxExplainFeatures, ", got \"", absl::CEscape(value), "\""));
    }
    request->set_explain_features(n);
  }
  return absl::OkStatus();
}

// The version the path .../versions/V:recommend names, as a selector;
// INVALID_ARGUMENT naming the path's V.
absl::StatusOr<VersionSelector> PathVersion(const std::string& text) {
  absl::StatusOr<VersionSelector> selector = ParseVersionSelector(text);
  if (!selector.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("the version in the path (.../versions/V:recommend): ",
                     selector.status().message()));
  }
  return selector;
}

// The request's model_version once the path's version is applied: the
// path's when the body names none or the same; INVALID_ARGUMENT when they
// disagree.
absl::Status ApplyPathVersion(const VersionSelector& path,
                              v1::RecommendRequest* request) {
  const std::string wanted = VersionSelectorText(path);
  if (!request->model_version().empty()) {
    absl::StatusOr<VersionSelector> body =
        DecodeModelVersion(request->model_version());
    if (!body.ok()) return body.status();
    if (*body != path) {
      return absl::InvalidArgumentError(absl::StrCat(
          "model_version: the body names \"", request->model_version(),
          "\" but the path names version \"", wanted,
          "\"; give one, or the same in both"));
    }
  }
  request->set_model_version(wanted);
  return absl::OkStatus();
}

// What a scored call hands back to the HTTP thread waiting for it; shared
// because the wait may end (deadline) before the engine answers.
struct PendingAnswer {
  absl::Notification done;
  absl::StatusOr<v1::RecommendResponse> answer = absl::UnknownError("");
};

}  // namespace

int HttpStatusOf(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk:
      return 200;
    case absl::StatusCode::kCancelled:
      return 499;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kOutOfRange:
      return 400;
    case absl::StatusCode::kDeadlineExceeded:
      return 504;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kAborted:
      return 409;
    case absl::StatusCode::kPermissionDenied:
      return 403;
    case absl::StatusCode::kUnauthenticated:
      return 401;
    case absl::StatusCode::kResourceExhausted:
      return 429;
    case absl::StatusCode::kUnimplemented:
      return 501;
    case absl::StatusCode::kUnavailable:
      return 503;
    default:  // UNKNOWN, INTERNAL, DATA_LOSS, values outside the enum
      return 500;
  }
}

absl::StatusOr<std::string> ProtoToJson(
    const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_primitive_fields = true;
  std::string out;
  const auto printed =
      google::protobuf::util::MessageToJsonString(message, &out, options);
  if (!printed.ok()) {
    return absl::InternalError(
        absl::StrCat("cannot print ", message.GetTypeName(),
                     " as JSON: ", printed.message().as_string()));
  }
  return out;
}

absl::Status ModelNotServed(absl::string_view asked, absl::string_view served) {
  return absl::NotFoundError(absl::StrCat("model \"", asked,
                                          "\" is not served here; this "
                                          "server serves \"",
                                          served, "\""));
}

std::string JsonErrorBody(const absl::Status& status) {
  nlohmann::json body = {{"code", static_cast<int>(status.code())},
                         {"message", std::string(status.message())},
                         {"details", nlohmann::json::array()}};
  // Messages may quote a client's bytes that are not UTF-8: replace them.
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

absl::StatusOr<Clock::time_point> ParseGrpcTimeout(absl::string_view value,
                                                   Clock::time_point now) {
  auto bad = [&] {
    return absl::InvalidArgumentError(
        absl::StrCat(kTimeoutHeader,
                     ": must be at most 8 digits and a unit (H, M, S, m, u "
                     "or n), e.g. \"250m\" for 250 ms, got \"",
                     value, "\""));
  };
  if (value.size() < 2 || value.size() > 9) return bad();
  int64_t amount = 0;
  if (!absl::SimpleAtoi(value.substr(0, value.size() - 1), &amount) ||
      amount < 0 || !absl::ascii_isdigit(value[0])) {
    return bad();
  }
  std::chrono::nanoseconds timeout;
  switch (value.back()) {
    case 'H':
      timeout = std::chrono::hours(amount);
      break;
    case 'M':
      timeout = std::chrono::minutes(amount);
      break;
    case 'S':
      timeout = std::chrono::seconds(amount);
      break;
    case 'm':
      timeout = std::chrono::milliseconds(amount);
      break;
    case 'u':
      timeout = std::chrono::microseconds(amount);
      break;
    case 'n':
      timeout = std::chrono::nanoseconds(amount);
      break;
    default:
      return bad();
  }
  return now + std::chrono::duration_cast<Clock::duration>(timeout);
}

absl::StatusOr<std::unique_ptr<HttpGateway>> HttpGateway::Create(
    const HttpGatewayOptions& options, HttpBackend backend) {
  auto bad = [](absl::string_view what) {
    return absl::InvalidArgumentError(absl::StrCat("recsys-server: ", what));
  };
  if (options.port < 0 || options.port > 65535) {
    return bad(
        absl::StrCat("--http-port must be 0..65535, got ", options.port));
  }
  if (options.threads < 1) {
    return bad(absl::StrCat("--http-threads must be at least 1, got ",
                            options.threads));
  }
  if (options.max_body_bytes < 1)
    return bad("the HTTP body limit must be >= 1");
  if (options.read_timeout < absl::Milliseconds(100))
    return bad("the HTTP read timeout must be at least 100 ms");
  if (options.tls_cert_file.empty() != options.tls_key_file.empty())
    return bad("--tls-cert and --tls-key go together");
  if (backend.store == nullptr || backend.engine == nullptr ||
      backend.metrics == nullptr || backend.tracker == nullptr ||
      !backend.ready || !backend.alive) {
    return absl::InternalError("HttpGateway: incomplete backend");
  }
  std::unique_ptr<httplib::Server> http;
  if (options.tls_cert_file.empty()) {
    http = std::make_unique<httplib::Server>();
  } else {
    auto https = std::make_unique<httplib::SSLServer>(
        options.tls_cert_file.c_str(), options.tls_key_file.c_str(),
        options.tls_client_ca_file.empty()
            ? nullptr
            : options.tls_client_ca_file.c_str());
    if (!https->is_valid()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "cannot serve HTTPS with --tls-cert ", options.tls_cert_file,
          " and --tls-key ", options.tls_key_file,
          options.tls_client_ca_file.empty()
              ? ""
              : absl::StrCat(" and --tls-client-ca ",
                             options.tls_client_ca_file),
          ": OpenSSL refused them (PEM files, and the key must belong to "
          "the certificate)"));
    }
    http = std::move(https);
  }
  const int threads = options.threads;
  http->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  http->set_payload_max_length(static_cast<size_t>(options.max_body_bytes));
  const auto timeout = absl::ToChronoMicroseconds(options.read_timeout);
  http->set_read_timeout(timeout);
  http->set_write_timeout(timeout);
  http->set_keep_alive_timeout(std::max<time_t>(
      1, static_cast<time_t>(absl::ToInt64Seconds(options.read_timeout))));
  http->set_tcp_nodelay(true);
  // httplib's default also sets SO_REUSEPORT, with which a second server
  // would bind the same port and silently share the traffic (gRPC's is off
  // too, server.cc): SO_REUSEADDR only.
  http->set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  std::unique_ptr<HttpGateway> gateway(
      new HttpGateway(options, std::move(backend), std::move(http)));
  gateway->AddRoutes();
  return gateway;
}

HttpGateway::HttpGateway(const HttpGatewayOptions& options, HttpBackend backend,
                         std::unique_ptr<httplib::Server> http)
    : options_(options), backend_(std::move(backend)), http_(std::move(http)) {}

HttpGateway::~HttpGateway() { Stop(); }

void HttpGateway::AddRoutes() {
  const HttpGatewayOptions& options = options_;
  const HttpBackend& b = backend_;

  // POST .../MODEL:recommend and .../MODEL/versions/V:recommend.
  auto recommend = [&options, &b](const httplib::Request& req,
                                  httplib::Response& res) {
    RpcRecord rpc(b.metrics, b.tracker, kService, kRecommend, kUnary,
                  /*cancelled=*/false, Protocol::kHttp);
    auto fail = [&](const absl::Status& status, int http_status = 0) {
      rpc.Finished(status.code());
      ReplyError(status, res, http_status);
    };
    if (!rpc.admitted()) return fail(rpc.Refusal());
    if (req.body.size() > static_cast<size_t>(options.max_body_bytes)) {
      return fail(UnaryRequestTooLarge(req.body.size(), options.max_body_bytes),
                  413);
    }
    if (req.matches[1] != options.model_name)
      return fail(ModelNotServed(req.matches[1].str(), options.model_name));
    auto deadline = Clock::time_point::max();
    if (req.has_header(kTimeoutHeader)) {
      absl::StatusOr<Clock::time_point> parsed =
          ParseGrpcTimeout(req.get_header_value(kTimeoutHeader), Clock::now());
      if (!parsed.ok()) return fail(parsed.status());
      deadline = *parsed;
    }
    std::optional<VersionSelector> path_version;  // .../versions/V:recommend
    if (req.matches.size() > 2) {
      absl::StatusOr<VersionSelector> version =
          PathVersion(req.matches[2].str());
      if (!version.ok()) return fail(version.status());
      path_version = *version;
    }
    const auto parse_start = std::chrono::steady_clock::now();
    v1::RecommendRequest request;
    absl::Status parsed = FromJson(req.body, &request);
    if (parsed.ok() && path_version.has_value())
      parsed = ApplyPathVersion(*path_version, &request);
    if (parsed.ok()) parsed = ApplyQueryParameters(req, &request);
    absl::StatusOr<DecodedRequest> decoded =
        parsed.ok() ? DecodeRecommendRequest(request)
                    : absl::StatusOr<DecodedRequest>(parsed);
    b.metrics->StageDuration(Stage::kParse, SecondsSince(parse_start));
    if (!decoded.ok()) return fail(decoded.status());

    auto pending = std::make_shared<PendingAnswer>();
    b.engine->Recommend(
        [deadline] { return CheckDeadline(deadline, /*cancelled=*/false); },
        *std::move(decoded),
        [pending, log = b.served_log](absl::StatusOr<ScoredRows> scored) {
          pending->answer = RecommendAnswer(scored);
          if (pending->answer.ok() && log != nullptr) log->Record(*scored);
          pending->done.Notify();
        });
    const bool answered = deadline == Clock::time_point::max()
                              ? (pending->done.WaitForNotification(), true)
                              : pending->done.WaitForNotificationWithDeadline(
                                    absl::FromChrono(deadline));
    if (!answered) {
      return fail(absl::DeadlineExceededError(
          "deadline exceeded before the request was scored"));
    }
    const absl::StatusOr<v1::RecommendResponse>& answer = pending->answer;
    if (!answer.ok()) return fail(answer.status());
    absl::StatusOr<std::string> json = ProtoToJson(*answer);
    if (!json.ok()) return fail(json.status());
    rpc.Finished(absl::StatusCode::kOk);
    res.set_content(*std::move(json), kJson);
  };
  http_->Post(R"(/v1/models/([^/:]+):recommend)", recommend);
  http_->Post(R"(/v1/models/([^/:]+)/versions/([^/:]+):recommend)", recommend);

  // GET /v1/models/MODEL: the serving version, the versions, the features.
  http_->Get(
      R"(/v1/models/([^/:]+))",
      [&options, &b](const httplib::Request& req, httplib::Response& res) {
        RpcRecord rpc(b.metrics, b.tracker, kService, kGetModelInfo, kUnary,
                      /*cancelled=*/false, Protocol::kHttp);
        auto fail = [&](const absl::Status& status) {
          rpc.Finished(status.code());
          ReplyError(status, res);
        };
        if (!rpc.admitted()) return fail(rpc.Refusal());
        if (req.matches[1] != options.model_name)
          return fail(ModelNotServed(req.matches[1].str(), options.model_name));
        std::shared_ptr<const ModelVersion> serving = b.store->Current();
        if (serving == nullptr) {
          return fail(absl::UnavailableError(
              "no model is loaded yet; the server is not serving"));
        }
        absl::StatusOr<v1::ModelInfo> info =
            EncodeModelInfo(DescribeVersion(*serving));
        if (!info.ok()) return fail(info.status());
        DescribeServingHistory(*b.engine, *serving, &*info);
        v1::ListVersionsResponse versions = DescribeVersions(*b.store);
        // Failure reasons (file paths, parser output) are for the admin API.
        for (v1::VersionInfo& version : *versions.mutable_versions())
          version.clear_reason();
        absl::StatusOr<std::string> info_json = ProtoToJson(*info);
        if (!info_json.ok()) return fail(info_json.status());
        absl::StatusOr<std::string> versions_json = ProtoToJson(versions);
        if (!versions_json.ok()) return fail(versions_json.status());
        nlohmann::json loaded = nlohmann::json::array();
        for (int64_t version : b.store->LoadedVersions())
          loaded.push_back(absl::StrCat(version));
        const nlohmann::json body = {
            {"model", nlohmann::json::parse(*info_json)},
            {"versions", nlohmann::json::parse(*versions_json)},
            {"loadedVersions", std::move(loaded)},
            {"featureSpec", serving->featurizer().spec().ToJson()}};
        rpc.Finished(absl::StatusCode::kOk);
        res.set_content(body.dump(), kJson);
      });

  auto probe = [](bool ok, httplib::Response& res) {
    res.status = ok ? 200 : 503;
    res.set_content(
        ok ? R"({"status":"SERVING"})" : R"({"status":"NOT_SERVING"})", kJson);
  };
  AddConsoleRoutes(http_.get(), options_, backend_);  // the web console

  http_->Get("/healthz",
             [&b, probe](const httplib::Request&, httplib::Response& res) {
               probe(b.alive(), res);
             });
  http_->Get("/readyz",
             [&b, probe](const httplib::Request&, httplib::Response& res) {
               probe(b.ready(), res);
             });

  // Answers httplib gives itself (no route, a body over the limit) get a
  // JSON body too; a body over the limit is counted as a refused call.
  http_->set_error_handler(httplib::Server::HandlerWithResponse(
      [&options, &b](const httplib::Request& req, httplib::Response& res) {
        if (!res.body.empty())
          return httplib::Server::HandlerResponse::Unhandled;
        absl::Status status;
        if (res.status == 413) {
          int64_t bytes = 0;
          if (!absl::SimpleAtoi(req.get_header_value("Content-Length"), &bytes))
            bytes = static_cast<int64_t>(req.body.size());
          status = UnaryRequestTooLarge(bytes, options.max_body_bytes);
          RpcRecord rpc(b.metrics, b.tracker, kService, kRecommend, kUnary,
                        /*cancelled=*/false, Protocol::kHttp);
          rpc.Finished(status.code());
        } else if (res.status == 404) {
          status = absl::NotFoundError(
              absl::StrCat("no route for ", req.method, " ", req.path,
                           "; routes: POST /v1/models/", options.model_name,
                           ":recommend, POST /v1/models/", options.model_name,
                           "/versions/V:recommend, GET /v1/models/",
                           options.model_name, ", GET /healthz, GET /readyz"));
        } else {
          status = absl::Status(res.status >= 500
                                    ? absl::StatusCode::kInternal
                                    : absl::StatusCode::kInvalidArgument,
                                absl::StrCat("HTTP ", res.status));
        }
        res.set_content(JsonErrorBody(status), kJson);
        return httplib::Server::HandlerResponse::Handled;
      }));
  http_->set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
        ReplyError(absl::InternalError("the HTTP handler failed"), res);
      });
}

absl::Status HttpGateway::Start() {
  int port = options_.port;
  if (port == 0) {
    port = http_->bind_to_any_port(options_.host);
  } else if (!http_->bind_to_port(options_.host, port)) {
    port = -1;
  }
  if (port <= 0) {
    if (options_.port != 0 && PortInUse(options_.host, options_.port)) {
      return PortInUseError("HTTP", options_.host, options_.port,
                            "--http-port");
    }
    return absl::UnavailableError(
        absl::StrCat("cannot listen for HTTP on ", options_.host, ":",
                     options_.port, " (address not available?)"));
  }
  absl::MutexLock lock(&mu_);
  port_ = port;
  httplib::Server* http = http_.get();
  listener_ = std::thread([http] { http->listen_after_bind(); });
  // stop() before the listener runs would be lost: wait until it runs.
  const absl::Time give_up = absl::Now() + absl::Seconds(10);
  while (!http_->is_running() && absl::Now() < give_up)
    absl::SleepFor(absl::Milliseconds(1));
  return absl::OkStatus();
}

int HttpGateway::port() const {
  absl::MutexLock lock(&mu_);
  return port_;
}

void HttpGateway::Stop() {
  absl::MutexLock lock(&mu_);
  if (!listener_.joinable()) return;
  http_->stop();
  listener_.join();
}

}  // namespace recsys
