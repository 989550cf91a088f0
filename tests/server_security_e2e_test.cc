// Transport security and admin authentication, end to end (docs/security.md):
// a real server on 127.0.0.1 with certificates made at test time by
// scripts/make-certs.sh (openssl), the real client library; and the gRPC port
// that a second server cannot share.
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/metrics_testing.h"
#include "tests/server_e2e_util.h"

namespace recsys::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// Certificates of one test CA (see scripts/make-certs.sh), made once.
struct Certs {
  std::string dir;
  std::string ca() const { return dir + "/ca.pem"; }
  std::string server_cert() const { return dir + "/server.pem"; }
  std::string server_key() const { return dir + "/server.key"; }
  std::string client_cert() const { return dir + "/client.pem"; }
  std::string client_key() const { return dir + "/client.key"; }
};

const Certs& TestCerts() {
  static const Certs* const certs = [] {
    auto* c = new Certs{NewTempDir("recsys-certs")};
    const std::string command =
        absl::StrCat(RECSYS_SOURCE_DIR "/scripts/make-certs.sh ", c->dir,
                     " > /dev/null");
    EXPECT_EQ(std::system(command.c_str()), 0) << command;
    return c;
  }();
  return *certs;
}

HarnessOptions Tls() {
  HarnessOptions options;
  options.tls_cert_file = TestCerts().server_cert();
  options.tls_key_file = TestCerts().server_key();
  options.client_tls_ca_file = TestCerts().ca();
  return options;
}

HarnessOptions MutualTls() {
  HarnessOptions options = Tls();
  options.tls_client_ca_file = TestCerts().ca();
  options.client_tls_cert_file = TestCerts().client_cert();
  options.client_tls_key_file = TestCerts().client_key();
  return options;
}

std::unique_ptr<RecommenderClient> ClientWith(const ClientOptions& options) {
  absl::StatusOr<std::unique_ptr<RecommenderClient>> client =
      RecommenderClient::Create(options);
  EXPECT_TRUE(client.ok()) << client.status();
  return client.ok() ? *std::move(client) : nullptr;
}

std::string WriteFile(const std::string& text) {
  const std::string path = NewTempDir("recsys-token") + "/token";
  std::ofstream(path) << text;
  return path;
}

// The status code of a Recommend call for the first customer of the test
// month.
absl::StatusCode RecommendCode(RecommenderClient& client,
                               const ServerHarness& h) {
  const std::vector<RawRecord> customers = ReadRecords(h.fixture().test_csv, 1);
  EXPECT_EQ(customers.size(), 1u);
  if (customers.empty()) return absl::StatusCode::kUnknown;
  return client.Recommend(RequestFor(customers.front())).status().code();
}

// ---- The gRPC port is never shared (SO_REUSEPORT off) ----------------------

TEST(ServerPortTest, ASecondServerOnTheSamePortFailsToStartSayingSo) {
  std::unique_ptr<ServerHarness> h = ServerHarness::Start({});
  ASSERT_NE(h, nullptr);
  RecsysServerOptions options;
  options.store_dir = h->store_dir();
  options.model_name = h->fixture().model_name;
  options.port = h->server().port();
  absl::StatusOr<std::unique_ptr<RecsysServer>> second =
      RecsysServer::Create(options);
  ASSERT_TRUE(second.ok()) << second.status();
  const absl::Status started = (*second)->Start();
  EXPECT_EQ(started.code(), absl::StatusCode::kUnavailable) << started;
  EXPECT_THAT(started.message(),
              HasSubstr(absl::StrCat("port ", h->server().port(),
                                     " on 127.0.0.1 is already in use")));
  // The first one still answers.
  EXPECT_EQ(RecommendCode(h->client(), *h), absl::StatusCode::kOk);
}

// The recsys-server program with `args`: its exit status and what it wrote.
std::pair<int, std::string> RunServerProgram(const std::string& args) {
  const std::string log = NewTempDir("recsys-server-run") + "/out.txt";
  const std::string command = absl::StrCat(
      "timeout 60 " RECSYS_BIN_DIR "/recsys-server ", args, " > ", log, " 2>&1");
  const int status = std::system(command.c_str());
  std::ifstream in(log);
  std::stringstream text;
  text << in.rdbuf();
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, text.str()};
}

TEST(ServerPortTest, TheProgramSaysPlainlyThatTheMetricsPortIsInUse) {
  HarnessOptions options;
  options.real_metrics = true;
  std::unique_ptr<ServerHarness> h = ServerHarness::Start(options);
  ASSERT_NE(h, nullptr);
  const int taken = h->metrics()->port();
  const auto [code, text] = RunServerProgram(absl::StrCat(
      "--store ", h->store_dir(), " --port 0 --metrics-port ", taken));
  EXPECT_EQ(code, 1) << text;
  EXPECT_THAT(text, HasSubstr(absl::StrCat("metrics port ", taken,
                                           " on 127.0.0.1 is already in use")));
  EXPECT_THAT(text, Not(HasSubstr("CivetServer")));
}

