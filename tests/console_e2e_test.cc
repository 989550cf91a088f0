// The web console's server side against a real server with a trained bundle
// and a records database made from the same synthetic files: GetCustomer
// over gRPC and over HTTP (the newest record, as the client's codec encodes
// the same CSV row, and the serving history), its errors, the drift and
// reload-history JSON (checked against the /metrics exposition), and the
// console's files with their security headers. The page itself is tested
// in a browser by tests/console_browser_test.py.
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>
#include <httplib.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/date.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "records/ingest.h"
#include "records/records_db.h"
#include "tests/http_testing.h"
#include "tests/server_e2e_util.h"

namespace recsys::testing {
namespace {

using ::google::protobuf::util::MessageDifferencer;
using ::testing::HasSubstr;

// A customer code no fixture customer has.
constexpr int64_t kUnknownCustomer = 987654321;

// The fixture's train file ingested into a records database, once per
// process.
const std::string& RecordsDbPath(const TrainedFixture& fixture) {
  static const std::string* const path = [&fixture] {
    auto* p = new std::string(NewTempDir("console-records") + "/records.db");
    auto db = RecordsDb::Open(*p, {});
    EXPECT_TRUE(db.ok()) << db.status();
    if (db.ok()) {
      auto report = IngestFile(db->get(), fixture.train_csv, {});
      EXPECT_TRUE(report.ok()) << report.status();
    }
    return p;
  }();
  return *path;
}

class ConsoleTest : public ::testing::Test {
 protected:
  void Start(bool with_records = true) {
    absl::StatusOr<TrainedFixture> fixture = GetTrainedFixture();
    ASSERT_TRUE(fixture.ok()) << fixture.status();
    const std::string db = with_records ? RecordsDbPath(*fixture) : "";
    auto metrics = ServerMetrics::Create(
        {.port = -1, .drift_window = 400, .drift_min_rows = 50});
    ASSERT_TRUE(metrics.ok()) << metrics.status();
    metrics_ = *std::move(metrics);
    HarnessOptions options;
    options.metrics = metrics_.get();
    options.adjust = [db](RecsysServerOptions* server) {
      server->http_port = 0;
      server->records_db = db;
    };
    h_ = ServerHarness::Start(options);
    ASSERT_NE(h_, nullptr);
    http_ = std::make_unique<httplib::Client>("127.0.0.1",
                                              h_->server().http_port());
  }

  grpc::Status GetCustomer(int64_t ncodpers, v1::Customer* customer) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(30));
    v1::GetCustomerRequest request;
    request.set_ncodpers(ncodpers);
    return h_->stub()->GetCustomer(&context, request, customer);
  }

  HttpAnswer Get(const std::string& path) {
    return Answer(http_->Get(path.c_str()));
  }

  // A customer of the newest train month (2016-05) with every product
  // column filled and at least one product owned.
  RawRecord MayCustomer() {
    std::vector<RawRecord> rows =
        ReadRecords(h_->fixture().train_csv, 1, [](const RawRecord& r) {
          return r.fecha_dato.value.ToString() == "2016-05-28" &&
                 r.products_missing == 0 && r.products != 0;
        });
    EXPECT_EQ(rows.size(), 1u);
    return rows.empty() ? RawRecord{} : rows[0];
  }

  std::unique_ptr<ServerMetrics> metrics_;
  std::unique_ptr<ServerHarness> h_;
  std::unique_ptr<httplib::Client> http_;
};

TEST_F(ConsoleTest, GetCustomerGivesTheNewestRecordAndTheServingHistory) {
  Start();
  const RawRecord may = MayCustomer();
  v1::Customer customer;
  const grpc::Status status = GetCustomer(may.ncodpers.value, &customer);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(customer.ncodpers(), may.ncodpers.value);
  EXPECT_EQ(customer.record_month(), "2016-05");
  // The stored row, encoded as the client's codec encodes the same CSV row.
  const v1::CustomerRecord expected = RequestFor(may).customer();
  EXPECT_TRUE(MessageDifferencer::Equals(customer.record(), expected))
      << customer.record().DebugString() << "\nvs\n"
      << expected.DebugString();
  // The bundle's history serves 2016-06: its newest month is 2016-05.
  EXPECT_EQ(customer.history_month(), "2016-05");
  ASSERT_FALSE(customer.history().empty());
  EXPECT_EQ(customer.history(0).months_ago(), 0);
  std::vector<std::string> owned;
  for (int p = 0; p < kNumProducts; ++p) {
    if (may.products & ProductBit(p)) owned.emplace_back(kProducts[p].column);
  }
  EXPECT_THAT(customer.history(0).products(),
              ::testing::ElementsAreArray(owned));
  for (int i = 1; i < customer.history_size(); ++i) {
    EXPECT_GT(customer.history(i).months_ago(),
              customer.history(i - 1).months_ago());  // newest first
  }
}

