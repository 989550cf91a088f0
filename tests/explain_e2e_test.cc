// Explanations (RecommendRequest.explain) against a real server with the
// trained bundle: over gRPC each recommended product comes with its
// TreeSHAP explanation whose numbers add up (bias + listed features + others
// = margin), named after the feature spec with the raw values the record
// gave; without explain there is none; over HTTP, ?explain=1 gives the same
// answer as gRPC's byte for byte once parsed back; bad values are refused
// naming the field or parameter and the value.
#include <google/protobuf/util/json_util.h>
#include <httplib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/raw_columns.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/server_e2e_util.h"

namespace recsys::testing {
namespace {

using ::testing::HasSubstr;

class ExplainE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    HarnessOptions options;
    options.adjust = [](RecsysServerOptions* server) { server->http_port = 0; };
    h_ = ServerHarness::Start(options);
    ASSERT_NE(h_, nullptr);
    http_ = std::make_unique<httplib::Client>("127.0.0.1",
                                              h_->server().http_port());
    records_ = ReadRecords(h_->fixture().test_csv, 10);
    ASSERT_GE(records_.size(), 5u);
  }

  grpc::Status Recommend(const v1::RecommendRequest& request,
                         v1::RecommendResponse* response) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(30));
    return h_->stub()->Recommend(&context, request, response);
  }

  v1::RecommendRequest Explained(const RawRecord& record, int k, int features) {
    v1::RecommendRequest request = RequestFor(record, k);
    request.set_explain(true);
    request.set_explain_features(features);
    return request;
  }

  // POSTs `request` as JSON to the recommend route with `query`.
  httplib::Result PostJson(const v1::RecommendRequest& request,
                           const std::string& query) {
    std::string body;
    EXPECT_TRUE(
        google::protobuf::util::MessageToJsonString(request, &body).ok());
    const std::string path = "/v1/models/santander:recommend" + query;
    return http_->Post(path.c_str(), body, "application/json");
  }

  std::unique_ptr<ServerHarness> h_;
  std::unique_ptr<httplib::Client> http_;
  std::vector<RawRecord> records_;
};

TEST_F(ExplainE2eTest, EachRecommendationIsExplainedAndTheNumbersAddUp) {
  int explained = 0;
  for (const RawRecord& record : records_) {
    v1::RecommendResponse response;
    ASSERT_TRUE(Recommend(Explained(record, 5, 6), &response).ok());
    ASSERT_FALSE(response.recommendations().empty());
    for (const v1::Recommendation& r : response.recommendations()) {
      ASSERT_TRUE(r.has_explanation()) << r.product();
      const v1::Explanation& e = r.explanation();
      ASSERT_GT(e.features_size(), 0) << r.product();
      EXPECT_LE(e.features_size(), 6);
      double sum = e.bias() + e.others_contribution();
      for (int i = 0; i < e.features_size(); ++i) {
        const v1::FeatureContribution& f = e.features(i);
        EXPECT_FALSE(f.feature().empty());
        EXPECT_NE(f.contribution(), 0.0);
        if (i > 0) {
          EXPECT_GE(std::fabs(e.features(i - 1).contribution()),
                    std::fabs(f.contribution()));
        }
        sum += f.contribution();
      }
      EXPECT_NEAR(sum, e.margin(), 1e-6) << r.product();
      ++explained;
    }
    // The best product has the highest margin among those recommended
    // (the scores are the softmax of the margins).
    for (int i = 1; i < response.recommendations_size(); ++i) {
      EXPECT_GE(response.recommendations(0).explanation().margin(),
                response.recommendations(i).explanation().margin() - 1e-4);
    }
  }
  EXPECT_GE(explained, static_cast<int>(records_.size()));
}

TEST_F(ExplainE2eTest, FeaturesCarryTheRawColumnAndTheRecordsValue) {
  const RawRecord& record = records_[0];
  v1::RecommendResponse response;
  ASSERT_TRUE(Recommend(Explained(record, 3, 64), &response).ok());
  int with_column = 0;
  for (const v1::Recommendation& r : response.recommendations()) {
    for (const v1::FeatureContribution& f : r.explanation().features()) {
      if (f.raw_column().empty()) {
        EXPECT_TRUE(f.raw_value().empty()) << f.feature();
        continue;
      }
      std::optional<int> column = FindRawColumn(f.raw_column());
      ASSERT_TRUE(column.has_value()) << f.raw_column();
      EXPECT_EQ(f.raw_value(), RawColumnText(record, *column)) << f.feature();
      if (f.feature() == "age" && record.age.present() &&
          record.age.value >= 0 && record.age.value <= 120) {
        ASSERT_TRUE(f.has_value());
        EXPECT_EQ(f.value(), static_cast<double>(record.age.value));
      }
      ++with_column;
    }
  }
  EXPECT_GT(with_column, 0);
}

TEST_F(ExplainE2eTest, WithoutExplainThereIsNoExplanation) {
  v1::RecommendResponse response;
  ASSERT_TRUE(Recommend(RequestFor(records_[1], 7), &response).ok());
  ASSERT_FALSE(response.recommendations().empty());
  for (const v1::Recommendation& r : response.recommendations()) {
    EXPECT_FALSE(r.has_explanation()) << r.product();
  }
}

