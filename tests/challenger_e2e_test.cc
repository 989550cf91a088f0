// Champion and challenger end to end, on a real server with two real
// models (the fixture's and another trained on the same data): the admin API
// sets and clears the challenger, refuses bad ones, each customer is
// answered by the version its ncodpers routes it to, on unary calls and
// streams, across calls and across a restart, and the per-version metrics
// follow.
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client/batch_scorer.h"
#include "common/raw_reader.h"
#include "common/traffic_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/server_e2e_util.h"

namespace recsys {
namespace {

using ::testing::HasSubstr;
using testing::ServerHarness;

constexpr double kShare = 0.5;

class ChallengerE2eTest : public ::testing::Test {
 protected:
  // A server whose store holds version 1 (the fixture's model) and 2 (the
  // other model), champion 1 pinned.
  void StartServer() {
    testing::HarnessOptions options;
    options.real_metrics = true;
    options.before_start = testing::InstallAltBundleAs(2);
    h_ = ServerHarness::Start(options);
    ASSERT_NE(h_, nullptr);
    ASSERT_TRUE(h_->client().Pin("1").ok());
    customers_ = testing::ReadRecords(h_->fixture().test_csv, 60);
    ASSERT_EQ(customers_.size(), 60u);
  }

  static std::string Routed(const RawRecord& customer) {
    return RoutesToChallenger(customer.ncodpers.value, kShare) ? "2" : "1";
  }

  // The version that answers a unary Recommend for `customer` on `client`.
  static std::string Answering(RecommenderClient& client,
                               const RawRecord& customer) {
    absl::StatusOr<v1::RecommendResponse> top =
        client.Recommend(testing::RequestFor(customer));
    EXPECT_TRUE(top.ok()) << top.status();
    return top.ok() ? top->model_version() : "";
  }

  std::string Scrape() { return h_->metrics()->Scrape(); }

  std::unique_ptr<ServerHarness> h_;
  std::vector<RawRecord> customers_;
};

TEST_F(ChallengerE2eTest, SetRoutesEachCustomerToItsVersionAndClearEndsIt) {
  StartServer();
  absl::StatusOr<v1::ChallengerChange> set =
      h_->client().SetChallenger("2", kShare);
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->challenger_version(), "2");
  EXPECT_DOUBLE_EQ(set->challenger_share(), kShare);
  EXPECT_EQ(set->previous_challenger_version(), "");
  EXPECT_EQ(set->serving_version(), "1") << "the champion never changes";

