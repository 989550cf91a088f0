#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "client/cli/commands.h"
#include "client/fake_recommender.h"
#include "common/raw_reader_test_util.h"
#include "records/ingest.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace recsys {
namespace {

using ::testing::HasSubstr;

constexpr char kHeader[] =
    "fecha_dato,ncodpers,ind_empleado,pais_residencia,sexo,age,fecha_alta,"
    "ind_nuevo,antiguedad,indrel,ult_fec_cli_1t,indrel_1mes,tiprel_1mes,"
    "indresi,indext,conyuemp,canal_entrada,indfall,tipodom,cod_prov,nomprov,"
    "ind_actividad_cliente,renta,segmento";

std::string Line(int64_t ncodpers, const std::string& age = "35") {
  return absl::StrCat("2016-06-28,", ncodpers, ",N,ES,H,", age,
                      ",2015-01-12,0,6,1,,1,A,S,N,,KHE,N,1,29,MALAGA,1,"
                      "87218.1,02 - PARTICULARES");
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// A path in the test's temporary directory that no other test (or parallel
// test process) uses.
std::string TempPath(const std::string& name) {
  return absl::StrCat(
      ::testing::TempDir(), "recsys_cli_test_", getpid(), "_",
      ::testing::UnitTest::GetInstance()->current_test_info()->name(), "_",
      name);
}

std::string WriteTemp(const std::string& name, const std::string& text) {
  const std::string path = TempPath(name);
  std::ofstream(path) << text;
  return path;
}

class CliTest : public ::testing::Test {
 protected:
  // Removes the files this test wrote.
  void TearDown() override {
    const std::string prefix = TempPath("");
    for (const auto& entry :
         std::filesystem::directory_iterator(::testing::TempDir())) {
      if (absl::StartsWith(entry.path().string(), prefix)) {
        std::filesystem::remove(entry.path());
      }
    }
  }

  void StartFake(FakeRecommenderOptions options = {}) {
    auto server = FakeRecommenderServer::Start(std::move(options));
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    client_.server = server_->address();
  }

  // Runs `recsys score` on `csv`; the outputs land in output_ / errors_.
  int Score(const std::string& csv) {
    ScoreCommandOptions options;
    options.client = client_;
    options.input = WriteTemp("score_input.csv", csv);
    options.output = output_;
    options.errors = errors_;
    options.batch.batch_rows = 4;
    options.batch.window = 2;
    options.batch.initial_backoff = absl::Milliseconds(1);
    options.connect_timeout = absl::Seconds(5);
    return RunScore(options, out_, err_);
  }

  int Recommend(RecommendCommandOptions options) {
    options.client = client_;
    return RunRecommend(options, out_, err_);
  }

  std::unique_ptr<FakeRecommenderServer> server_;
  ClientOptions client_;
  const std::string output_ = TempPath("submission.csv");
  const std::string errors_ = TempPath("errors.csv");
  std::ostringstream out_, err_;
};

TEST_F(CliTest, ScoreExitsZeroWhenEveryRowIsScored) {
  StartFake();
  EXPECT_EQ(Score(absl::StrCat(kHeader, "\n", Line(11), "\n", Line(12), "\n")),
            kExitOk);
  EXPECT_EQ(ReadAll(output_),
            absl::StrCat("ncodpers,added_products\n11,", FakeProductsFor(11),
                         "\n12,", FakeProductsFor(12), "\n"));
  EXPECT_EQ(ReadAll(errors_), "line,ncodpers,reason\n");
  EXPECT_THAT(err_.str(), HasSubstr("2 rows: 2 scored, 0 failed"));
  EXPECT_THAT(err_.str(), HasSubstr("rows/s"));
}

TEST_F(CliTest, ScoreExitsOneWhenSomeRowsFailAndListsThem) {
  FakeRecommenderOptions fake;
  fake.bad_ncodpers = {13};
  StartFake(fake);
  EXPECT_EQ(Score(absl::StrCat(kHeader, "\n", Line(11), "\n", Line(12, "x"),
                               "\n", Line(13), "\n", Line(14), "\n")),
            kExitFailed);
  EXPECT_EQ(ReadAll(output_),
            absl::StrCat("ncodpers,added_products\n11,", FakeProductsFor(11),
                         "\n14,", FakeProductsFor(14), "\n"));
  const std::string errors = ReadAll(errors_);
  EXPECT_THAT(errors, HasSubstr("\n3,12,\""));  // unreadable age
  EXPECT_THAT(errors, HasSubstr("\n4,13,\"server: INVALID_ARGUMENT"));
  EXPECT_THAT(err_.str(), HasSubstr("4 rows: 2 scored, 2 failed"));
}

TEST_F(CliTest, ScoreNamesTheReasonWhenTheOutputCannotBeCreated) {
  StartFake();
  ScoreCommandOptions options;
  options.client = client_;
  options.input = WriteTemp("in.csv", absl::StrCat(kHeader, "\n", Line(11), "\n"));
  options.output = TempPath("no-such-dir/submission.csv");
  EXPECT_EQ(RunScore(options, out_, err_), kExitUsage);
  EXPECT_THAT(err_.str(),
              HasSubstr(absl::StrCat("cannot write ", options.output,
                                     ": No such file or directory")));
}

TEST_F(CliTest, ScoreNamesTheReasonWhenWritingFails) {
  StartFake();
  ScoreCommandOptions options;
  options.client = client_;
  options.input = WriteTemp("in.csv", absl::StrCat(kHeader, "\n", Line(11), "\n"));
  options.output = "/dev/full";  // every write fails with ENOSPC
  options.errors = errors_;
  EXPECT_EQ(RunScore(options, out_, err_), kExitFailed);
  EXPECT_THAT(err_.str(), HasSubstr("No space left on device"));
}

TEST_F(CliTest, HealthOfAnUnreachableServerExitsOneNotTwo) {
  ClientOptions client;
  client.server = "127.0.0.1:1";  // nothing listens there
  client.deadline = absl::Seconds(2);
  EXPECT_EQ(RunHealth(client, "", out_, err_), kExitFailed);
  EXPECT_THAT(err_.str(), HasSubstr("recsys health: 127.0.0.1:1"));
}

TEST_F(CliTest, ScoreExitsTwoWhenTheServerCannotBeReached) {
  client_.server = "127.0.0.1:1";
  ScoreCommandOptions options;
  options.client = client_;
  options.input =
      WriteTemp("unreachable.csv", absl::StrCat(kHeader, "\n", Line(11), "\n"));
  options.output = output_;
  options.connect_timeout = absl::Milliseconds(300);
  EXPECT_EQ(RunScore(options, out_, err_), kExitUsage);
  EXPECT_THAT(err_.str(), HasSubstr("cannot reach the server at 127.0.0.1:1"));
}

TEST_F(CliTest, ScoreExitsTwoForMissingFlagsOrInput) {
  StartFake();
  ScoreCommandOptions options;
  options.client = client_;
  options.output = output_;
  EXPECT_EQ(RunScore(options, out_, err_), kExitUsage);
  options.input = TempPath("does_not_exist.csv");
  EXPECT_EQ(RunScore(options, out_, err_), kExitUsage);
  EXPECT_THAT(err_.str(), HasSubstr("does_not_exist.csv"));
}

TEST_F(CliTest, RecommendFromFieldFlagsPrintsATableAndSendsTheHistory) {
  StartFake();
  RecommendCommandOptions options;
  options.fields = {
      {"ncodpers", "15889"}, {"age", "56"}, {"nomprov", "CORUÑA, A"}};
  options.history = "1:ind_cco_fin_ult1";
  options.k = 5;
  ASSERT_EQ(Recommend(options), kExitOk) << err_.str();
  EXPECT_THAT(out_.str(), HasSubstr("version fake-v1"));
  EXPECT_THAT(out_.str(), HasSubstr(FakeProductsFor(15889).substr(0, 10)));
  v1::RecommendRequest sent = server_->service().last_request();
  EXPECT_EQ(sent.customer().ncodpers(), 15889);
  EXPECT_EQ(sent.customer().age(), 56);
  EXPECT_EQ(sent.customer().nomprov(), "CORUÑA, A");
  EXPECT_FALSE(sent.customer().has_renta());
  EXPECT_EQ(sent.k(), 5);
  ASSERT_EQ(sent.history_size(), 1);
  EXPECT_EQ(sent.history(0).products(0), "ind_cco_fin_ult1");
}

TEST_F(CliTest, RecommendSendsTheModelVersionAsked) {
  StartFake();
  RecommendCommandOptions options;
  options.fields = {{"ncodpers", "15889"}};
  ASSERT_EQ(Recommend(options), kExitOk) << err_.str();
  EXPECT_EQ(server_->service().last_request().model_version(), "");
  options.model_version = "latest";
  ASSERT_EQ(Recommend(options), kExitOk) << err_.str();
  EXPECT_EQ(server_->service().last_request().model_version(), "latest");
}

TEST_F(CliTest, RecommendFromACsvLine) {
  StartFake();
  RecommendCommandOptions options;
  options.csv_line =
      "6/28/2016,1170544,N,ES,H,36,8/28/2013,0,34,1,,1,I,S,N,,KAT,N,1,3,"
      "ALICANTE,0,         NA,02 - PARTICULARES";
  ASSERT_EQ(Recommend(options), kExitOk) << err_.str();
  v1::RecommendRequest sent = server_->service().last_request();
  EXPECT_EQ(sent.customer().ncodpers(), 1170544);
  EXPECT_EQ(sent.customer().fecha_dato(), "2016-06-28");
  EXPECT_FALSE(sent.customer().has_renta());
  EXPECT_EQ(sent.history_size(), 0);
}

TEST_F(CliTest, RecommendUsageErrorsAndRefusals) {
  StartFake(FakeRecommenderOptions{.bad_ncodpers = {7}});
  RecommendCommandOptions both;
  both.fields = {{"ncodpers", "1"}};
  both.csv_line = Line(1);
  EXPECT_EQ(Recommend(both), kExitUsage);
  RecommendCommandOptions bad_age;
  bad_age.fields = {{"ncodpers", "1"}, {"age", "old"}};
  EXPECT_EQ(Recommend(bad_age), kExitUsage);
  EXPECT_THAT(err_.str(), HasSubstr("age"));
  RecommendCommandOptions bad_history;
  bad_history.fields = {{"ncodpers", "1"}};
  bad_history.history = "1:ind_gold_ult1";
  EXPECT_EQ(Recommend(bad_history), kExitUsage);
  RecommendCommandOptions refused;
  refused.fields = {{"ncodpers", "7"}};
  EXPECT_EQ(Recommend(refused), kExitFailed);
  EXPECT_THAT(err_.str(), HasSubstr("INVALID_ARGUMENT: customer.ncodpers"));
}

TEST_F(CliTest, ChallengerUsageErrorsAreRefusedBeforeAnyCall) {
  // No server runs: each of these must be refused as usage (2), not
  // attempted.
  EXPECT_EQ(RunChallenger(client_, "promote", "2", 0.1, out_, err_),
            kExitUsage);
  EXPECT_THAT(err_.str(), HasSubstr("expected `set VERSION --share S`"));
  EXPECT_EQ(RunChallenger(client_, "set", "", 0.1, out_, err_), kExitUsage);
  EXPECT_THAT(err_.str(), HasSubstr("VERSION is required"));
  EXPECT_EQ(RunChallenger(client_, "set", "2", 0, out_, err_), kExitUsage);
  EXPECT_EQ(RunChallenger(client_, "set", "2", 1.5, out_, err_), kExitUsage);
  EXPECT_THAT(err_.str(), HasSubstr("--share must be in (0, 1]"));
  EXPECT_EQ(RunChallenger(client_, "clear", "2", 0.1, out_, err_), kExitUsage);
}

TEST_F(CliTest, AdminCommandsPrintReadableOutput) {
  StartFake();
  EXPECT_EQ(RunVersions(client_, out_, err_), kExitOk);
  EXPECT_THAT(out_.str(), HasSubstr("FAILED"));
  EXPECT_THAT(out_.str(), HasSubstr("reason: model file truncated"));
  EXPECT_THAT(out_.str(), HasSubstr("SERVING"));
  EXPECT_EQ(RunInfo(client_, "", out_, err_), kExitOk);
  EXPECT_THAT(out_.str(), HasSubstr("model 0.02910, popularity 0.01980"));
  EXPECT_EQ(RunPin(client_, "fake-v1", out_, err_), kExitOk);
  EXPECT_THAT(out_.str(), HasSubstr("policy pinned"));
  EXPECT_EQ(RunPin(client_, "nope", out_, err_), kExitFailed);
  EXPECT_THAT(err_.str(), HasSubstr("NOT_FOUND"));
  // The fake does not implement Reload.
  EXPECT_EQ(RunReload(client_, out_, err_), kExitFailed);
  EXPECT_THAT(err_.str(), HasSubstr("UNIMPLEMENTED"));
}

TEST_F(CliTest, EvaluatePrintsMapAtSevenOfASubmission) {
  const std::string truth =
      WriteTemp("truth.csv",
                "ncodpers,added_products,owned_products\n"
                "1,ind_recibo_ult1,ind_recibo_ult1 ind_cco_fin_ult1\n"
                "2,,ind_cco_fin_ult1\n");
  // Customer 1: the added product at rank 2 -> AP 1/2; customer 2 adds
  // nothing -> 0; MAP@7 = 0.25.
  const std::string submission =
      WriteTemp("eval_submission.csv",
                "ncodpers,added_products\n1,ind_tjcr_fin_ult1 "
                "ind_recibo_ult1\n2,ind_tjcr_fin_ult1\n");
  EXPECT_EQ(RunEvaluate(submission, truth, out_, err_), kExitOk) << err_.str();
  EXPECT_THAT(out_.str(), HasSubstr("0.25"));
  EXPECT_EQ(RunEvaluate(submission, TempPath("nope.csv"), out_, err_),
            kExitUsage);
  EXPECT_EQ(RunEvaluate("", truth, out_, err_), kExitUsage);
}

TEST_F(CliTest, EvaluateDerivesTheTruthOfAMonthFromTheRecordsDatabase) {
  // Two months of customers 1 and 2 (each owns a current account); in
  // February customer 1 adds direct debit: the truth of the test above.
  auto row = [](const char* date, const char* customer, const char* recibo) {
    return testing::RowText()
        .Set("fecha_dato", date)
        .Set("ncodpers", customer)
        .Set("ind_recibo_ult1", recibo)
        .str();
  };
  const std::string file = WriteTemp(
      "two_months.csv",
      absl::StrCat(testing::TrainHeader(), "\n", row("2015-01-28", "1", "0"),
                   "\n", row("2015-01-28", "2", "0"), "\n",
                   row("2015-02-28", "1", "1"), "\n",
                   row("2015-02-28", "2", "0"), "\n"));
  const std::string db = TempPath("records.db");
  {
    auto records = RecordsDb::Open(db, {});
    ASSERT_TRUE(records.ok()) << records.status();
    ASSERT_TRUE(IngestFile(records->get(), file, {}).ok());
  }
  const std::string submission =
      WriteTemp("month_submission.csv",
                "ncodpers,added_products\n1,ind_tjcr_fin_ult1 "
                "ind_recibo_ult1\n2,ind_tjcr_fin_ult1\n");
  EXPECT_EQ(RunEvaluateMonth(submission, "", db, "2015-02", out_, err_),
            kExitOk)
      << err_.str();
  EXPECT_THAT(out_.str(), HasSubstr("0.25"));
  EXPECT_THAT(out_.str(), HasSubstr("truth: 2015-02 from"));
  // January has no month before it in the database: no truth.
  EXPECT_EQ(RunEvaluateMonth(submission, "", db, "2015-01", out_, err_),
            kExitUsage);
  EXPECT_THAT(err_.str(), HasSubstr("2014-12"));
  EXPECT_EQ(RunEvaluateMonth(submission, "truth.csv", db, "2015-02", out_, err_),
            kExitUsage);
  EXPECT_EQ(RunEvaluateMonth(submission, "", db, "", out_, err_), kExitUsage);
}

int RunBinary(const std::string& args) {
  const std::string command =
      absl::StrCat(RECSYS_BIN_DIR, "/recsys ", args, " >/dev/null 2>&1");
  const int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(RecsysProgramTest, HelpAndUsageErrorsHaveTheirExitStatus) {
  EXPECT_EQ(RunBinary("--help"), kExitOk);
  EXPECT_EQ(RunBinary("score --help"), kExitOk);
  EXPECT_EQ(RunBinary("help recommend"), kExitOk);
  EXPECT_EQ(RunBinary(""), kExitUsage);
  EXPECT_EQ(RunBinary("frobnicate"), kExitUsage);
  EXPECT_EQ(RunBinary("score --age 3"), kExitUsage);
  EXPECT_EQ(RunBinary("score --batch-rows=abc"), kExitUsage);
  EXPECT_EQ(RunBinary("versions extra"), kExitUsage);
}

// What `recsys ARGS` prints on stdout and stderr.
std::string BinaryOutput(const std::string& args) {
  const std::string command =
      absl::StrCat(RECSYS_BIN_DIR, "/recsys ", args, " 2>&1");
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return "";
  std::string out;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) out.append(buffer, n);
  pclose(pipe);
  return out;
}

TEST(RecsysProgramTest, RecommendAndScoreHelpDescribeModelVersion) {
  for (const char* command : {"recommend", "score"}) {
    const std::string help = BinaryOutput(absl::StrCat(command, " --help"));
    EXPECT_THAT(help, HasSubstr("--model-version")) << command;
    EXPECT_THAT(help, HasSubstr("pinned")) << command;  // a label
  }
}

}  // namespace
}  // namespace recsys
