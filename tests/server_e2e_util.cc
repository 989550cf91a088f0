#include "tests/server_e2e_util.h"

#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/record_codec.h"
#include "common/raw_reader.h"
#include "gtest/gtest.h"

namespace recsys::testing {

std::unique_ptr<ServerHarness> ServerHarness::Start(
    const HarnessOptions& options) {
  std::unique_ptr<ServerHarness> h(new ServerHarness());
  absl::StatusOr<TrainedFixture> fixture = GetTrainedFixture();
  if (!fixture.ok()) {
    ADD_FAILURE() << "no trained fixture: " << fixture.status();
    return nullptr;
  }
  h->fixture_ = *fixture;
  h->store_dir_ = NewTempDir("recsys-e2e-store");
  if (options.install_bundle) {
    absl::StatusOr<std::string> dir = InstallBundle(
        h->fixture_.bundle_dir, h->store_dir_, h->fixture_.model_name, 1);
    if (!dir.ok()) {
      ADD_FAILURE() << dir.status();
      return nullptr;
    }
  }
  if (options.before_start) options.before_start(h->store_dir_);
  ServerMetrics* metrics = options.metrics;
  if (metrics == nullptr && options.real_metrics) {
    MetricsOptions metrics_options;
    metrics_options.port = 0;
    absl::StatusOr<std::unique_ptr<ServerMetrics>> real =
        ServerMetrics::Create(metrics_options);
    if (!real.ok()) {
      ADD_FAILURE() << real.status();
      return nullptr;
    }
    h->metrics_ = *std::move(real);
    metrics = h->metrics_.get();
  }
  RecsysServerOptions server_options;
  server_options.store_dir = h->store_dir_;
  server_options.model_name = h->fixture_.model_name;
  server_options.port = 0;
  server_options.workers = options.workers;
  server_options.stuck_after = options.stuck_after;
  server_options.poll_interval = options.poll_interval;
  server_options.grace_period = options.grace_period;
  server_options.max_rows_per_request = options.max_rows_per_request;
  server_options.max_message_bytes = options.max_message_bytes;
  server_options.metrics = metrics;
  server_options.load_timeout = options.load_timeout;
  server_options.loader = options.loader;
  if (!options.admin_token.empty()) {
    h->secrets_dir_ = NewTempDir("recsys-e2e-secrets");
    h->admin_token_file_ = h->secrets_dir_ + "/admin-token";
    std::ofstream(h->admin_token_file_) << options.admin_token << "\n";
    std::filesystem::permissions(h->admin_token_file_,
                                 std::filesystem::perms::owner_read |
                                     std::filesystem::perms::owner_write);
  }
  server_options.admin_token_file = h->admin_token_file_;
  server_options.tls_cert_file = options.tls_cert_file;
  server_options.tls_key_file = options.tls_key_file;
  server_options.tls_client_ca_file = options.tls_client_ca_file;
  server_options.admin_client_names = options.admin_client_names;
  server_options.admin_insecure = options.admin_insecure;
  if (options.adjust) options.adjust(&server_options);
  absl::StatusOr<std::unique_ptr<RecsysServer>> server =
      RecsysServer::Create(server_options);
  if (!server.ok()) {
    ADD_FAILURE() << server.status();
    return nullptr;
  }
  h->server_ = *std::move(server);
  if (absl::Status started = h->server_->Start(); !started.ok()) {
    ADD_FAILURE() << started;
    return nullptr;
  }
  ClientOptions client_options;
  client_options.server = h->server_->address();
  client_options.admin_token_file = h->admin_token_file_;
  client_options.tls_ca_file = options.client_tls_ca_file;
  client_options.tls_cert_file = options.client_tls_cert_file;
  client_options.tls_key_file = options.client_tls_key_file;
  absl::StatusOr<std::unique_ptr<RecommenderClient>> client =
      RecommenderClient::Create(client_options);
  if (!client.ok()) {
    ADD_FAILURE() << client.status();
    return nullptr;
  }
  h->client_ = *std::move(client);
  h->channel_ = h->client_->channel();
  return h;
}

ServerHarness::~ServerHarness() {
  client_.reset();
  if (server_ != nullptr) server_->Shutdown();
  server_.reset();
  std::error_code ec;
  if (!store_dir_.empty()) std::filesystem::remove_all(store_dir_, ec);
  if (!secrets_dir_.empty()) std::filesystem::remove_all(secrets_dir_, ec);
}

absl::StatusOr<HealthStatus> ServerHarness::Health(const std::string& service) {
  auto stub = grpc::health::v1::Health::NewStub(channel_);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(10));
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(service);
  grpc::health::v1::HealthCheckResponse response;
  grpc::Status status = stub->Check(&context, request, &response);
  if (!status.ok()) return FromGrpcStatus(status);
  return response.status();
}