  absl::StatusOr<v1::ListVersionsResponse> list = h_->client().ListVersions();
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->serving_version(), "1");
  EXPECT_EQ(list->challenger_version(), "2");
  EXPECT_DOUBLE_EQ(list->challenger_share(), kShare);
  for (const v1::VersionInfo& v : list->versions()) {
    if (v.version() == "2") {
      EXPECT_EQ(v.state(), v1::VERSION_STATE_CHALLENGER);
    }
    if (v.version() == "1") {
      EXPECT_EQ(v.state(), v1::VERSION_STATE_SERVING);
    }
  }
  absl::StatusOr<v1::ModelInfo> info = h_->client().GetModelInfo();
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->version(), "1");
  EXPECT_EQ(info->challenger_version(), "2");
  EXPECT_DOUBLE_EQ(info->challenger_share(), kShare);
  absl::StatusOr<v1::ModelInfo> challenger_info =
      h_->client().GetModelInfo("2");
  ASSERT_TRUE(challenger_info.ok()) << challenger_info.status();
  EXPECT_EQ(challenger_info->version(), "2");
  EXPECT_EQ(challenger_info->challenger_version(), "2");

  // Unary: each customer gets its routed version, on every call.
  int to_challenger = 0;
  for (int round = 0; round < 2; ++round) {
    for (const RawRecord& c : customers_) {
      EXPECT_EQ(Answering(h_->client(), c), Routed(c)) << c.ncodpers.value;
      if (round == 0 && Routed(c) == "2") ++to_challenger;
    }
  }
  ASSERT_GT(to_challenger, 0);
  ASSERT_LT(to_challenger, static_cast<int>(customers_.size()));

  // A stream message mixing both: every row names its version, and its
  // answer equals the unary answer of that customer.
  v1::RecommendStreamRequest message;
  for (size_t i = 0; i < customers_.size(); ++i)
    *message.add_rows() = testing::RowFor(customers_[i], i);
  testing::StreamOutcome stream = testing::RunStream(h_->stub(), {message});
  ASSERT_TRUE(stream.status.ok()) << stream.status.error_message();
  const std::vector<v1::RowResult> results = stream.Results();
  ASSERT_EQ(results.size(), customers_.size());
  for (const v1::RowResult& r : results) {
    const RawRecord& c = customers_[r.row_id()];
    ASSERT_TRUE(r.has_recommendations()) << r.error().message();
    EXPECT_EQ(r.recommendations().model_version(), Routed(c));
    EXPECT_FALSE(r.recommendations().history_month().empty());
    absl::StatusOr<v1::RecommendResponse> alone =
        h_->client().Recommend(testing::RequestFor(c));
    ASSERT_TRUE(alone.ok());
    ASSERT_EQ(alone->recommendations_size(),
              r.recommendations().recommendations_size());
    for (int k = 0; k < alone->recommendations_size(); ++k) {
      EXPECT_EQ(alone->recommendations(k).product(),
                r.recommendations().recommendations(k).product());
      EXPECT_EQ(alone->recommendations(k).score(),
                r.recommendations().recommendations(k).score());
    }
  }
  for (const v1::RecommendStreamResponse& response : stream.responses)
    EXPECT_EQ(response.model_version(), "1") << "the response names the champion";

  // Per-version metrics: 2 unary rounds + the stream + its unary replay.
  const std::string text = Scrape();
  EXPECT_THAT(text, HasSubstr("recsys_challenger_share{model=\"santander\","
                              "version=\"2\"} 0.5"));
  const int n = static_cast<int>(customers_.size());
  EXPECT_THAT(text, HasSubstr(absl::StrCat(
                        "recsys_version_rows_scored_total{model=\"santander\","
                        "version=\"2\"} ",
                        4 * to_challenger)));
  EXPECT_THAT(text, HasSubstr(absl::StrCat(
                        "recsys_version_rows_scored_total{model=\"santander\","
                        "version=\"1\"} ",
                        4 * (n - to_challenger))));

  absl::StatusOr<v1::ChallengerChange> cleared =
      h_->client().ClearChallenger();
  ASSERT_TRUE(cleared.ok()) << cleared.status();
  EXPECT_EQ(cleared->challenger_version(), "");
  EXPECT_EQ(cleared->previous_challenger_version(), "2");
  for (const RawRecord& c : customers_)
    EXPECT_EQ(Answering(h_->client(), c), "1");
  EXPECT_THAT(Scrape(), ::testing::Not(HasSubstr("recsys_challenger_share{")));
  list = h_->client().ListVersions();
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->challenger_version(), "");
}

TEST_F(ChallengerE2eTest, BatchScoringCountsTheRowsEachVersionScored) {
  StartServer();
  ASSERT_TRUE(h_->client().SetChallenger("2", kShare).ok());
  absl::StatusOr<std::unique_ptr<RawReader>> reader =
      RawReader::Open(h_->fixture().test_csv);
  ASSERT_TRUE(reader.ok()) << reader.status();
  absl::StatusOr<std::unique_ptr<BatchScorer>> scorer =
      BatchScorer::Create(h_->stub(), BatchScoreOptions());
  ASSERT_TRUE(scorer.ok()) << scorer.status();
  std::ostringstream submission, errors;
  absl::StatusOr<BatchScoreSummary> summary =
      (*scorer)->Run(reader->get(), &submission, &errors);
  ASSERT_TRUE(summary.ok()) << summary.status();
  ASSERT_TRUE(summary->all_scored()) << summary->ToString();
  // Each row counted under the version its customer is routed to.
  std::map<std::string, int64_t> expected;
  for (const RawRecord& customer :
       testing::ReadRecords(h_->fixture().test_csv, 1u << 30)) {
    ++expected[Routed(customer)];
  }
  EXPECT_EQ(summary->rows_by_version, expected);
  ASSERT_EQ(expected.size(), 2u);
  EXPECT_THAT(summary->ToString(),
              HasSubstr(absl::StrCat("model versions 1 (", expected["1"],
                                     " rows), 2 (", expected["2"], " rows)")));
}

