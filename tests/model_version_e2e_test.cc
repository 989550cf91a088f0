// A request that names the model version answering it
// (RecommendRequest.model_version, RecommendStreamRequest.model_version), on
// a real server with two real models (the fixture's as version 1, another
// trained on the same data as version 2): a named version answers exactly
// as it does alone; the labels serving, latest, pinned and challenger; a
// version not in memory is NOT_FOUND naming it and the versions loaded; bad
// text is INVALID_ARGUMENT naming the field; --max-loaded-versions unloads
// the oldest version beyond the bound; streams and `recsys score`'s
// BatchScorer name a version for a whole message.
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client/batch_scorer.h"
#include "common/raw_reader.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/server_e2e_util.h"

namespace recsys {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::ServerHarness;

// The ranked products and scores of an answer, to compare answers.
std::vector<std::pair<std::string, float>> Ranking(
    const v1::RecommendResponse& response) {
  std::vector<std::pair<std::string, float>> out;
  for (const v1::Recommendation& r : response.recommendations())
    out.emplace_back(r.product(), r.score());
  return out;
}
std::vector<std::pair<std::string, float>> Ranking(
    const v1::RowRecommendations& row) {
  std::vector<std::pair<std::string, float>> out;
  for (const v1::Recommendation& r : row.recommendations())
    out.emplace_back(r.product(), r.score());
  return out;
}

class ModelVersionE2eTest : public ::testing::Test {
 protected:
  // A server over versions 1 and 2 (the fixture's other model), champion 1
  // pinned, so that both are in memory.
  void StartServer(testing::HarnessOptions options = {}) {
    options.before_start = testing::InstallAltBundleAs(2);
    h_ = ServerHarness::Start(options);
    ASSERT_NE(h_, nullptr);
    ASSERT_TRUE(h_->client().Pin("1").ok());
    customers_ = testing::ReadRecords(h_->fixture().test_csv, 12);
    ASSERT_EQ(customers_.size(), 12u);
  }

  absl::StatusOr<v1::RecommendResponse> Recommend(const RawRecord& customer,
                                                  const std::string& version) {
    v1::RecommendRequest request = testing::RequestFor(customer);
    request.set_model_version(version);
    return h_->client().Recommend(request);
  }

  // The version that answers `customer` when the request names `version`
  // ("" when refused, with the status recorded).
  std::string Answering(const std::string& version) {
    absl::StatusOr<v1::RecommendResponse> answer =
        Recommend(customers_[0], version);
    EXPECT_TRUE(answer.ok()) << version << ": " << answer.status();
    return answer.ok() ? answer->model_version() : "";
  }

