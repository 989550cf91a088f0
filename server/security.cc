#include "server/security.h"

#include <grpcpp/security/auth_context.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"

namespace recsys {
namespace {

constexpr char kHowToEnable[] =
    "start recsys-server with --admin-token-file FILE and call with `recsys "
    "COMMAND --admin-token-file FILE`, or use mutual TLS with "
    "--tls-client-ca and --admin-client-names (docs/security.md)";

// The whole of `path`, read for `flag`.
absl::StatusOr<std::string> ReadSmallFile(absl::string_view flag,
                                          const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    const int error = errno;
    const std::string why = absl::StrCat(flag, ": cannot read ", path, ": ",
                                         std::strerror(error));
    if (error == ENOENT) return absl::NotFoundError(why);
    if (error == EACCES || error == EPERM)
      return absl::PermissionDeniedError(why);
    return absl::FailedPreconditionError(why);
  }
  std::string text;
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof(buf), file)) > 0;) {
    text.append(buf, n);
    if (text.size() > (1 << 20)) break;  // no PEM or token is this big
  }
  const bool failed = std::ferror(file) != 0;
  std::fclose(file);
  if (failed) {
    return absl::FailedPreconditionError(
        absl::StrCat(flag, ": error reading ", path));
  }
  if (text.size() > (1 << 20)) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, ": ", path, " is larger than 1 MiB"));
  }
  return text;
}

absl::StatusOr<std::string> ReadPem(absl::string_view flag,
                                    const std::string& path) {
  if (path.empty()) return std::string();
  absl::StatusOr<std::string> text = ReadSmallFile(flag, path);
  if (!text.ok()) return text.status();
  if (!absl::StrContains(*text, "-----BEGIN ")) {
    return absl::InvalidArgumentError(absl::StrCat(
        flag, ": ", path, " is not a PEM file (no \"-----BEGIN\" line)"));
  }
  return text;
}

}  // namespace

absl::StatusOr<TlsFiles> ReadTlsFiles(const std::string& cert_file,
                                      const std::string& key_file,
                                      const std::string& client_ca_file) {
  if (cert_file.empty() != key_file.empty()) {
    return absl::InvalidArgumentError(
        "--tls-cert and --tls-key go together: give both or neither");
  }
  if (!client_ca_file.empty() && cert_file.empty()) {
    return absl::InvalidArgumentError(
        "--tls-client-ca needs --tls-cert and --tls-key (mutual TLS is TLS "
        "with client certificates)");
  }
  TlsFiles tls;
  absl::StatusOr<std::string> cert = ReadPem("--tls-cert", cert_file);
  if (!cert.ok()) return cert.status();
  absl::StatusOr<std::string> key = ReadPem("--tls-key", key_file);
  if (!key.ok()) return key.status();
  absl::StatusOr<std::string> ca = ReadPem("--tls-client-ca", client_ca_file);
  if (!ca.ok()) return ca.status();
  tls.cert_pem = *std::move(cert);
  tls.key_pem = *std::move(key);
  tls.client_ca_pem = *std::move(ca);
  return tls;
}

std::shared_ptr<grpc::ServerCredentials> ServerCredentialsFor(
    const TlsFiles& tls) {
  if (!tls.enabled()) return grpc::InsecureServerCredentials();
  grpc::SslServerCredentialsOptions ssl(
      tls.client_ca_pem.empty()
          ? GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE
          : GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  ssl.pem_root_certs = tls.client_ca_pem;
  ssl.pem_key_cert_pairs.push_back({tls.key_pem, tls.cert_pem});
  return grpc::SslServerCredentials(ssl);
}

absl::StatusOr<std::string> ReadAdminTokenFile(const std::string& path,
                                               std::string* warning) {
  absl::StatusOr<std::string> text = ReadSmallFile("--admin-token-file", path);
  if (!text.ok()) return text.status();
  const std::string token(absl::StripTrailingAsciiWhitespace(*text));
  if (token.size() < 16) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--admin-token-file: the token in ", path, " has ", token.size(),
        " characters; use at least 16 (e.g. `openssl rand -hex 32`)"));
  }
  for (const char c : token) {
    if (absl::ascii_isspace(static_cast<unsigned char>(c)) ||
        absl::ascii_iscntrl(static_cast<unsigned char>(c))) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--admin-token-file: the token in ", path,
          " holds white space or control characters; it must be one word"));
    }
  }
  struct stat st {};
  if (warning != nullptr && stat(path.c_str(), &st) == 0 &&
      (st.st_mode & S_IROTH) != 0) {
    *warning = absl::StrCat("WARNING: the admin token file ", path,
                            " is readable by every user of this machine; "
                            "chmod 600 (or 640 for a group) it");
  }
  return token;
}