TEST_F(ConsoleTest, GetCustomerRefusesABadIdAndNamesAnUnknownCustomer) {
  Start();
  v1::Customer customer;
  for (int64_t bad : {int64_t{0}, int64_t{-5}}) {
    const grpc::Status status = GetCustomer(bad, &customer);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(
        status.error_message(),
        HasSubstr(absl::StrCat("ncodpers: must be positive, got ", bad)));
  }
  const grpc::Status unknown = GetCustomer(kUnknownCustomer, &customer);
  EXPECT_EQ(unknown.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(
      unknown.error_message(),
      HasSubstr(absl::StrCat("customer ", kUnknownCustomer, " is not known")));
}

TEST_F(ConsoleTest, HttpGetCustomerIsTheGrpcAnswerAsJson) {
  Start();
  const RawRecord may = MayCustomer();
  v1::Customer over_grpc;
  ASSERT_TRUE(GetCustomer(may.ncodpers.value, &over_grpc).ok());
  const HttpAnswer answer =
      Get(absl::StrCat("/v1/customers/", may.ncodpers.value));
  ASSERT_EQ(answer.status, 200) << answer.body;
  EXPECT_EQ(Header(answer, "X-Content-Type-Options"), "nosniff");
  v1::Customer over_http;
  ASSERT_TRUE(
      google::protobuf::util::JsonStringToMessage(answer.body, &over_http).ok())
      << answer.body;
  EXPECT_TRUE(MessageDifferencer::Equals(over_http, over_grpc));
}

TEST_F(ConsoleTest, HttpGetCustomerErrorsMapLikeTheGateways) {
  Start();
  const HttpAnswer zero = Get("/v1/customers/0");
  EXPECT_EQ(zero.status, 400);
  EXPECT_EQ(zero.json["code"], 3);  // INVALID_ARGUMENT
  EXPECT_THAT(zero.json["message"].get<std::string>(),
              HasSubstr("ncodpers: must be positive, got 0"));
  const HttpAnswer text = Get("/v1/customers/abc");
  EXPECT_EQ(text.status, 400);
  EXPECT_THAT(text.json["message"].get<std::string>(),
              HasSubstr("ncodpers: must be a positive integer, got \"abc\""));
  const HttpAnswer unknown =
      Get(absl::StrCat("/v1/customers/", kUnknownCustomer));
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(unknown.json["code"], 5);  // NOT_FOUND
  EXPECT_THAT(unknown.json["message"].get<std::string>(),
              HasSubstr(absl::StrCat("customer ", kUnknownCustomer)));
}

TEST_F(ConsoleTest,
       WithoutARecordsDatabaseTheHistoryAloneDescribesTheCustomer) {
  Start(/*with_records=*/false);
  const RawRecord may = MayCustomer();
  v1::Customer customer;
  ASSERT_TRUE(GetCustomer(may.ncodpers.value, &customer).ok());
  EXPECT_FALSE(customer.has_record());
  EXPECT_EQ(customer.record_month(), "");
  EXPECT_FALSE(customer.history().empty());
}

TEST_F(ConsoleTest, TheConsoleIsServedWithAStrictContentSecurityPolicy) {
  Start();
  const HttpAnswer page = Get("/");
  ASSERT_EQ(page.status, 200);
  EXPECT_THAT(Header(page, "Content-Type"), HasSubstr("text/html"));
  EXPECT_THAT(Header(page, "Content-Security-Policy"),
              HasSubstr("default-src 'self'"));
  EXPECT_EQ(Header(page, "X-Content-Type-Options"), "nosniff");
  EXPECT_THAT(page.body, HasSubstr("<script src=\"/console/app.js\""));
  EXPECT_THAT(page.body, ::testing::Not(HasSubstr("http://")));
  EXPECT_THAT(page.body, ::testing::Not(HasSubstr("https://")));
  const HttpAnswer script = Get("/console/app.js");
  ASSERT_EQ(script.status, 200);
  EXPECT_THAT(Header(script, "Content-Type"), HasSubstr("text/javascript"));
  EXPECT_THAT(Header(script, "Content-Security-Policy"),
              HasSubstr("default-src 'self'"));
  EXPECT_EQ(Get("/console/style.css").status, 200);
  EXPECT_EQ(Get("/console/missing.js").status, 404);
  const HttpAnswer config = Get("/console/config.json");
  EXPECT_EQ(config.json["model"], "santander");
}

// The value of `series`{feature="F"} in a Prometheus exposition.
std::optional<double> Scraped(const std::string& text,
                              const std::string& line_start) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (!absl::StartsWith(line, line_start)) continue;
    double value = 0;
    if (absl::SimpleAtod(line.substr(line.rfind(' ') + 1), &value))
      return value;
  }
  return std::nullopt;
}