bool WaitFor(const std::function<bool()>& done, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!done()) {
    if (absl::Now() >= deadline) return done();
    absl::SleepFor(absl::Milliseconds(5));
  }
  return true;
}

std::function<void(const std::string& store_dir)> InstallAltBundleAs(
    int64_t version) {
  return [version](const std::string& store) {
    absl::StatusOr<TrainedFixture> fixture = GetTrainedFixture();
    ASSERT_TRUE(fixture.ok()) << fixture.status();
    absl::StatusOr<std::string> installed =
        InstallBundle(fixture->alt_bundle_dir, store, "santander", version);
    ASSERT_TRUE(installed.ok()) << installed.status();
  };
}

std::vector<RawRecord> ReadRecords(
    const std::string& path, size_t limit,
    const std::function<bool(const RawRecord&)>& keep) {
  absl::StatusOr<std::vector<RawRecord>> records =
      ReadCleanRecords(path, limit, keep);
  if (!records.ok()) {
    ADD_FAILURE() << records.status();
    return {};
  }
  return *std::move(records);
}

v1::RecommendRequest RequestFor(const RawRecord& record, int k) {
  v1::RecommendRequest request;
  absl::StatusOr<v1::CustomerRecord> customer = EncodeCustomer(record);
  EXPECT_TRUE(customer.ok()) << customer.status();
  if (customer.ok()) *request.mutable_customer() = *std::move(customer);
  request.set_k(k);
  return request;
}

v1::ScoreRow RowFor(const RawRecord& record, uint64_t row_id) {
  v1::ScoreRow row;
  row.set_row_id(row_id);
  absl::StatusOr<v1::CustomerRecord> customer = EncodeCustomer(record);
  EXPECT_TRUE(customer.ok()) << customer.status();
  if (customer.ok()) *row.mutable_customer() = *std::move(customer);
  return row;
}

std::vector<v1::RowResult> StreamOutcome::Results() const {
  std::vector<v1::RowResult> out;
  for (const v1::RecommendStreamResponse& response : responses) {
    for (const v1::RowResult& result : response.results())
      out.push_back(result);
  }
  return out;
}

StreamOutcome RunStream(v1::Recommender::StubInterface* stub,
                        const std::vector<v1::RecommendStreamRequest>& messages,
                        absl::Duration deadline) {
  StreamOutcome outcome;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       absl::ToChronoNanoseconds(deadline));
  std::unique_ptr<grpc::ClientReaderWriterInterface<
      v1::RecommendStreamRequest, v1::RecommendStreamResponse>>
      stream = stub->RecommendStream(&context);
  std::thread writer([&] {
    for (const v1::RecommendStreamRequest& message : messages) {
      if (!stream->Write(message)) break;
    }
    stream->WritesDone();
  });
  v1::RecommendStreamResponse response;
  while (stream->Read(&response)) outcome.responses.push_back(response);
  writer.join();
  outcome.status = stream->Finish();
  return outcome;
}

}  // namespace recsys::testing