TEST_F(ChallengerE2eTest, BadChallengersAreRefusedAndTheChampionServesOn) {
  StartServer();
  absl::StatusOr<v1::ChallengerChange> missing =
      h_->client().SetChallenger("9", 0.1);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr("challenger version 9"));
  absl::StatusOr<v1::ChallengerChange> champion =
      h_->client().SetChallenger("1", 0.1);
  EXPECT_EQ(champion.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(champion.status().message(), HasSubstr("version 1"));
  EXPECT_EQ(h_->client().SetChallenger("2", 0).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(h_->client().SetChallenger("two", 0.1).status().code(),
            absl::StatusCode::kInvalidArgument);

  // Admin authentication, as for every admin call.
  ClientOptions anonymous = h_->client_options();
  anonymous.admin_token_file.clear();
  absl::StatusOr<std::unique_ptr<RecommenderClient>> stranger =
      RecommenderClient::Create(anonymous);
  ASSERT_TRUE(stranger.ok());
  EXPECT_EQ((*stranger)->SetChallenger("2", 0.1).status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ((*stranger)->ClearChallenger().status().code(),
            absl::StatusCode::kUnauthenticated);

  absl::StatusOr<v1::ListVersionsResponse> list = h_->client().ListVersions();
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->challenger_version(), "");
  EXPECT_EQ(list->serving_version(), "1");
  for (const RawRecord& c : customers_)
    EXPECT_EQ(Answering(h_->client(), c), "1");
}

TEST_F(ChallengerE2eTest, EachCustomerKeepsItsVersionAcrossARestart) {
  StartServer();
  ASSERT_TRUE(h_->client().SetChallenger("2", kShare).ok());
  std::map<int64_t, std::string> before;
  for (const RawRecord& c : customers_)
    before[c.ncodpers.value] = Answering(h_->client(), c);

  // A restart: a new server on the same store, no challenger flags.
  h_->server().Shutdown();
  RecsysServerOptions again;
  again.store_dir = h_->store_dir();
  again.port = 0;
  again.workers = 1;
  absl::StatusOr<std::unique_ptr<RecsysServer>> second =
      RecsysServer::Create(again);
  ASSERT_TRUE(second.ok()) << second.status();
  ASSERT_TRUE((*second)->Start().ok());
  ClientOptions client_options = h_->client_options();
  client_options.server = (*second)->address();
  absl::StatusOr<std::unique_ptr<RecommenderClient>> client =
      RecommenderClient::Create(client_options);
  ASSERT_TRUE(client.ok());
  for (const RawRecord& c : customers_) {
    EXPECT_EQ(Answering(**client, c), before[c.ncodpers.value])
        << c.ncodpers.value;
    EXPECT_EQ(before[c.ncodpers.value], Routed(c));
  }
  (*second)->Shutdown();
}

TEST_F(ChallengerE2eTest, ServerFlagsSetTheChallengerAtStart) {
  testing::HarnessOptions options;
  options.before_start = testing::InstallAltBundleAs(2);
  // Champion: version 2 (the newest); challenger: version 1 by flags.
  options.adjust = [](RecsysServerOptions* o) {
    o->challenger_version = 1;
    o->challenger_share = kShare;
  };
  h_ = ServerHarness::Start(options);
  ASSERT_NE(h_, nullptr);
  absl::StatusOr<v1::ListVersionsResponse> list = h_->client().ListVersions();
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->serving_version(), "2");
  EXPECT_EQ(list->challenger_version(), "1");
  EXPECT_DOUBLE_EQ(list->challenger_share(), kShare);
}

}  // namespace
}  // namespace recsys
