// `recsys info`, `versions`, `reload`, `pin`, `unpin`, `rollback`,
// `challenger`, `health`.
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "client/cli/commands.h"

namespace recsys {
namespace {

std::string FormatTimestamp(const google::protobuf::Timestamp& t) {
  if (t.seconds() == 0 && t.nanos() == 0) return "-";
  const absl::Time time =
      absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
  return absl::FormatTime("%Y-%m-%d %H:%M:%S UTC", time, absl::UTCTimeZone());
}

const char* StateName(v1::VersionState state) {
  switch (state) {
    case v1::VERSION_STATE_LOADING:
      return "LOADING";
    case v1::VERSION_STATE_READY:
      return "READY";
    case v1::VERSION_STATE_SERVING:
      return "SERVING";
    case v1::VERSION_STATE_FAILED:
      return "FAILED";
    case v1::VERSION_STATE_UNLOADED:
      return "UNLOADED";
    case v1::VERSION_STATE_CHALLENGER:
      return "CHALLENGER";
    default:
      return "UNKNOWN";
  }
}

const char* PolicyName(v1::VersionPolicy policy) {
  switch (policy) {
    case v1::VERSION_POLICY_LATEST:
      return "latest";
    case v1::VERSION_POLICY_PINNED:
      return "pinned";
    default:
      return "unknown";
  }
}

void PrintVersion(const v1::VersionInfo& v, std::ostream& out) {
  out << absl::StrFormat("  %-24s %-10s %-6s %s", v.version(),
                         StateName(v.state()), v.pinned() ? "pinned" : "",
                         FormatTimestamp(v.loaded_time()));
  if (!v.reason().empty()) out << "  reason: " << v.reason();
  out << "\n";
}

// Runs `call` on a new client and prints its response with `print`; returns
// the exit status (errors are printed on `err`).
template <typename Response, typename CallFn, typename PrintFn>
int Call(const char* command, const ClientOptions& options, std::ostream& err,
         CallFn call, PrintFn print) {
  absl::StatusOr<std::unique_ptr<RecommenderClient>> client =
      RecommenderClient::Create(options);
  if (!client.ok()) {
    err << "recsys " << command << ": " << client.status().message() << "\n";
    return kExitUsage;
  }
  absl::StatusOr<Response> response = call(client->get());
  if (!response.ok()) {
    err << "recsys " << command << ": " << response.status() << "\n";
    return ExitStatusForCallError(response.status());
  }
  print(*response);
  return kExitOk;
}

void PrintServingChange(const char* what, const v1::ServingChange& change,
                        std::ostream& out) {
  out << what << ": serving version " << change.serving_version() << " (was "
      << (change.previous_serving_version().empty()
              ? "none"
              : change.previous_serving_version())
      << "), policy " << PolicyName(change.policy()) << "\n";
}

}  // namespace

int RunInfo(const ClientOptions& client, const std::string& version,
            std::ostream& out, std::ostream& err) {
  return Call<v1::ModelInfo>(
      "info", client, err,
      [&](RecommenderClient* c) { return c->GetModelInfo(version); },
      [&](const v1::ModelInfo& m) {
        const v1::ValidationMetrics& metrics = m.validation_metrics();
        out << "model             " << m.name() << "\n"
            << "version           " << m.version() << "\n"
            << "feature spec hash " << m.feature_spec_hash() << "\n"
            << "features          " << m.num_features() << "\n"
            << "training months   " << absl::StrJoin(m.training_months(), " ")
            << "\n"
            << "validation month  " << m.validation_month() << "\n"
            << absl::StrFormat(
                   "MAP@7             model %.5f, popularity %.5f, ceiling "
                   "%.5f\n",
                   metrics.model_map_at_7(), metrics.popularity_map_at_7(),
                   metrics.ceiling_map_at_7())
            << "history month     " << m.history_month() << "\n"
            << "created           " << FormatTimestamp(m.created_time()) << "\n"
            << "loaded            " << FormatTimestamp(m.load_time()) << "\n";
        if (!m.serving_history_month().empty()) {
          // The product history scoring uses now: the bundle's own, or a
          // newer one published to the store (docs/monthly.md).
          out << "serving history   " << m.serving_history_month() << " (from "
              << m.serving_history_source() << ")\n";
        }
        if (!m.history_load_error().empty()) {
          out << "history error     " << m.history_load_error() << "\n";
        }
        if (!m.challenger_version().empty()) {
          out << "challenger        version " << m.challenger_version()
              << " for " << m.challenger_share() << " of the customers\n";
        }
      });
}

int RunVersions(const ClientOptions& client, std::ostream& out,
                std::ostream& err) {
  return Call<v1::ListVersionsResponse>(
      "versions", client, err,
      [](RecommenderClient* c) { return c->ListVersions(); },
      [&](const v1::ListVersionsResponse& r) {
        out << "model " << r.model_name() << ", serving "
            << (r.serving_version().empty() ? "nothing" : r.serving_version())
            << ", policy " << PolicyName(r.policy());
        if (!r.challenger_version().empty()) {
          out << ", challenger " << r.challenger_version() << " for "
              << r.challenger_share() << " of the customers";
        }
        out << "\n";
        out << absl::StrFormat("  %-24s %-10s %-6s %s\n", "version", "state", "",
                               "loaded");
        for (const v1::VersionInfo& v : r.versions()) PrintVersion(v, out);
      });
}

int RunReload(const ClientOptions& client, std::ostream& out,
              std::ostream& err) {
  return Call<v1::ReloadResponse>(
      "reload", client, err, [](RecommenderClient* c) { return c->Reload(); },
      [&](const v1::ReloadResponse& r) {
        out << "reload: serving version " << r.serving_version();
        if (r.serving_version() != r.previous_serving_version()) {
          out << " (was " << r.previous_serving_version() << ")";
        }
        out << "\n";
        if (r.changed().empty()) out << "  nothing changed\n";
        for (const v1::VersionInfo& v : r.changed()) PrintVersion(v, out);
      });
}

int RunPin(const ClientOptions& client, const std::string& version,
           std::ostream& out, std::ostream& err) {
  if (version.empty()) {
    err << "recsys pin: --version is required (see recsys versions)\n";
    return kExitUsage;
  }
  return Call<v1::ServingChange>(
      "pin", client, err, [&](RecommenderClient* c) { return c->Pin(version); },
      [&](const v1::ServingChange& r) {
        PrintServingChange("pinned", r, out);
      });
}

int RunChallenger(const ClientOptions& client, const std::string& action,
                  const std::string& version, double share, std::ostream& out,
                  std::ostream& err) {
  auto print = [&](const v1::ChallengerChange& r) {
    out << "challenger: "
        << (r.challenger_version().empty()
                ? std::string("none")
                : absl::StrCat("version ", r.challenger_version(), " for ",
                               r.challenger_share(), " of the customers"))
        << " (was "
        << (r.previous_challenger_version().empty()
                ? "none"
                : r.previous_challenger_version())
        << "); champion " << r.serving_version() << "\n";
  };
  if (action == "clear") {
    if (!version.empty()) {
      err << "recsys challenger clear: takes no VERSION\n";
      return kExitUsage;
    }
    return Call<v1::ChallengerChange>(
        "challenger clear", client, err,
        [](RecommenderClient* c) { return c->ClearChallenger(); }, print);
  }
  if (action != "set") {
    err << "recsys challenger: expected `set VERSION --share S` or `clear`, "
           "got \""
        << action << "\"\n";
    return kExitUsage;
  }
  if (version.empty()) {
    err << "recsys challenger set: VERSION is required (see recsys "
           "versions)\n";
    return kExitUsage;
  }
  if (!(share > 0 && share <= 1)) {
    err << "recsys challenger set: --share must be in (0, 1], got " << share
        << "\n";
    return kExitUsage;
  }
  return Call<v1::ChallengerChange>(
      "challenger set", client, err,
      [&](RecommenderClient* c) { return c->SetChallenger(version, share); },
      print);
}

int RunUnpin(const ClientOptions& client, std::ostream& out,
             std::ostream& err) {
  return Call<v1::ServingChange>(
      "unpin", client, err, [](RecommenderClient* c) { return c->Unpin(); },
      [&](const v1::ServingChange& r) {
        PrintServingChange("unpinned", r, out);
      });
}

int RunRollback(const ClientOptions& client, std::ostream& out,
                std::ostream& err) {
  return Call<v1::ServingChange>(
      "rollback", client, err,
      [](RecommenderClient* c) { return c->Rollback(); },
      [&](const v1::ServingChange& r) {
        PrintServingChange("rolled back", r, out);
      });
}

int RunHealth(const ClientOptions& client, const std::string& service,
              std::ostream& out, std::ostream& err) {
  using grpc::health::v1::HealthCheckResponse;
  absl::StatusOr<std::unique_ptr<RecommenderClient>> c =
      RecommenderClient::Create(client);
  if (!c.ok()) {
    err << "recsys health: " << c.status().message() << "\n";
    return kExitFailed;
  }
  absl::StatusOr<HealthCheckResponse::ServingStatus> status =
      (*c)->CheckHealth(service);
  const std::string name = service.empty() ? "\"\" (readiness)"
                                           : absl::StrCat("\"", service, "\"");
  if (!status.ok()) {
    err << "recsys health: " << client.server << " service " << name << ": "
        << status.status() << "\n";
    return kExitFailed;
  }
  out << client.server << " service " << name << ": "
      << HealthCheckResponse::ServingStatus_Name(*status) << "\n";
  return *status == HealthCheckResponse::SERVING ? kExitOk : kExitFailed;
}

}  // namespace recsys