TEST_F(ConsoleTest, DriftJsonShowsThePsiTheMetricsExport) {
  Start();
  std::vector<RawRecord> rows = ReadRecords(h_->fixture().test_csv, 120);
  ASSERT_GE(rows.size(), 100u);
  for (const RawRecord& row : rows) {
    ASSERT_TRUE(h_->client().Recommend(RequestFor(row)).ok());
  }
  const HttpAnswer drift = Get("/v1/models/santander/drift");
  ASSERT_EQ(drift.status, 200) << drift.body;
  EXPECT_EQ(drift.json["serving"], true);
  EXPECT_EQ(drift.json["version"], "1");
  EXPECT_EQ(drift.json["month"], "2016-06");
  EXPECT_EQ(drift.json["rowsSeen"], static_cast<int64_t>(rows.size()));
  EXPECT_EQ(drift.json["thresholds"]["moderate"], 0.1);
  EXPECT_EQ(drift.json["thresholds"]["major"], 0.25);
  const std::string scrape = metrics_->Scrape();
  int compared = 0;
  for (const nlohmann::json& f : drift.json["features"]) {
    if (f["psi"].is_null()) continue;
    std::optional<double> exported =
        Scraped(scrape, absl::StrCat("recsys_feature_psi{feature=\"",
                                     f["feature"].get<std::string>(), "\"}"));
    ASSERT_TRUE(exported.has_value()) << f;
    EXPECT_NEAR(f["psi"].get<double>(), *exported, 1e-9) << f;
    ++compared;
  }
  EXPECT_GT(compared, 0) << drift.body;
  std::optional<double> prediction_psi =
      Scraped(scrape, "recsys_prediction_psi ");
  ASSERT_TRUE(prediction_psi.has_value());
  EXPECT_NEAR(drift.json["predictionPsi"].get<double>(), *prediction_psi, 1e-9);
  double shares = 0;
  for (const nlohmann::json& p : drift.json["predictionMix"])
    shares += p["share"].get<double>();
  EXPECT_NEAR(shares, 1.0, 1e-9);
  EXPECT_EQ(drift.json["predictionMix"].size(), kNumProducts);
  EXPECT_EQ(Get("/v1/models/other/drift").status, 404);
}

TEST_F(ConsoleTest, ReloadsListTheFirstLoadAndSwap) {
  Start();
  const HttpAnswer reloads = Get("/v1/models/santander/reloads");
  ASSERT_EQ(reloads.status, 200) << reloads.body;
  const nlohmann::json& events = reloads.json["events"];
  ASSERT_GE(events.size(), 2u) << reloads.body;
  EXPECT_EQ(events[0]["kind"], "loaded");
  EXPECT_EQ(events[0]["version"], "1");
  EXPECT_EQ(events[1]["kind"], "swap");
  EXPECT_EQ(events[1]["version"], "1");
  EXPECT_EQ(events[1]["previous"], "0");
  EXPECT_GT(reloads.json["capacity"].get<int>(), 0);
}

}  // namespace
}  // namespace recsys::testing
