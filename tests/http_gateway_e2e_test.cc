// The HTTP/JSON API (server/http_gateway.h) against a real server with a
// trained bundle, beside gRPC on the same server: the same customer gets
// byte-identical answers over both; the HTTP error cases mirror the gRPC
// ones (same codes, same texts) with the gRPC-HTTP status mapping; the probes;
// the protocol label in the metrics; HTTPS with the gRPC port's certificate.
#include <google/protobuf/util/json_util.h>
#include <httplib.h>

#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "server/metrics_testing.h"
#include "tests/http_testing.h"
#include "tests/server_e2e_util.h"

namespace recsys::testing {
namespace {

using ::testing::HasSubstr;

std::string Json(const google::protobuf::Message& message) {
  std::string out;
  EXPECT_TRUE(google::protobuf::util::MessageToJsonString(message, &out).ok());
  return out;
}

HarnessOptions WithHttp(HarnessOptions options = {}) {
  auto adjust = options.adjust;
  options.adjust = [adjust](RecsysServerOptions* server) {
    if (adjust) adjust(server);
    server->http_port = 0;
  };
  return options;
}

class HttpGatewayTest : public ::testing::Test {
 protected:
  void Start(HarnessOptions options = {}) {
    h_ = ServerHarness::Start(WithHttp(std::move(options)));
    ASSERT_NE(h_, nullptr);
    ASSERT_GT(h_->server().http_port(), 0);
    http_ = std::make_unique<httplib::Client>("127.0.0.1",
                                              h_->server().http_port());
    records_ = ReadRecords(h_->fixture().test_csv, 20);
    ASSERT_FALSE(records_.empty());
  }

  HttpAnswer Post(const std::string& path, const std::string& body,
                  const httplib::Headers& headers = {}) {
    return Answer(http_->Post(path.c_str(), headers, body, "application/json"));
  }
  HttpAnswer Get(const std::string& path) {
    return Answer(http_->Get(path.c_str()));
  }
  HttpAnswer Recommend(const std::string& body,
                       const httplib::Headers& headers = {}) {
    return Post("/v1/models/santander:recommend", body, headers);
  }

  // The gRPC status a raw Recommend call gets.
  grpc::Status GrpcRecommend(const v1::RecommendRequest& request,
                             v1::RecommendResponse* response) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(30));
    return h_->stub()->Recommend(&context, request, response);
  }

  // Expects the HTTP answer to be the gRPC error `code` with `message`.
  static void ExpectError(const HttpAnswer& answer, int http_status,
                          grpc::StatusCode code, const std::string& message) {
    EXPECT_EQ(answer.status, http_status) << answer.body;
    ASSERT_TRUE(answer.json.is_object()) << answer.body;
    EXPECT_EQ(answer.json["code"], static_cast<int>(code)) << answer.body;
    EXPECT_THAT(answer.json["message"].get<std::string>(), HasSubstr(message));
    EXPECT_TRUE(answer.json["details"].is_array()) << answer.body;
  }

  std::unique_ptr<ServerHarness> h_;
  std::unique_ptr<httplib::Client> http_;
  std::vector<RawRecord> records_;
};

TEST_F(HttpGatewayTest, SameCustomerGetsByteIdenticalAnswersOverGrpcAndHttp) {
  Start();
  int compared = 0;
  for (const RawRecord& record : records_) {
    for (int k : {0, 3, 24}) {
      const v1::RecommendRequest request = RequestFor(record, k);
      v1::RecommendResponse over_grpc;
      ASSERT_TRUE(GrpcRecommend(request, &over_grpc).ok());
      const HttpAnswer answer = Recommend(Json(request));
      ASSERT_EQ(answer.status, 200) << answer.body;
      v1::RecommendResponse over_http;
      ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(answer.body,
                                                              &over_http)
                      .ok())
          << answer.body;
      ASSERT_FALSE(over_http.recommendations().empty());
      EXPECT_EQ(over_http.SerializeAsString(), over_grpc.SerializeAsString())
          << "HTTP: " << over_http.ShortDebugString()
          << "\ngRPC: " << over_grpc.ShortDebugString();
      ++compared;
    }
  }
  EXPECT_EQ(compared, 3 * static_cast<int>(records_.size()));
}

