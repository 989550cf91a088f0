// recsys-console-fixture: a live recsys server for the web console's browser
// test (tests/console_browser_test.py) and its screenshot (docs/console.png).
// It serves the trained test bundle (tests/trained_fixture.h) with the
// HTTP/JSON gateway and a records database ingested from the same synthetic
// train file, scores the first --score-rows customers of the test month (so
// the drift panel has a PSI), then prints one JSON line on stdout:
//   {"url": "http://127.0.0.1:PORT/", "customer": N, "unknown": M}
// (N: a customer with a record and a history; M: a code nobody has) and
// serves until its stdin closes, then stops and removes its files.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "client/recommender_client.h"
#include "nlohmann/json.hpp"
#include "records/ingest.h"
#include "records/records_db.h"
#include "server/metrics.h"
#include "server/server.h"
#include "tests/server_e2e_util.h"
#include "tests/trained_fixture.h"

namespace recsys::testing {
namespace {

int Fail(const std::string& what, const absl::Status& status) {
  std::cerr << "recsys-console-fixture: " << what << ": " << status << "\n";
  return 1;
}

int Run(int score_rows) {
  absl::StatusOr<TrainedFixture> fixture = GetTrainedFixture();
  if (!fixture.ok()) return Fail("trained fixture", fixture.status());
  const std::string dir = NewTempDir("console-fixture");
  const std::string store = dir + "/store";
  const std::string records = dir + "/records.db";
  absl::StatusOr<std::string> bundle =
      InstallBundle(fixture->bundle_dir, store, fixture->model_name, 1);
  if (!bundle.ok()) return Fail("install bundle", bundle.status());
  {
    auto db = RecordsDb::Open(records, {});
    if (!db.ok()) return Fail("records database", db.status());
    auto report = IngestFile(db->get(), fixture->train_csv, {});
    if (!report.ok()) return Fail("ingest", report.status());
  }
  MetricsOptions metrics_options;
  metrics_options.port = -1;
  metrics_options.drift_window = 1000;
  metrics_options.drift_min_rows = 200;
  auto metrics = ServerMetrics::Create(metrics_options);
  if (!metrics.ok()) return Fail("metrics", metrics.status());
  RecsysServerOptions options;
  options.store_dir = store;
  options.model_name = fixture->model_name;
  options.port = 0;
  options.http_port = 0;
  options.workers = 2;
  options.records_db = records;
  options.metrics = metrics->get();
  options.admin_insecure = false;
  auto server = RecsysServer::Create(options);
  if (!server.ok()) return Fail("server", server.status());
  if (absl::Status started = (*server)->Start(); !started.ok())
    return Fail("start", started);
  if (!WaitFor([&] { return (*server)->serving(); }, absl::Seconds(120)))
    return Fail("serving", absl::DeadlineExceededError("no model served"));

  ClientOptions client_options;
  client_options.server = (*server)->address();
  auto client = RecommenderClient::Create(client_options);
  if (!client.ok()) return Fail("client", client.status());
  for (const RawRecord& row : ReadRecords(fixture->test_csv, score_rows)) {
    auto answer = (*client)->Recommend(RequestFor(row));
    if (!answer.ok()) return Fail("scoring the test month", answer.status());
  }
  // A customer of the newest month who owned something (so the history
  // table has rows).
  std::vector<RawRecord> may =
      ReadRecords(fixture->train_csv, 1, [](const RawRecord& r) {
        return r.fecha_dato.value.ToString() == "2016-05-28" &&
               r.products_missing == 0 && r.products != 0;
      });
  if (may.empty())
    return Fail("customer", absl::NotFoundError("no May customer"));
  const nlohmann::json ready = {
      {"url", absl::StrCat("http://127.0.0.1:", (*server)->http_port(), "/")},
      {"customer", may[0].ncodpers.value},
      {"unknown", 987654321}};
  std::cout << ready.dump() << std::endl;

  char buffer[256];
  while (::read(STDIN_FILENO, buffer, sizeof(buffer)) > 0) {
  }
  (*server)->Shutdown();
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
  return 0;
}

}  // namespace
}  // namespace recsys::testing

int main(int argc, char** argv) {
  int score_rows = 600;
  if (argc > 1 && !absl::SimpleAtoi(argv[1], &score_rows)) {
    std::cerr << "usage: recsys-console-fixture [ROWS_TO_SCORE]\n";
    return 2;
  }
  return recsys::testing::Run(score_rows);
}
