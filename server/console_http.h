// The web console's side of the HTTP gateway (server/http_gateway.h): the
// console's files, embedded in the binary, and the JSON routes it reads
// beside the gateway's own. Registered by HttpGateway on its httplib server,
// so the console has exactly the gateway's transport (HTTPS and client
// certificates when gRPC has them) and serves no admin method.
//
// Routes (MODEL is the served model's name):
//   GET /                       the console (server/console/index.html)
//   GET /console/FILE           its script and style sheet (app.js, style.css)
//   GET /console/config.json    {"model": MODEL}: the name the page calls
//   GET /v1/customers/N         Recommender.GetCustomer as JSON: the Customer
//                               message (server/customer_directory.h)
//   GET /v1/models/MODEL/drift  the serving version's drift window: PSI per
//        feature and of the top-1 product, the top-1 mix beside its training
//        shares, with the alert lines 0.1 and 0.25 (docs/monitoring.md)
//   GET /v1/models/MODEL/reloads  the last model-store events (loads,
//        failures, swaps, challenger changes; server/reload_history.h),
//        oldest first; a failure's reason is left out (file paths and parser
//        output are for the admin API, as in GET /v1/models/MODEL)
// Errors are the gateway's JSON errors with its HTTP status mapping;
// GetCustomer is counted in the grpc_server_* series with protocol="http"
// and takes a unary call slot, like the gateway's methods.
//
// Every answer carries X-Content-Type-Options: nosniff; the console's files
// also a Content-Security-Policy that allows only the server's own origin
// (default-src 'self'; no inline script or style, no framing) and
// Cache-Control: no-cache (docs/security.md, "Web console").
//
// The files are embedded at build time by cmake/embed_files.cmake, which
// writes them into a generated console_assets.cc as byte arrays.
#ifndef RECSYS_SERVER_CONSOLE_HTTP_H_
#define RECSYS_SERVER_CONSOLE_HTTP_H_

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "server/http_gateway.h"

namespace httplib {
class Server;
}  // namespace httplib

namespace recsys {

// The Content-Security-Policy of the console's files.
inline constexpr char kConsoleCsp[] =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' "
    "data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'";

// One embedded file: its name under server/console/ and its bytes.
struct EmbeddedFile {
  absl::string_view name;
  absl::string_view bytes;
};

// The console's files (generated console_assets.cc), sorted by name.
absl::Span<const EmbeddedFile> ConsoleFiles();

// The Content-Type of a console file by its extension ("text/html;
// charset=utf-8", "text/javascript; charset=utf-8", "text/css;
// charset=utf-8", else "application/octet-stream").
absl::string_view ConsoleContentType(absl::string_view name);

// Adds the routes above to `http`. `options` and `backend` are borrowed and
// must outlive the server (the gateway's members).
void AddConsoleRoutes(httplib::Server* http, const HttpGatewayOptions& options,
                      const HttpBackend& backend);

}  // namespace recsys

#endif  // RECSYS_SERVER_CONSOLE_HTTP_H_
