// Transport security and admin authentication of recsys-server
// (docs/security.md has the threat model and how to turn each on).
//
//  - TLS: ServerCredentialsFor() turns the PEM files of the server's
//    certificate, key and (optional) client CA into gRPC credentials;
//    with a client CA every client must present a certificate it signed
//    (mutual TLS).
//  - Admin authentication: AdminAuth decides whether one ModelAdmin call may
//    run: a bearer token ("authorization: Bearer <token>", compared in
//    constant time with the token of --admin-token-file), or the name (CN or
//    a DNS/IP SAN) of a mutual-TLS client certificate listed in
//    --admin-client-names. With neither configured every admin call is
//    refused (secure by default) unless --admin-insecure opens them.
//
//   RECSYS_ASSIGN_OR_RETURN(TlsFiles tls, ReadTlsFiles(cert, key, ca));
//   builder.AddListeningPort(addr, ServerCredentialsFor(tls), &port);
//   AdminAuth auth({.token = token}, metrics);
//   if (absl::Status s = auth.Check(*context); !s.ok()) return s;
//
// Thread-safe: AdminAuth is immutable after construction.
#ifndef RECSYS_SERVER_SECURITY_H_
#define RECSYS_SERVER_SECURITY_H_

#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_context.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/metrics.h"

namespace recsys {

// The contents of the server's TLS files; all empty = plaintext.
struct TlsFiles {
  std::string cert_pem;       // certificate chain of the server
  std::string key_pem;        // its private key
  std::string client_ca_pem;  // set: mutual TLS, clients must present a cert
  bool enabled() const { return !cert_pem.empty(); }
};

// Reads the PEM files named by --tls-cert, --tls-key and --tls-client-ca
// (each may be empty). INVALID_ARGUMENT when only one of cert and key is
// given, the client CA comes without them, or a file holds no PEM block;
// NOT_FOUND / PERMISSION_DENIED (naming flag and path) when one cannot be
// read.
absl::StatusOr<TlsFiles> ReadTlsFiles(const std::string& cert_file,
                                      const std::string& key_file,
                                      const std::string& client_ca_file);

// Insecure credentials for !tls.enabled(), else SSL credentials; with a
// client CA the client's certificate is requested, required and verified.
std::shared_ptr<grpc::ServerCredentials> ServerCredentialsFor(
    const TlsFiles& tls);

// The admin token in `path` (--admin-token-file): the file's text without
// trailing white space. NOT_FOUND / PERMISSION_DENIED naming the path when it
// cannot be read; INVALID_ARGUMENT when the token is shorter than 16
// characters or holds white space or control characters. `*warning` (if not
// null) is set to a sentence to log when other users may read the file.
absl::StatusOr<std::string> ReadAdminTokenFile(const std::string& path,
                                               std::string* warning = nullptr);

// True when a and b are equal, taking a time that depends on their lengths
// only (not on where they first differ).
bool ConstantTimeEquals(absl::string_view a, absl::string_view b);

struct AdminAuthOptions {
  // The bearer token admin calls must carry; empty: tokens are not accepted.
  // Default empty.
  std::string token;
  // Names of mutual-TLS client certificates (CN, DNS or IP SAN) allowed to
  // call ModelAdmin. Default empty.
  std::vector<std::string> client_names;
  // Everyone may call ModelAdmin (local demos). Default false.
  bool insecure = false;
};

class AdminAuth {
 public:
  // `metrics` is borrowed (may be null) and must outlive this.
  AdminAuth(AdminAuthOptions options, ServerMetrics* metrics);

  // OK when the call may run. Otherwise (and counted with its reason in
  // recsys_admin_auth_failures_total):
  //   UNAUTHENTICATED   no credentials ("no_credentials") or a token that is
  //                     malformed or wrong ("bad_token");
  //   PERMISSION_DENIED a client certificate whose names are not allowed
  //                     ("client_not_allowed"), or no way to authenticate is
  //                     configured at all ("disabled");
  // each with a message saying how to get in.
  absl::Status Check(const grpc::ServerContextBase& context) const;

  // One line for the log saying how admin calls are protected.
  std::string Describe() const;

 private:
  absl::Status Fail(absl::string_view reason, absl::Status status) const;

  const AdminAuthOptions options_;
  ServerMetrics* const metrics_;
};

}  // namespace recsys

#endif  // RECSYS_SERVER_SECURITY_H_