TEST(ServerPortTest, TheProgramsHelpExplainsTheSecurityFlags) {
  const auto [code, text] = RunServerProgram("--help");
  EXPECT_EQ(code, 0);
  for (const char* flag :
       {"--tls-cert", "--tls-key", "--tls-client-ca", "--admin-token-file",
        "--admin-client-names", "--admin-insecure", "--metrics-host",
        "--metrics-threads"}) {
    EXPECT_THAT(text, HasSubstr(absl::StrCat(flag, " "))) << flag;
  }
}

// ---- TLS ---------------------------------------------------------------------

TEST(ServerTlsTest, ATlsClientIsServed) {
  std::unique_ptr<ServerHarness> h = ServerHarness::Start(Tls());
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(RecommendCode(h->client(), *h), absl::StatusCode::kOk);
  EXPECT_EQ(h->Health().value_or(grpc::health::v1::HealthCheckResponse::UNKNOWN),
            grpc::health::v1::HealthCheckResponse::SERVING);
}

TEST(ServerTlsTest, APlaintextClientIsNotServedByATlsServer) {
  std::unique_ptr<ServerHarness> h = ServerHarness::Start(Tls());
  ASSERT_NE(h, nullptr);
  ClientOptions plain;
  plain.server = h->server().address();
  plain.deadline = absl::Seconds(5);
  std::unique_ptr<RecommenderClient> client = ClientWith(plain);
  ASSERT_NE(client, nullptr);
  EXPECT_EQ(RecommendCode(*client, *h), absl::StatusCode::kUnavailable);
}

TEST(ServerTlsTest, AClientThatDoesNotTrustTheServersCaIsNotServed) {
  std::unique_ptr<ServerHarness> h = ServerHarness::Start(Tls());
  ASSERT_NE(h, nullptr);
  ClientOptions options = h->client_options();
  options.tls_ca_file = TestCerts().client_cert();  // not the CA
  options.deadline = absl::Seconds(5);
  std::unique_ptr<RecommenderClient> client = ClientWith(options);
  ASSERT_NE(client, nullptr);
  EXPECT_EQ(RecommendCode(*client, *h), absl::StatusCode::kUnavailable);
}

TEST(ServerTlsTest, MutualTlsRefusesAClientWithoutACertificate) {
  std::unique_ptr<ServerHarness> h = ServerHarness::Start(MutualTls());
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(RecommendCode(h->client(), *h), absl::StatusCode::kOk);
  ClientOptions options = h->client_options();
  options.tls_cert_file.clear();
  options.tls_key_file.clear();
  options.deadline = absl::Seconds(5);
  std::unique_ptr<RecommenderClient> client = ClientWith(options);
  ASSERT_NE(client, nullptr);
  EXPECT_EQ(RecommendCode(*client, *h), absl::StatusCode::kUnavailable);
}

TEST(ServerTlsTest, ACertificateWithoutItsKeyIsRefusedNamingTheFlags) {
  RecsysServerOptions options;
  options.store_dir = "/nonexistent";
  options.tls_cert_file = TestCerts().server_cert();
  absl::StatusOr<std::unique_ptr<RecsysServer>> server =
      RecsysServer::Create(options);
  EXPECT_EQ(server.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(server.status().message(), HasSubstr("--tls-key"));
}

TEST(ServerTlsTest, AMissingCertificateFileIsNamed) {
  RecsysServerOptions options;
  options.store_dir = "/nonexistent";
  options.tls_cert_file = "/nonexistent/server.pem";
  options.tls_key_file = TestCerts().server_key();
  absl::StatusOr<std::unique_ptr<RecsysServer>> server =
      RecsysServer::Create(options);
  EXPECT_EQ(server.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(server.status().message(),
              HasSubstr("--tls-cert: cannot read /nonexistent/server.pem"));
}

// ---- Admin authentication ----------------------------------------------------

class AdminAuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    HarnessOptions options;
    options.real_metrics = true;
    h_ = ServerHarness::Start(options);
    ASSERT_NE(h_, nullptr);
  }

  // A client of the server sending the token in `token_file` ("" = none).
  std::unique_ptr<RecommenderClient> ClientWithToken(
      const std::string& token_file) {
    ClientOptions options = h_->client_options();
    options.admin_token_file = token_file;
    return ClientWith(options);
  }

  double Failures(const std::string& reason) {
    absl::StatusOr<std::string> text =
        metrics_testing::HttpGet(h_->metrics()->port(), "/metrics");
    EXPECT_TRUE(text.ok()) << text.status();
    return metrics_testing::ParseExposition(text.value_or(""))
        .Value("recsys_admin_auth_failures_total", {{"reason", reason}})
        .value_or(-1);
  }

  std::unique_ptr<ServerHarness> h_;
};