TEST_F(HttpGatewayTest, AnswersPrintEveryFieldWithProtoJsonNames) {
  Start();
  const HttpAnswer answer = Recommend(Json(RequestFor(records_[0])));
  ASSERT_EQ(answer.status, 200) << answer.body;
  EXPECT_EQ(answer.json["modelName"], "santander");
  EXPECT_EQ(answer.json["modelVersion"], "1");
  EXPECT_TRUE(answer.json.contains("historyFound")) << answer.body;
  EXPECT_EQ(answer.json["recommendations"].size(), 7u) << answer.body;
  EXPECT_EQ(answer.json["recommendations"][0]["rank"], 1);
}

TEST_F(HttpGatewayTest, ProtoFieldNamesAreAcceptedToo) {
  Start();
  const HttpAnswer answer =
      Recommend(R"({"customer": {"ncodpers": 15889, "fecha_dato": "2016-06-28",
                    "age": 40}, "k": 2})");
  ASSERT_EQ(answer.status, 200) << answer.body;
  EXPECT_EQ(answer.json["fechaDato"], "2016-06-28");
  EXPECT_EQ(answer.json["recommendations"].size(), 2u);
}

TEST_F(HttpGatewayTest, AVersionInThePathIsAnsweredByThatVersion) {
  Start();
  const HttpAnswer answer = Post("/v1/models/santander/versions/1:recommend",
                                 Json(RequestFor(records_[0])));
  ASSERT_EQ(answer.status, 200) << answer.body;
  EXPECT_EQ(answer.json["modelVersion"], "1");
}

TEST_F(HttpGatewayTest, AVersionThatIsNotLoadedIs404NamingIt) {
  Start();
  ExpectError(Post("/v1/models/santander/versions/7:recommend",
                   Json(RequestFor(records_[0]))),
              404, grpc::StatusCode::NOT_FOUND,
              "model version 7 of 'santander' is not loaded (loaded: 1)");
  ExpectError(Post("/v1/models/santander/versions/challenger:recommend",
                   Json(RequestFor(records_[0]))),
              404, grpc::StatusCode::NOT_FOUND, "there is no challenger");
  ExpectError(Post("/v1/models/santander/versions/newest:recommend",
                   Json(RequestFor(records_[0]))),
              400, grpc::StatusCode::INVALID_ARGUMENT,
              "the version in the path (.../versions/V:recommend): must be a "
              "version number");
}

TEST_F(HttpGatewayTest, EachLoadedVersionAnswersOnItsPath) {
  HarnessOptions options;
  options.before_start = InstallAltBundleAs(2);
  Start(options);
  ASSERT_TRUE(h_->client().Pin("1").ok());  // 1 serves, 2 stays in memory
  const HttpAnswer model = Get("/v1/models/santander");
  ASSERT_EQ(model.status, 200) << model.body;
  EXPECT_EQ(model.json["loadedVersions"], nlohmann::json({"1", "2"}));

  const std::string body = Json(RequestFor(records_[0]));
  std::map<std::string, HttpAnswer> by_path;
  for (const std::string version : {"1", "2", "latest", "serving"}) {
    by_path[version] = Post(
        absl::StrCat("/v1/models/santander/versions/", version, ":recommend"),
        body);
    ASSERT_EQ(by_path[version].status, 200) << by_path[version].body;
  }
  EXPECT_EQ(by_path["1"].json["modelVersion"], "1");
  EXPECT_EQ(by_path["2"].json["modelVersion"], "2");
  EXPECT_EQ(by_path["latest"].json["modelVersion"], "2");
  EXPECT_EQ(by_path["serving"].json["modelVersion"], "1");
  EXPECT_EQ(by_path["2"].json["recommendations"],
            by_path["latest"].json["recommendations"]);
  // The same as gRPC naming the version in the body.
  for (const std::string version : {"1", "2"}) {
    v1::RecommendRequest request = RequestFor(records_[0]);
    request.set_model_version(version);
    v1::RecommendResponse over_grpc;
    ASSERT_TRUE(GrpcRecommend(request, &over_grpc).ok());
    v1::RecommendResponse over_http;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(
                    by_path[version].body, &over_http)
                    .ok());
    EXPECT_EQ(over_http.SerializeAsString(), over_grpc.SerializeAsString())
        << version;
  }

  // A body naming a version: the same one as the path, or none.
  v1::RecommendRequest same = RequestFor(records_[0]);
  same.set_model_version("2");
  const HttpAnswer agreed =
      Post("/v1/models/santander/versions/2:recommend", Json(same));
  ASSERT_EQ(agreed.status, 200) << agreed.body;
  EXPECT_EQ(agreed.json["modelVersion"], "2");
  ExpectError(Post("/v1/models/santander/versions/1:recommend", Json(same)),
              400, grpc::StatusCode::INVALID_ARGUMENT,
              "model_version: the body names \"2\" but the path names "
              "version \"1\"");
  const HttpAnswer in_body = Recommend(Json(same));
  ASSERT_EQ(in_body.status, 200) << in_body.body;
  EXPECT_EQ(in_body.json["modelVersion"], "2");
}