bool ConstantTimeEquals(absl::string_view a, absl::string_view b) {
  // Every byte of `a` is compared (against b, cycled) whatever the contents,
  // so the time tells the length of the secret at most.
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  if (b.empty()) return a.empty();
  for (size_t i = 0; i < a.size(); ++i) {
    diff |= static_cast<unsigned char>(a[i]) ^
            static_cast<unsigned char>(b[i % b.size()]);
  }
  return diff == 0;
}

AdminAuth::AdminAuth(AdminAuthOptions options, ServerMetrics* metrics)
    : options_(std::move(options)), metrics_(metrics) {}

absl::Status AdminAuth::Fail(absl::string_view reason,
                             absl::Status status) const {
  if (metrics_ != nullptr) metrics_->AdminAuthFailure(reason);
  return status;
}

absl::Status AdminAuth::Check(const grpc::ServerContextBase& context) const {
  if (options_.insecure) return absl::OkStatus();
  if (options_.token.empty() && options_.client_names.empty()) {
    return Fail("disabled", absl::PermissionDeniedError(absl::StrCat(
                                "the admin API is turned off on this server: ",
                                kHowToEnable)));
  }
  // A token, when the server takes tokens and one was sent, decides.
  const auto& metadata = context.client_metadata();
  const auto header = metadata.find("authorization");
  if (header != metadata.end() && !options_.token.empty()) {
    const absl::string_view value(header->second.data(),
                                  header->second.size());
    absl::string_view token = value;
    if (absl::ConsumePrefix(&token, "Bearer ") &&
        ConstantTimeEquals(token, options_.token)) {
      return absl::OkStatus();
    }
    return Fail("bad_token",
                absl::UnauthenticatedError(
                    "admin token not accepted (expected \"authorization: "
                    "Bearer <the token in the server's --admin-token-file>\")"));
  }
  // Else the names of a verified client certificate.
  std::vector<std::string> names;
  std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  if (!options_.client_names.empty() && auth != nullptr &&
      auth->IsPeerAuthenticated()) {
    for (const char* property :
         {"x509_common_name", "x509_subject_alternative_name"}) {
      for (const grpc::string_ref& name : auth->FindPropertyValues(property))
        names.emplace_back(name.data(), name.size());
    }
  }
  if (names.empty()) {
    return Fail("no_credentials",
                absl::UnauthenticatedError(absl::StrCat(
                    "admin calls need credentials: ", kHowToEnable)));
  }
  for (const std::string& allowed : options_.client_names) {
    for (const std::string& name : names) {
      if (name == allowed) return absl::OkStatus();
    }
  }
  return Fail("client_not_allowed",
              absl::PermissionDeniedError(absl::StrCat(
                  "client certificate (", absl::StrJoin(names, ", "),
                  ") is not allowed to call ModelAdmin: add one of its names "
                  "to the server's --admin-client-names, or send the admin "
                  "token")));
}

std::string AdminAuth::Describe() const {
  if (options_.insecure) {
    return "WARNING: --admin-insecure: ANYONE who reaches the gRPC port may "
           "reload, pin, unpin and roll back models (for local demos only)";
  }
  std::vector<std::string> ways;
  if (!options_.token.empty()) ways.push_back("the bearer token");
  if (!options_.client_names.empty()) {
    ways.push_back(absl::StrCat("client certificates named ",
                                absl::StrJoin(options_.client_names, ",")));
  }
  if (ways.empty()) {
    return "admin API turned off (no --admin-token-file or "
           "--admin-client-names): ModelAdmin calls are refused";
  }
  return absl::StrCat("admin API: callers authenticate with ",
                      absl::StrJoin(ways, " or "));
}

}  // namespace recsys