  std::unique_ptr<ServerHarness> h_;
  std::vector<RawRecord> customers_;
};

TEST_F(ModelVersionE2eTest, ANamedVersionAnswersExactlyAsItDoesAlone) {
  StartServer();
  // Champion 1 pinned, 2 in memory beside it: each customer asks each.
  std::map<std::string, std::vector<v1::RecommendResponse>> named;
  for (const std::string version : {"1", "2"}) {
    for (const RawRecord& c : customers_) {
      absl::StatusOr<v1::RecommendResponse> answer = Recommend(c, version);
      ASSERT_TRUE(answer.ok()) << answer.status();
      EXPECT_EQ(answer->model_version(), version);
      named[version].push_back(*answer);
    }
  }
  // What each version gives alone: the routed answer while it serves.
  int differing = 0;
  for (const std::string version : {"1", "2"}) {
    ASSERT_TRUE(h_->client().Pin(version).ok());
    for (size_t i = 0; i < customers_.size(); ++i) {
      absl::StatusOr<v1::RecommendResponse> alone =
          Recommend(customers_[i], "");
      ASSERT_TRUE(alone.ok()) << alone.status();
      ASSERT_EQ(alone->model_version(), version);
      EXPECT_EQ(Ranking(named[version][i]), Ranking(*alone)) << i;
      EXPECT_EQ(named[version][i].history_month(), alone->history_month());
    }
  }
  for (size_t i = 0; i < customers_.size(); ++i)
    differing += Ranking(named["1"][i]) == Ranking(named["2"][i]) ? 0 : 1;
  EXPECT_GT(differing, 0) << "the two models must answer differently";
}

TEST_F(ModelVersionE2eTest, LabelsNameServingLatestPinnedAndChallenger) {
  StartServer();
  EXPECT_EQ(Answering("serving"), "1");
  EXPECT_EQ(Answering("pinned"), "1");
  EXPECT_EQ(Answering("latest"), "2");
  absl::StatusOr<v1::RecommendResponse> none =
      Recommend(customers_[0], "challenger");
  EXPECT_EQ(none.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(none.status().message(), HasSubstr("there is no challenger"));
  EXPECT_THAT(none.status().message(), HasSubstr("loaded: 1, 2"));

  ASSERT_TRUE(h_->client().SetChallenger("2", 1.0).ok());
  EXPECT_EQ(Answering(""), "2") << "share 1: the challenger answers everybody";
  EXPECT_EQ(Answering("serving"), "1") << "never the challenger";
  EXPECT_EQ(Answering("challenger"), "2");
  ASSERT_TRUE(h_->client().ClearChallenger().ok());

  ASSERT_TRUE(h_->client().Unpin().ok());  // 2 serves, nothing pinned
  EXPECT_EQ(Answering("serving"), "2");
  absl::StatusOr<v1::RecommendResponse> unpinned =
      Recommend(customers_[0], "pinned");
  EXPECT_EQ(unpinned.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(unpinned.status().message(),
              HasSubstr("model version \"pinned\" of 'santander': no version "
                        "is pinned (loaded: 1, 2)"));
}

TEST_F(ModelVersionE2eTest, AVersionNotLoadedIsNotFoundAndBadTextInvalid) {
  StartServer();
  absl::StatusOr<v1::RecommendResponse> missing =
      Recommend(customers_[0], "7");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(),
              HasSubstr("model version 7 of 'santander' is not loaded "
                        "(loaded: 1, 2)"));
  for (const std::string bad : {"abc", "-1", "0"}) {
    absl::StatusOr<v1::RecommendResponse> refused =
        Recommend(customers_[0], bad);
    EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(refused.status().message(), HasSubstr("model_version: "));
    EXPECT_THAT(refused.status().message(),
                HasSubstr(absl::StrCat("got \"", bad, "\"")));
  }
}

TEST_F(ModelVersionE2eTest, TheOldestVersionBeyondTheBoundIsUnloaded) {
  testing::HarnessOptions options;
  options.adjust = [](RecsysServerOptions* server) {
    server->max_loaded_versions = 2;
  };
  h_ = ServerHarness::Start(options);  // version 1 serves
  ASSERT_NE(h_, nullptr);
  customers_ = testing::ReadRecords(h_->fixture().test_csv, 1);
  ASSERT_EQ(customers_.size(), 1u);
  for (int64_t v : {2, 3}) {  // published one after the other
    ASSERT_TRUE(testing::InstallBundle(v == 2 ? h_->fixture().alt_bundle_dir
                                              : h_->fixture().bundle_dir,
                                       h_->store_dir(), "santander", v)
                    .ok());
    absl::StatusOr<v1::ReloadResponse> reload = h_->client().Reload();
    ASSERT_TRUE(reload.ok()) << reload.status();
  }
  EXPECT_EQ(Answering("serving"), "3");
  EXPECT_EQ(Answering("2"), "2");
  absl::StatusOr<v1::RecommendResponse> gone = Recommend(customers_[0], "1");
  EXPECT_EQ(gone.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(gone.status().message(),
              HasSubstr("model version 1 of 'santander' is not loaded "
                        "(loaded: 2, 3)"));
  absl::StatusOr<v1::ListVersionsResponse> list = h_->client().ListVersions();
  ASSERT_TRUE(list.ok());
  std::map<std::string, v1::VersionState> states;
  for (const v1::VersionInfo& v : list->versions()) states[v.version()] = v.state();
  EXPECT_EQ(states["1"], v1::VERSION_STATE_UNLOADED);
  EXPECT_EQ(states["2"], v1::VERSION_STATE_READY);
  EXPECT_EQ(states["3"], v1::VERSION_STATE_SERVING);
}

TEST_F(ModelVersionE2eTest, AStreamMessageNamesTheVersionOfAllItsRows) {
  StartServer();
  v1::RecommendStreamRequest message;
  for (size_t i = 0; i < customers_.size(); ++i)
    *message.add_rows() = testing::RowFor(customers_[i], i);
  message.set_model_version("2");
  testing::StreamOutcome stream = testing::RunStream(h_->stub(), {message});
  ASSERT_TRUE(stream.status.ok()) << stream.status.error_message();
  ASSERT_EQ(stream.responses.size(), 1u);
  EXPECT_EQ(stream.responses[0].model_version(), "2");
  const std::vector<v1::RowResult> results = stream.Results();
  ASSERT_EQ(results.size(), customers_.size());
  for (const v1::RowResult& r : results) {
    ASSERT_TRUE(r.has_recommendations()) << r.error().message();
    EXPECT_EQ(r.recommendations().model_version(), "2");
    absl::StatusOr<v1::RecommendResponse> unary =
        Recommend(customers_[r.row_id()], "2");
    ASSERT_TRUE(unary.ok());
    EXPECT_EQ(Ranking(r.recommendations()), Ranking(*unary));
  }

  message.set_model_version("7");
  stream = testing::RunStream(h_->stub(), {message});
  EXPECT_EQ(stream.status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(stream.status.error_message(), HasSubstr("model version 7"));
  message.set_model_version("abc");
  stream = testing::RunStream(h_->stub(), {message});
  EXPECT_EQ(stream.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(stream.status.error_message(),
              HasSubstr("model_version: must be a version number"));
}

TEST_F(ModelVersionE2eTest, BatchScoringNamesTheVersionOfEveryMessage) {
  StartServer();
  auto score = [&](const std::string& version) {
    absl::StatusOr<std::unique_ptr<RawReader>> reader =
        RawReader::Open(h_->fixture().test_csv);
    EXPECT_TRUE(reader.ok()) << reader.status();
    BatchScoreOptions options;
    options.model_version = version;
    options.retry_for = absl::Seconds(5);
    absl::StatusOr<std::unique_ptr<BatchScorer>> scorer =
        BatchScorer::Create(h_->stub(), options);
    EXPECT_TRUE(scorer.ok()) << scorer.status();
    std::ostringstream submission, errors;
    absl::StatusOr<BatchScoreSummary> summary =
        (*scorer)->Run(reader->get(), &submission, &errors);
    EXPECT_TRUE(summary.ok()) << summary.status();
    return *summary;
  };
  const BatchScoreSummary latest = score("latest");
  EXPECT_TRUE(latest.all_scored()) << latest.ToString();
  EXPECT_THAT(latest.model_versions, ElementsAre("2"));
  const BatchScoreSummary missing = score("9");
  EXPECT_FALSE(missing.all_scored());
  EXPECT_EQ(missing.give_up_reason.code(), absl::StatusCode::kNotFound)
      << missing.give_up_reason;
}

}  // namespace
}  // namespace recsys