TEST_F(HttpGatewayTest, AnotherModelOrPathIs404) {
  Start();
  ExpectError(Post("/v1/models/other:recommend", Json(RequestFor(records_[0]))),
              404, grpc::StatusCode::NOT_FOUND,
              "model \"other\" is not served here");
  ExpectError(Get("/v1/nothing"), 404, grpc::StatusCode::NOT_FOUND,
              "no route for GET /v1/nothing");
}

TEST_F(HttpGatewayTest, BodyThatIsNotJsonIs400) {
  Start();
  ExpectError(Recommend("customer=15889"), 400,
              grpc::StatusCode::INVALID_ARGUMENT,
              "request is not a valid santander.recsys.v1.RecommendRequest in "
              "JSON");
}

TEST_F(HttpGatewayTest, UnknownFieldIs400NamingIt) {
  Start();
  ExpectError(Recommend(R"({"customer": {"ncodpers": 1}, "top": 3})"), 400,
              grpc::StatusCode::INVALID_ARGUMENT, "top");
}

TEST_F(HttpGatewayTest, ValueOfTheWrongTypeIs400NamingTheField) {
  Start();
  ExpectError(Recommend(R"({"customer": {"ncodpers": 1, "age": "old"}})"), 400,
              grpc::StatusCode::INVALID_ARGUMENT, "customer.age");
}