TEST_F(AdminAuthTest, AnAdminCallWithoutTheTokenIsUnauthenticatedAndCounted) {
  EXPECT_EQ(Failures("no_credentials"), 0);
  std::unique_ptr<RecommenderClient> client = ClientWithToken("");
  ASSERT_NE(client, nullptr);
  const absl::Status reload = client->Reload().status();
  EXPECT_EQ(reload.code(), absl::StatusCode::kUnauthenticated) << reload;
  EXPECT_THAT(reload.message(), HasSubstr("--admin-token-file"));
  EXPECT_EQ(client->Pin("1").status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(client->Rollback().status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(client->Unpin().status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(client->ListVersions().status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(Failures("no_credentials"), 5);
}

TEST_F(AdminAuthTest, AWrongTokenIsUnauthenticatedAndCounted) {
  std::unique_ptr<RecommenderClient> client =
      ClientWithToken(WriteFile("not-the-token-0123456789"));
  ASSERT_NE(client, nullptr);
  EXPECT_EQ(client->Reload().status().code(),
            absl::StatusCode::kUnauthenticated);
  // A prefix of the right token is not the token.
  std::unique_ptr<RecommenderClient> prefix = ClientWithToken(
      WriteFile(std::string(kTestAdminToken).substr(0, 20)));
  ASSERT_NE(prefix, nullptr);
  EXPECT_EQ(prefix->Reload().status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(Failures("bad_token"), 2);
}

TEST_F(AdminAuthTest, TheRightTokenIsServed) {
  std::unique_ptr<RecommenderClient> client =
      ClientWithToken(h_->admin_token_file());
  ASSERT_NE(client, nullptr);
  absl::StatusOr<v1::ReloadResponse> reload = client->Reload();
  ASSERT_TRUE(reload.ok()) << reload.status();
  EXPECT_EQ(reload->serving_version(), "1");
  EXPECT_EQ(Failures("bad_token"), 0);
  EXPECT_EQ(Failures("no_credentials"), 0);
}

TEST_F(AdminAuthTest, RecommendNeedsNoToken) {
  std::unique_ptr<RecommenderClient> client = ClientWithToken("");
  ASSERT_NE(client, nullptr);
  EXPECT_EQ(RecommendCode(*client, *h_), absl::StatusCode::kOk);
  EXPECT_TRUE(client->GetModelInfo().ok());
}

TEST(AdminAuthDefaultTest, WithNoWayToAuthenticateAdminCallsAreRefused) {
  HarnessOptions options;
  options.admin_token = "";
  std::unique_ptr<ServerHarness> h = ServerHarness::Start(options);
  ASSERT_NE(h, nullptr);
  const absl::Status reload = h->client().Reload().status();
  EXPECT_EQ(reload.code(), absl::StatusCode::kPermissionDenied) << reload;
  EXPECT_THAT(reload.message(), HasSubstr("admin API is turned off"));
  EXPECT_THAT(reload.message(), HasSubstr("--admin-token-file"));
  EXPECT_EQ(RecommendCode(h->client(), *h), absl::StatusCode::kOk);
}

TEST(AdminAuthDefaultTest, AdminInsecureOpensTheAdminApi) {
  HarnessOptions options;
  options.admin_token = "";
  options.admin_insecure = true;
  std::unique_ptr<ServerHarness> h = ServerHarness::Start(options);
  ASSERT_NE(h, nullptr);
  EXPECT_TRUE(h->client().Reload().ok());
}

TEST(AdminAuthDefaultTest, AShortTokenFileIsRefusedAtStart) {
  RecsysServerOptions options;
  options.store_dir = "/nonexistent";
  options.admin_token_file = WriteFile("short\n");
  absl::StatusOr<std::unique_ptr<RecsysServer>> server =
      RecsysServer::Create(options);
  EXPECT_EQ(server.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(server.status().message(), HasSubstr("at least 16"));
}

TEST(AdminAuthMtlsTest, AnAllowedClientCertificateNeedsNoToken) {
  HarnessOptions options = MutualTls();
  options.admin_token = "";
  options.admin_client_names = {"recsys-admin"};
  std::unique_ptr<ServerHarness> h = ServerHarness::Start(options);
  ASSERT_NE(h, nullptr);
  absl::StatusOr<v1::ReloadResponse> reload = h->client().Reload();
  EXPECT_TRUE(reload.ok()) << reload.status();
}

TEST(AdminAuthMtlsTest, AClientCertificateNotListedIsPermissionDenied) {
  HarnessOptions options = MutualTls();
  options.admin_token = "";
  options.admin_client_names = {"someone-else"};
  std::unique_ptr<ServerHarness> h = ServerHarness::Start(options);
  ASSERT_NE(h, nullptr);
  const absl::Status reload = h->client().Reload().status();
  EXPECT_EQ(reload.code(), absl::StatusCode::kPermissionDenied) << reload;
  EXPECT_THAT(reload.message(), HasSubstr("recsys-admin"));
  EXPECT_EQ(RecommendCode(h->client(), *h), absl::StatusCode::kOk);
}

TEST(AdminAuthMtlsTest, ClientNamesWithoutMutualTlsAreRefusedAtStart) {
  RecsysServerOptions options;
  options.store_dir = "/nonexistent";
  options.admin_client_names = {"recsys-admin"};
  absl::StatusOr<std::unique_ptr<RecsysServer>> server =
      RecsysServer::Create(options);
  EXPECT_EQ(server.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(server.status().message(), HasSubstr("--tls-client-ca"));
}

}  // namespace
}  // namespace recsys::testing
