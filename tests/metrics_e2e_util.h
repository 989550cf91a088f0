// Fixture helpers of the metrics end-to-end tests: a tiny real model store
// (synthetic data from the generator, a few boosting rounds), a real server on
// 127.0.0.1:0 with real metrics, traffic through the client library, and a
// scrape of http://127.0.0.1:<metrics port>/metrics.
//
//   TinyStore store = MakeTinyStore("metrics_e2e", /*with_drift_month=*/false);
//   LiveServer server = StartServer(store.store_dir, metrics_options);
//   BatchScoreSummary summary = ScoreFile(server, store.test_csv);
//   Exposition e = ScrapeParsed(server);
#ifndef RECSYS_TESTS_METRICS_E2E_UTIL_H_
#define RECSYS_TESTS_METRICS_E2E_UTIL_H_

#include <unistd.h>

#include <filesystem>
#include <memory>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "client/batch_scorer.h"
#include "client/recommender_client.h"
#include "common/raw_reader.h"
#include "featurizer/feature_spec.h"
#include "gtest/gtest.h"
#include "server/metrics.h"
#include "server/metrics_testing.h"
#include "server/server.h"
#include "training/generator.h"
#include "training/trainer.h"

namespace recsys::metrics_e2e {

// Customers of the generated data set: about 11,800 rows in the test month,
// enough for a stable PSI over a 10,000-row window.
inline constexpr int64_t kCustomers = 12000;
inline constexpr uint64_t kSeed = 3;

struct TinyStore {
  std::string root;       // everything below is inside
  std::string store_dir;  // one published version of "santander"
  std::string test_csv;   // the ordinary test month
  std::string
      drift_csv;  // the same month generated with --drift ("" if not made)
  std::string feature_spec_hash;
  // Removes `root` when the last copy goes.
  std::shared_ptr<const void> cleanup;
};

// Generates the data (and, when asked, the --drift variant of the same seed)
// and trains + publishes version 1 with small settings. Fails the test (and
// returns what it has) on any error.
inline TinyStore MakeTinyStore(const std::string& name, bool with_drift_month) {
  TinyStore out;
  out.root = absl::StrCat(::testing::TempDir(), "/", name, "_", getpid());
  std::filesystem::remove_all(out.root);
  out.cleanup =
      std::shared_ptr<const void>(nullptr, [root = out.root](const void*) {
        std::error_code ec;
        std::filesystem::remove_all(root, ec);
      });
  GeneratorOptions gen;
  gen.customers = kCustomers;
  gen.seed = kSeed;
  gen.out_dir = out.root + "/data";
  absl::Status s = GenerateDataset(gen);
  EXPECT_TRUE(s.ok()) << s;
  out.test_csv = absl::StrCat(gen.out_dir, "/", kTestFileName);
  if (with_drift_month) {
    gen.drift = true;
    gen.out_dir = out.root + "/drift";
    s = GenerateDataset(gen);
    EXPECT_TRUE(s.ok()) << s;
    out.drift_csv = absl::StrCat(gen.out_dir, "/", kTestFileName);
  }
  TrainRunOptions train;
  train.train_csv = absl::StrCat(out.root, "/data/", kTrainFileName);
  out.store_dir = out.root + "/models";
  train.store_dir = out.store_dir;
  train.config.feature_spec = RECSYS_SOURCE_DIR "/config/feature_spec.json";
  train.config.max_rounds = 5;
  train.config.retrain_on_all = false;
  train.config.reference_sample = 3000;
  train.config.nthread =
      1;  // OpenMP threads spin-wait badly on a busy 2-core machine
  absl::StatusOr<TrainRunResult> result = RunTraining(train);
  EXPECT_TRUE(result.ok()) << result.status();
  absl::StatusOr<FeatureSpec> spec = LoadFeatureSpec(train.config.feature_spec);
  EXPECT_TRUE(spec.ok()) << spec.status();
  if (spec.ok()) out.feature_spec_hash = spec->SpecHash();
  return out;
}

// A started server with its metrics (which must outlive it: declared first).
struct LiveServer {
  std::unique_ptr<ServerMetrics> metrics;
  std::unique_ptr<RecsysServer> server;
  std::unique_ptr<RecommenderClient> client;

  ~LiveServer() {
    if (server != nullptr) server->Shutdown();
    server.reset();
  }
};

inline std::unique_ptr<LiveServer> StartServer(const std::string& store_dir,
                                               MetricsOptions metrics_options) {
  auto live = std::make_unique<LiveServer>();
  metrics_options.bind = "127.0.0.1";
  metrics_options.port = 0;
  absl::StatusOr<std::unique_ptr<ServerMetrics>> metrics =
      ServerMetrics::Create(metrics_options);
  EXPECT_TRUE(metrics.ok()) << metrics.status();
  if (!metrics.ok()) return live;
  live->metrics = *std::move(metrics);
  RecsysServerOptions options;
  options.store_dir = store_dir;
  options.port = 0;
  options.workers = 2;
  options.use_inotify = false;
  options.metrics = live->metrics.get();
  absl::StatusOr<std::unique_ptr<RecsysServer>> server =
      RecsysServer::Create(options);
  EXPECT_TRUE(server.ok()) << server.status();
  if (!server.ok()) return live;
  live->server = *std::move(server);
  absl::Status started = live->server->Start();
  EXPECT_TRUE(started.ok()) << started;
  EXPECT_TRUE(live->server->serving()) << "no model version is serving";
  ClientOptions client_options;
  client_options.server = live->server->address();
  absl::StatusOr<std::unique_ptr<RecommenderClient>> client =
      RecommenderClient::Create(client_options);
  EXPECT_TRUE(client.ok()) << client.status();
  if (client.ok()) {
    live->client = *std::move(client);
    EXPECT_TRUE(live->client->WaitForConnected(absl::Seconds(10)).ok());
  }
  return live;
}

// Streams every row of `csv` through RecommendStream (the client's batch
// scorer); the submission and errors are discarded.
inline BatchScoreSummary ScoreFile(LiveServer& live, const std::string& csv) {
  absl::StatusOr<std::unique_ptr<RawReader>> reader = RawReader::Open(csv);
  EXPECT_TRUE(reader.ok()) << reader.status();
  absl::StatusOr<std::unique_ptr<BatchScorer>> scorer =
      BatchScorer::Create(live.client->recommender_stub(), {});
  EXPECT_TRUE(scorer.ok()) << scorer.status();
  if (!reader.ok() || !scorer.ok()) return {};
  std::ostringstream submission, errors;
  absl::StatusOr<BatchScoreSummary> summary =
      (*scorer)->Run(reader->get(), &submission, &errors);
  EXPECT_TRUE(summary.ok()) << summary.status();
  return summary.ok() ? *summary : BatchScoreSummary{};
}

// GET /metrics of the live server.
inline std::string ScrapeText(const LiveServer& live) {
  absl::StatusOr<std::string> text =
      metrics_testing::HttpGet(live.metrics->port(), "/metrics");
  EXPECT_TRUE(text.ok()) << text.status();
  return text.ok() ? *text : "";
}

}  // namespace recsys::metrics_e2e

#endif  // RECSYS_TESTS_METRICS_E2E_UTIL_H_