TEST_F(HttpGatewayTest, InvalidFieldGetsTheSameErrorAsOverGrpc) {
  Start();
  v1::RecommendRequest request = RequestFor(records_[0]);
  request.mutable_customer()->set_age(-3);
  v1::RecommendResponse unused;
  const grpc::Status over_grpc = GrpcRecommend(request, &unused);
  ASSERT_EQ(over_grpc.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  const HttpAnswer answer = Recommend(Json(request));
  ExpectError(answer, 400, grpc::StatusCode::INVALID_ARGUMENT, "customer.age");
  EXPECT_EQ(answer.json["message"], over_grpc.error_message());

  request = RequestFor(records_[0], /*k=*/25);
  const grpc::Status bad_k = GrpcRecommend(request, &unused);
  ASSERT_EQ(bad_k.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Recommend(Json(request)).json["message"], bad_k.error_message());
}

TEST_F(HttpGatewayTest, BodyOverTheUnaryLimitIs413BeforeItIsRead) {
  HarnessOptions options;
  options.adjust = [](RecsysServerOptions* server) {
    server->max_unary_message_bytes = 4096;
  };
  Start(options);
  v1::RecommendRequest request = RequestFor(records_[0]);
  for (int i = 0; i < 12; ++i) {
    v1::MonthProducts* month = request.add_history();
    month->set_months_ago(i + 1);
    for (int p = 0; p < 24; ++p) month->add_products("ind_recibo_ult1");
  }
  const std::string body = Json(request);
  ASSERT_GT(body.size(), 4096u);
  ExpectError(Recommend(body), 413, grpc::StatusCode::RESOURCE_EXHAUSTED,
              absl::StrCat("request: ", body.size(),
                           " bytes; a unary Recommend accepts at most 4096 "
                           "(--max-unary-message-bytes)"));
  // Still answering.
  EXPECT_EQ(Recommend(Json(RequestFor(records_[0]))).status, 200);
}

TEST_F(HttpGatewayTest, PassedDeadlineIs504AndBadTimeoutHeaderIs400) {
  Start();
  const std::string body = Json(RequestFor(records_[0]));
  ExpectError(Recommend(body, {{"grpc-timeout", "0n"}}), 504,
              grpc::StatusCode::DEADLINE_EXCEEDED, "deadline exceeded");
  ExpectError(Recommend(body, {{"grpc-timeout", "soon"}}), 400,
              grpc::StatusCode::INVALID_ARGUMENT, "grpc-timeout");
  EXPECT_EQ(Recommend(body, {{"grpc-timeout", "30S"}}).status, 200);
}

TEST_F(HttpGatewayTest, ModelMetadataListsVersionsFeaturesAndMetrics) {
  Start();
  const HttpAnswer answer = Get("/v1/models/santander");
  ASSERT_EQ(answer.status, 200) << answer.body;
  EXPECT_EQ(answer.json["model"]["version"], "1");
  EXPECT_TRUE(answer.json["model"]["validationMetrics"].contains(
      "modelMapAt7"))
      << answer.body;
  EXPECT_EQ(answer.json["versions"]["servingVersion"], "1");
  ASSERT_EQ(answer.json["versions"]["versions"].size(), 1u);
  EXPECT_EQ(answer.json["versions"]["versions"][0]["state"],
            "VERSION_STATE_SERVING");
  EXPECT_FALSE(answer.json["featureSpec"]["features"].empty()) << answer.body;
}

TEST_F(HttpGatewayTest, ProbesBeforeAModelIsLoaded) {
  HarnessOptions options;
  options.install_bundle = false;
  Start(options);
  EXPECT_EQ(Get("/healthz").status, 200);
  const HttpAnswer ready = Get("/readyz");
  EXPECT_EQ(ready.status, 503);
  EXPECT_EQ(ready.json["status"], "NOT_SERVING");
  ExpectError(Recommend(Json(RequestFor(records_[0]))), 503,
              grpc::StatusCode::UNAVAILABLE, "no model is loaded yet");
  ExpectError(Get("/v1/models/santander"), 503, grpc::StatusCode::UNAVAILABLE,
              "no model is loaded yet");
}

TEST_F(HttpGatewayTest, ProbesWithAModel) {
  Start();
  EXPECT_EQ(Get("/healthz").status, 200);
  EXPECT_EQ(Get("/readyz").status, 200);
  EXPECT_EQ(Get("/readyz").json["status"], "SERVING");
}

TEST_F(HttpGatewayTest, CallsAreCountedWithTheProtocolLabel) {
  HarnessOptions options;
  options.real_metrics = true;
  Start(options);
  const v1::RecommendRequest request = RequestFor(records_[0]);
  v1::RecommendResponse unused;
  ASSERT_TRUE(GrpcRecommend(request, &unused).ok());
  ASSERT_EQ(Recommend(Json(request)).status, 200);
  ASSERT_EQ(Recommend(Json(request)).status, 200);
  ASSERT_EQ(Recommend("{").status, 400);
  const metrics_testing::Exposition e =
      metrics_testing::ParseExposition(h_->metrics()->Scrape());
  const std::map<std::string, std::string> http = {
      {"grpc_method", "Recommend"}, {"protocol", "http"}};
  const std::map<std::string, std::string> grpc = {
      {"grpc_method", "Recommend"}, {"protocol", "grpc"}};
  EXPECT_EQ(e.Sum("grpc_server_started_total", http), 3);
  auto with_code = [](std::map<std::string, std::string> labels,
                      const char* code) {
    labels["grpc_code"] = code;
    return labels;
  };
  EXPECT_EQ(e.Sum("grpc_server_handled_total", with_code(http, "OK")), 2);
  EXPECT_EQ(
      e.Sum("grpc_server_handled_total", with_code(http, "InvalidArgument")),
      1);
  EXPECT_EQ(e.Sum("grpc_server_handled_total", with_code(grpc, "OK")), 1);
  EXPECT_EQ(e.Sum("grpc_server_handling_seconds_count", http), 3);
}

TEST_F(HttpGatewayTest, ShutdownStopsTheHttpPort) {
  Start();
  const int port = h_->server().http_port();
  h_->server().Shutdown();
  httplib::Client after("127.0.0.1", port);
  EXPECT_FALSE(after.Get("/healthz"));
}

// --- TLS: the HTTP port follows the gRPC port's transport ------------------

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
    auto* c = new Certs{NewTempDir("recsys-http-certs")};
    const std::string command = absl::StrCat(
        RECSYS_SOURCE_DIR "/scripts/make-certs.sh ", c->dir, " > /dev/null");
    EXPECT_EQ(std::system(command.c_str()), 0) << command;
    return c;
  }();
  return *certs;
}

