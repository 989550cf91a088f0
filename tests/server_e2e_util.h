// Helpers for the prediction server's end-to-end tests: a real RecsysServer
// on 127.0.0.1:0 over a store holding a trained bundle, the real client
// library, grpc.health.v1 checks, streaming sessions, and bounded waits.
//
//   std::unique_ptr<ServerHarness> h = ServerHarness::Start({});
//   ASSERT_NE(h, nullptr);
//   absl::StatusOr<v1::RecommendResponse> top =
//       h->client().Recommend(RequestFor(h->test_customers()[0]));
//
// Tests never sleep a fixed time: they poll state with WaitFor (bounded).
#ifndef RECSYS_TESTS_SERVER_E2E_UTIL_H_
#define RECSYS_TESTS_SERVER_E2E_UTIL_H_

#include <grpcpp/channel.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "client/recommender_client.h"
#include "common/raw_record.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "proto/api.h"
#include "server/metrics.h"
#include "server/server.h"
#include "tests/trained_fixture.h"

namespace recsys::testing {

using HealthStatus = ::grpc::health::v1::HealthCheckResponse::ServingStatus;

// The admin token the harness gives its server and its client.
inline constexpr char kTestAdminToken[] = "test-admin-token-0123456789abcdef";

struct HarnessOptions {
  // Install the trained bundle as version 1 before starting. Default true.
  bool install_bundle = true;
  // Export real Prometheus metrics on a free port. Default false.
  bool real_metrics = false;
  int workers = 2;
  // RecsysServerOptions::stuck_after (liveness). Default 60 s.
  absl::Duration stuck_after = absl::Seconds(60);
  absl::Duration poll_interval = absl::Milliseconds(200);
  absl::Duration grace_period = absl::Seconds(5);
  int max_rows_per_request = 4096;
  int max_message_bytes = 16 << 20;
  // Borrowed; used instead of real or no metrics when set.
  ServerMetrics* metrics = nullptr;
  // Model store tests: runs on the store directory before the server starts
  // (e.g. to add versions); the server's load timeout and loader.
  std::function<void(const std::string& store_dir)> before_start;
  absl::Duration load_timeout = absl::Seconds(60);
  VersionLoader loader;
  // Admin token of the server and of the harness client (written to a file
  // in the store's temp dir); "" = the server accepts none and the client
  // sends none.
  std::string admin_token = kTestAdminToken;
  // Transport security of the server (RecsysServerOptions fields).
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string tls_client_ca_file;
  std::vector<std::string> admin_client_names;
  bool admin_insecure = false;
  // The harness client's TLS files (ClientOptions fields).
  std::string client_tls_ca_file;
  std::string client_tls_cert_file;
  std::string client_tls_key_file;
  // Changes any other server option before the server is created.
  std::function<void(RecsysServerOptions*)> adjust;
};

class ServerHarness {
 public:
  // Makes the store, starts the server and connects a client. Records a
  // gtest failure and returns null when anything fails.
  static std::unique_ptr<ServerHarness> Start(const HarnessOptions& options);
  ~ServerHarness();  // shuts the server down, removes the store

  RecsysServer& server() { return *server_; }
  RecommenderClient& client() { return *client_; }
  v1::Recommender::StubInterface* stub() { return client_->recommender_stub(); }
  const TrainedFixture& fixture() const { return fixture_; }
  const std::string& store_dir() const { return store_dir_; }
  // The file holding options.admin_token ("" when there is none).
  const std::string& admin_token_file() const { return admin_token_file_; }
  // ClientOptions for another client of this server: the harness client's
  // (its TLS files and admin token file included).
  ClientOptions client_options() const { return client_->options(); }
  ServerMetrics* metrics() { return metrics_.get(); }
  std::shared_ptr<grpc::Channel> channel() { return channel_; }

  // Health of `service` ("" = the server) through grpc.health.v1/Check.
  absl::StatusOr<HealthStatus> Health(const std::string& service = "");

 private:
  ServerHarness() = default;

  TrainedFixture fixture_;
  std::string store_dir_;
  std::string secrets_dir_;
  std::string admin_token_file_;
  std::unique_ptr<ServerMetrics> metrics_;
  std::unique_ptr<RecsysServer> server_;
  std::unique_ptr<RecommenderClient> client_;
  std::shared_ptr<grpc::Channel> channel_;
};

// Calls `done` every few milliseconds until it returns true or `timeout`
// passes; returns its last answer.
bool WaitFor(const std::function<bool()>& done,
             absl::Duration timeout = absl::Seconds(60));

// A HarnessOptions::before_start that installs the fixture's other model
// (TrainedFixture::alt_bundle_dir: same features, different scores) as
// `version` of "santander", beside the fixture's version 1.
std::function<void(const std::string& store_dir)> InstallAltBundleAs(
    int64_t version);

// ReadCleanRecords (trained_fixture.h), with a test failure instead of a
// status when the file cannot be read.
std::vector<RawRecord> ReadRecords(
    const std::string& path, size_t limit,
    const std::function<bool(const RawRecord&)>& keep = nullptr);

// A RecommendRequest for `record` through the client's codec.
v1::RecommendRequest RequestFor(const RawRecord& record, int k = 0);
// A ScoreRow for `record` with `row_id`.
v1::ScoreRow RowFor(const RawRecord& record, uint64_t row_id);

struct StreamOutcome {
  std::vector<v1::RecommendStreamResponse> responses;
  grpc::Status status;
  // Every RowResult received, in arrival order.
  std::vector<v1::RowResult> Results() const;
};

// Opens RecommendStream, sends `messages` (from a writer thread while this
// thread reads), half-closes, and reads until the server ends the stream.
StreamOutcome RunStream(v1::Recommender::StubInterface* stub,
                        const std::vector<v1::RecommendStreamRequest>& messages,
                        absl::Duration deadline = absl::Seconds(60));

}  // namespace recsys::testing

#endif  // RECSYS_TESTS_SERVER_E2E_UTIL_H_