TEST_F(ExplainE2eTest, ExplainFeaturesOutOfRangeIsInvalidArgumentNamingIt) {
  v1::RecommendResponse response;
  const grpc::Status status =
      Recommend(Explained(records_[0], 3, 65), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("explain_features"));
  EXPECT_THAT(status.error_message(), HasSubstr("got 65"));
}

TEST_F(ExplainE2eTest, HttpExplainQueryGivesTheSameAnswerAsGrpc) {
  for (int i = 0; i < 3; ++i) {
    v1::RecommendResponse over_grpc;
    ASSERT_TRUE(Recommend(Explained(records_[i], 4, 7), &over_grpc).ok());
    httplib::Result result =
        PostJson(RequestFor(records_[i], 4), "?explain=1&explain_features=7");
    ASSERT_TRUE(result) << httplib::to_string(result.error());
    ASSERT_EQ(result->status, 200) << result->body;
    v1::RecommendResponse over_http;
    ASSERT_TRUE(
        google::protobuf::util::JsonStringToMessage(result->body, &over_http)
            .ok())
        << result->body;
    ASSERT_TRUE(over_http.recommendations(0).has_explanation());
    EXPECT_EQ(over_http.SerializeAsString(), over_grpc.SerializeAsString())
        << "HTTP: " << over_http.ShortDebugString()
        << "\ngRPC: " << over_grpc.ShortDebugString();
  }
}

TEST_F(ExplainE2eTest, HttpExplainInTheBodyWorksToo) {
  httplib::Result result = PostJson(Explained(records_[2], 2, 3), "");
  ASSERT_TRUE(result);
  ASSERT_EQ(result->status, 200) << result->body;
  const nlohmann::json json = nlohmann::json::parse(result->body);
  EXPECT_TRUE(json["recommendations"][0]["explanation"].is_object())
      << result->body;
  result = PostJson(Explained(records_[2], 2, 3), "?explain=0");
  ASSERT_TRUE(result);
  v1::RecommendResponse response;
  ASSERT_TRUE(
      google::protobuf::util::JsonStringToMessage(result->body, &response)
          .ok());
  EXPECT_FALSE(response.recommendations(0).has_explanation());
}

TEST_F(ExplainE2eTest, HttpBadExplainParametersAre400NamingThem) {
  struct Case {
    std::string query;
    std::string message;
  };
  for (const Case& c : std::vector<Case>{
           {"?explain=maybe",
            "explain: must be 1, 0, true or false, got \"maybe\""},
           {"?explain=1&explain_features=65",
            "explain_features: must be between 1 and 64 (0 = 5), got 65"},
           {"?explain=1&explain_features=abc",
            "explain_features: must be an integer between 1 and 64, got "
            "\"abc\""}}) {
    httplib::Result result = PostJson(RequestFor(records_[0], 3), c.query);
    ASSERT_TRUE(result);
    EXPECT_EQ(result->status, 400) << c.query << ": " << result->body;
    const nlohmann::json json =
        nlohmann::json::parse(result->body, nullptr, false);
    ASSERT_TRUE(json.is_object()) << result->body;
    EXPECT_THAT(json["message"].get<std::string>(), HasSubstr(c.message));
  }
}

// Runs `recsys recommend --explain` (the real program) against the server.
std::string RunCli(const std::string& args, int* exit_code) {
  const std::string out_path =
      absl::StrCat(::testing::TempDir(), "/explain_cli_", ::getpid());
  const std::string command = absl::StrCat("'", RECSYS_CLI_BIN, "' ", args,
                                           " >", out_path, " 2>&1 </dev/null");
  const int status = std::system(command.c_str());
  *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream in(out_path);
  std::stringstream text;
  text << in.rdbuf();
  std::filesystem::remove(out_path);
  return text.str();
}

TEST_F(ExplainE2eTest, CliExplainPrintsATableUnderEachProduct) {
  const std::string server =
      absl::StrCat("--server 127.0.0.1:", h_->server().port());
  int exit_code = -1;
  const std::string out = RunCli(
      absl::StrCat("recommend ", server,
                   " --ncodpers 15889 --age 35 --renta 87218.1 "
                   "--segmento '02 - PARTICULARES' --fecha_alta 2015-01-12 "
                   "--k 2 --explain --explain-features 3"),
      &exit_code);
  EXPECT_EQ(exit_code, 0) << out;
  EXPECT_THAT(out, HasSubstr("feature"));
  EXPECT_THAT(out, HasSubstr("raw column=value"));
  EXPECT_THAT(out, HasSubstr("contribution"));
  EXPECT_THAT(out, HasSubstr("(all other features)"));
  EXPECT_THAT(out, HasSubstr("bias (average margin)"));
  EXPECT_THAT(out, HasSubstr("= margin"));
  // One table per product: two products, two margin lines.
  size_t margins = 0;
  for (size_t at = out.find("= margin"); at != std::string::npos;
       at = out.find("= margin", at + 1))
    ++margins;
  EXPECT_EQ(margins, 2u) << out;

  // Without --explain: the plain table only.
  const std::string plain = RunCli(
      absl::StrCat("recommend ", server, " --ncodpers 15889 --age 35 --k 2"),
      &exit_code);
  EXPECT_EQ(exit_code, 0) << plain;
  EXPECT_THAT(plain, ::testing::Not(HasSubstr("= margin")));
}

}  // namespace
}  // namespace recsys::testing