HarnessOptions Tls(bool mutual) {
  const Certs& certs = TestCerts();
  HarnessOptions options;
  options.tls_cert_file = certs.server_cert();
  options.tls_key_file = certs.server_key();
  options.client_tls_ca_file = certs.ca();
  if (mutual) {
    options.tls_client_ca_file = certs.ca();
    options.client_tls_cert_file = certs.client_cert();
    options.client_tls_key_file = certs.client_key();
  }
  return options;
}

TEST(HttpGatewayTlsTest, WithTlsTheHttpPortServesHttpsOnly) {
  auto h = ServerHarness::Start(WithHttp(Tls(/*mutual=*/false)));
  ASSERT_NE(h, nullptr);
  const int port = h->server().http_port();
  httplib::SSLClient https("localhost", port);
  https.set_ca_cert_path(TestCerts().ca().c_str());
  https.enable_server_certificate_verification(true);
  httplib::Result ready = https.Get("/readyz");
  ASSERT_TRUE(ready) << httplib::to_string(ready.error());
  EXPECT_EQ(ready->status, 200);
  httplib::Client plain("127.0.0.1", port);
  httplib::Result refused = plain.Get("/readyz");
  EXPECT_TRUE(!refused || refused->status != 200);
}

TEST(HttpGatewayTlsTest, UnderMutualTlsAClientCertificateIsRequired) {
  auto h = ServerHarness::Start(WithHttp(Tls(/*mutual=*/true)));
  ASSERT_NE(h, nullptr);
  const int port = h->server().http_port();
  httplib::SSLClient anonymous("localhost", port);
  anonymous.set_ca_cert_path(TestCerts().ca().c_str());
  anonymous.enable_server_certificate_verification(true);
  httplib::Result refused = anonymous.Get("/readyz");
  EXPECT_TRUE(!refused || refused->status != 200);
  httplib::SSLClient with_cert("localhost", port,
                               TestCerts().client_cert().c_str(),
                               TestCerts().client_key().c_str());
  with_cert.set_ca_cert_path(TestCerts().ca().c_str());
  with_cert.enable_server_certificate_verification(true);
  httplib::Result ready = with_cert.Get("/readyz");
  ASSERT_TRUE(ready) << httplib::to_string(ready.error());
  EXPECT_EQ(ready->status, 200);
}

TEST(HttpGatewayPortTest, AnHttpPortInUseIsRefusedNotShared) {
  auto first = ServerHarness::Start(WithHttp());
  ASSERT_NE(first, nullptr);
  const int taken = first->server().http_port();
  RecsysServerOptions options;
  options.store_dir = first->store_dir();
  options.port = 0;
  options.http_port = taken;
  absl::StatusOr<std::unique_ptr<RecsysServer>> second =
      RecsysServer::Create(options);
  ASSERT_TRUE(second.ok()) << second.status();
  const absl::Status started = (*second)->Start();
  EXPECT_EQ(started.code(), absl::StatusCode::kUnavailable) << started;
  EXPECT_THAT(std::string(started.message()),
              HasSubstr(absl::StrCat("HTTP port ", taken)));
}

}  // namespace
}  // namespace recsys::testing
