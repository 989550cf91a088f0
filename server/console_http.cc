#include "server/console_http.h"

#include <google/protobuf/util/json_util.h>
#include <httplib.h>

#include <algorithm>
#include <memory>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/products.h"
#include "nlohmann/json.hpp"
#include "proto/api.h"
#include "server/customer_directory.h"
#include "server/metrics.h"
#include "server/reload_history.h"
#include "server/rpc_record.h"

namespace recsys {
namespace {

// String literals (RpcRecord keeps them).
const char* const kService = v1::Recommender::service_full_name();
constexpr char kGetCustomer[] = "GetCustomer";
constexpr char kJson[] = "application/json";
// The PSI lines of docs/monitoring.md: below 0.1 stable, 0.1..0.25 moderate
// shift, above 0.25 major shift.
constexpr double kPsiModerate = 0.1;
constexpr double kPsiMajor = 0.25;

void NoSniff(httplib::Response& res) {
  res.set_header("X-Content-Type-Options", "nosniff");
}

void ReplyJson(std::string body, httplib::Response& res) {
  NoSniff(res);
  res.set_content(std::move(body), kJson);
}

void ReplyError(const absl::Status& status, httplib::Response& res) {
  res.status = HttpStatusOf(status.code());
  ReplyJson(JsonErrorBody(status), res);
}

// The ncodpers a path segment names: INVALID_ARGUMENT naming the field and
// the text when it is not an integer.
absl::StatusOr<int64_t> ParseNcodpers(absl::string_view text) {
  int64_t ncodpers = 0;
  if (text.empty() || text.size() > 20 || !absl::SimpleAtoi(text, &ncodpers) ||
      !absl::ascii_isdigit(text.back())) {
    std::string shown(text.substr(0, 40));
    return absl::InvalidArgumentError(
        absl::StrCat("ncodpers: must be a positive integer, got \"", shown,
                     text.size() > 40 ? "...\"" : "\""));
  }
  return ncodpers;
}

nlohmann::json OptionalNumber(const std::optional<double>& value) {
  return value.has_value() ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

nlohmann::json DriftJson(const DriftSnapshot& d) {
  nlohmann::json features = nlohmann::json::array();
  for (const DriftSnapshot::Feature& f : d.features) {
    features.push_back({{"feature", f.name},
                        {"rows", f.rows},
                        {"psi", OptionalNumber(f.psi)}});
  }
  nlohmann::json mix = nlohmann::json::array();
  for (size_t p = 0;
       p < d.prediction_share.size() && p < static_cast<size_t>(kNumProducts);
       ++p) {
    mix.push_back({{"product", std::string(kProducts[p].column)},
                   {"englishName", std::string(kProducts[p].english)},
                   {"share", d.prediction_share[p]},
                   {"reference", p < d.prediction_reference.size()
                                     ? d.prediction_reference[p]
                                     : 0.0}});
  }
  return {{"serving", d.serving},
          {"model", d.model},
          {"version", absl::StrCat(d.version)},
          {"month", d.month},
          {"rowsSeen", d.rows_seen},
          {"rowsSampled", d.rows_sampled},
          {"windowRows", d.window_rows},
          {"minRows", d.min_rows},
          {"thresholds", {{"moderate", kPsiModerate}, {"major", kPsiMajor}}},
          {"features", std::move(features)},
          {"predictionPsi", OptionalNumber(d.prediction_psi)},
          {"predictionMix", std::move(mix)}};
}

nlohmann::json ReloadsJson(const std::vector<ReloadEvent>& events) {
  nlohmann::json out = nlohmann::json::array();
  for (const ReloadEvent& e : events) {
    nlohmann::json event = {
        {"time",
         absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", e.time, absl::UTCTimeZone())},
        {"kind", std::string(ReloadEvent::KindName(e.kind))},
        {"version", absl::StrCat(e.version)}};
    switch (e.kind) {
      case ReloadEvent::kLoaded:
        event["seconds"] = e.seconds;
        break;
      case ReloadEvent::kFailed:
        event["seconds"] = e.seconds;  // the reason is for the admin API
        break;
      case ReloadEvent::kSwap:
        event["previous"] = absl::StrCat(e.previous);
        break;
      case ReloadEvent::kChallenger:
        event["share"] = e.share;
        break;
    }
    out.push_back(std::move(event));
  }
  return out;
}

}  // namespace

absl::string_view ConsoleContentType(absl::string_view name) {
  if (absl::EndsWith(name, ".html")) return "text/html; charset=utf-8";
  if (absl::EndsWith(name, ".js")) return "text/javascript; charset=utf-8";
  if (absl::EndsWith(name, ".css")) return "text/css; charset=utf-8";
  return "application/octet-stream";
}

void AddConsoleRoutes(httplib::Server* http, const HttpGatewayOptions& options,
                      const HttpBackend& b) {
  // The console's files.
  auto serve_file = [](absl::string_view name, httplib::Response& res) {
    for (const EmbeddedFile& file : ConsoleFiles()) {
      if (file.name != name) continue;
      NoSniff(res);
      res.set_header("Content-Security-Policy", kConsoleCsp);
      res.set_header("Cache-Control", "no-cache");
      res.set_header("Referrer-Policy", "no-referrer");
      res.set_header("X-Frame-Options", "DENY");
      res.set_content(std::string(file.bytes),
                      std::string(ConsoleContentType(name)).c_str());
      return;
    }
    ReplyError(absl::NotFoundError(absl::StrCat("no console file \"",
                                                name.substr(0, 64), "\"")),
               res);
  };
  http->Get("/", [serve_file](const httplib::Request&, httplib::Response& res) {
    serve_file("index.html", res);
  });
  // The page's settings (the model the routes name); before the files' route.
  http->Get("/console/config.json", [&options](const httplib::Request&,
                                               httplib::Response& res) {
    ReplyJson(nlohmann::json({{"model", options.model_name}}).dump(), res);
  });
  http->Get(R"(/console/([A-Za-z0-9_.-]+))",
            [serve_file](const httplib::Request& req, httplib::Response& res) {
              const std::string name = req.matches[1].str();
              if (name == "index.html" || name.front() == '.') {
                return serve_file("", res);  // served at / only
              }
              serve_file(name, res);
            });

  // GET /v1/customers/N: Recommender.GetCustomer.
  http->Get(R"(/v1/customers/([^/]*))", [&b](const httplib::Request& req,
                                             httplib::Response& res) {
    RpcRecord rpc(b.metrics, b.tracker, kService, kGetCustomer, kUnary,
                  /*cancelled=*/false, Protocol::kHttp);
    auto fail = [&](const absl::Status& status) {
      rpc.Finished(status.code());
      ReplyError(status, res);
    };
    if (!rpc.admitted()) return fail(rpc.Refusal());
    absl::StatusOr<int64_t> ncodpers = ParseNcodpers(req.matches[1].str());
    if (!ncodpers.ok()) return fail(ncodpers.status());
    if (b.customers == nullptr)
      return fail(absl::UnimplementedError("GetCustomer is not served here"));
    absl::StatusOr<v1::Customer> customer = b.customers->Get(*ncodpers);
    if (!customer.ok()) return fail(customer.status());
    absl::StatusOr<std::string> json = ProtoToJson(*customer);
    if (!json.ok()) return fail(json.status());
    rpc.Finished(absl::StatusCode::kOk);
    ReplyJson(*std::move(json), res);
  });

  // GET /v1/models/MODEL/drift and /reloads.
  http->Get(
      R"(/v1/models/([^/:]+)/drift)",
      [&options, &b](const httplib::Request& req, httplib::Response& res) {
        if (req.matches[1] != options.model_name)
          return ReplyError(
              ModelNotServed(req.matches[1].str(), options.model_name), res);
        ReplyJson(DriftJson(b.metrics->Drift()).dump(), res);
      });
  http->Get(R"(/v1/models/([^/:]+)/reloads)", [&options, &b](
                                                  const httplib::Request& req,
                                                  httplib::Response& res) {
    if (req.matches[1] != options.model_name)
      return ReplyError(
          ModelNotServed(req.matches[1].str(), options.model_name), res);
    const nlohmann::json body = {
        {"capacity", b.reloads == nullptr ? 0 : b.reloads->capacity()},
        {"events", ReloadsJson(b.reloads == nullptr ? std::vector<ReloadEvent>{}
                                                    : b.reloads->Events())}};
    ReplyJson(body.dump(), res);
  });
}

}  // namespace recsys
