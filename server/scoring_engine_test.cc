// ScoringEngine on a real bundle: lone unary calls to an idle server are
// scored on the calling thread when the forest predicts, and get the same
// answer, to the bit, as calls scored on the worker pool.
#include "server/scoring_engine.h"

#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/raw_reader.h"
#include "common/traffic_split.h"
#include "gtest/gtest.h"
#include "model_store/model_store.h"
#include "server/metrics.h"
#include "server/worker_pool.h"
#include "tests/trained_fixture.h"

namespace recsys {
namespace {

// What one Recommend call got, copied out of the engine's buffers.
struct Answer {
  absl::Status status;
  std::vector<ScoredProduct> top;
  HistorySourceKind history = HistorySourceKind::kNotFound;
  int target_month = 0;
  std::thread::id thread;  // where `done` ran
  int64_t version = 0;     // the version that scored the row
};

bool SameAnswer(const Answer& a, const Answer& b) {
  if (a.status != b.status || a.top.size() != b.top.size() ||
      a.history != b.history || a.target_month != b.target_month) {
    return false;
  }
  for (size_t i = 0; i < a.top.size(); ++i) {
    if (a.top[i].product != b.top[i].product ||
        std::memcmp(&a.top[i].score, &b.top[i].score, sizeof(float)) != 0) {
      return false;
    }
  }
  return true;
}

class ScoringEngineTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    absl::StatusOr<testing::TrainedFixture> fixture =
        testing::GetTrainedFixture();
    ASSERT_TRUE(fixture.ok()) << fixture.status();
    store_dir_ = new std::string(testing::NewTempDir("scoring-engine-test"));
    ASSERT_TRUE(testing::InstallBundle(fixture->bundle_dir, *store_dir_,
                                       fixture->model_name, 1)
                    .ok());
    auto reader = RawReader::Open(fixture->test_csv);
    ASSERT_TRUE(reader.ok()) << reader.status();
    customers_ = new std::vector<RawRecord>();
    RawRecord record;
    std::vector<RowError> errors;
    while (customers_->size() < 40 && (*reader)->Next(&record, &errors)) {
      if (errors.empty()) customers_->push_back(record);
    }
  }
  static void TearDownTestSuite() {
    delete customers_;
    delete store_dir_;
  }

  // A store serving the fixture's bundle with `predictor`.
  static std::unique_ptr<ModelStore> OpenStore(
      PredictorChoice predictor, const std::string& dir = *store_dir_) {
    ModelStoreOptions options;
    options.store_dir = dir;
    options.persist_policy = false;
    absl::StatusOr<std::unique_ptr<ModelStore>> store = ModelStore::Create(
        options,
        [predictor](const std::string& dir, int64_t version) {
          ModelLoadOptions load;
          load.predictor = predictor;
          return LoadModelVersionWith(dir, version, load);
        },
        nullptr);
    EXPECT_TRUE(store.ok()) << store.status();
    if (!store.ok()) return nullptr;
    absl::StatusOr<ReloadReport> loaded = (*store)->Reload();
    EXPECT_TRUE(loaded.ok()) << loaded.status();
    return *std::move(store);
  }

  static std::unique_ptr<WorkerPool> Pool(int threads) {
    absl::StatusOr<std::unique_ptr<WorkerPool>> pool =
        WorkerPool::Create({.threads = threads});
    EXPECT_TRUE(pool.ok());
    return *std::move(pool);
  }

  // Starts a Recommend call for `record`; `answer` is filled and `done`
  // notified when the engine answers.
  static void StartRecommend(ScoringEngine& engine, const RawRecord& record,
                             Answer* answer, absl::Notification* done) {
    DecodedRequest request;
    request.record = record;
    request.k = 7;
    engine.Recommend(
        [] { return absl::OkStatus(); }, std::move(request),
        [answer, done](absl::StatusOr<ScoredRows> scored) {
          answer->thread = std::this_thread::get_id();
          if (!scored.ok()) {
            answer->status = scored.status();
          } else {
            const RowScore& row = scored->scores[0];
            answer->status = row.status;
            answer->top.assign(row.top.items.begin(),
                               row.top.items.begin() + row.top.size);
            answer->history = row.history;
            answer->target_month = row.target_month;
            answer->version = scored->ModelOf(0).version();
          }
          done->Notify();
        });
  }

  // Waits (bounded) until no pool task is running: a worker counts a task
  // as done only once it is back for the next one, a moment after the task
  // answered its call.
  static void WaitUntilIdle(const WorkerPool& pool) {
    for (int i = 0; i < 10000 && pool.running() > 0; ++i)
      absl::SleepFor(absl::Milliseconds(1));
    ASSERT_EQ(pool.running(), 0);
  }

  static Answer Recommend(ScoringEngine& engine, const RawRecord& record) {
    Answer answer;
    absl::Notification done;
    StartRecommend(engine, record, &answer, &done);
    done.WaitForNotification();
    return answer;
  }

  static std::string* store_dir_;
  static std::vector<RawRecord>* customers_;
  NullMetrics metrics_;
};

std::string* ScoringEngineTest::store_dir_ = nullptr;
std::vector<RawRecord>* ScoringEngineTest::customers_ = nullptr;

TEST_F(ScoringEngineTest, ALoneCallToAnIdleServerIsScoredOnTheCallingThread) {
  std::unique_ptr<ModelStore> store = OpenStore(PredictorChoice::kAuto);
  ASSERT_NE(store, nullptr);
  ASSERT_NE(store->Current()->forest(), nullptr)
      << store->Current()->predictor_note();
  std::unique_ptr<WorkerPool> pool = Pool(2);
  ScoringEngine engine(store.get(), pool.get(), &metrics_);

  const Answer answer = Recommend(engine, customers_->front());
  ASSERT_TRUE(answer.status.ok()) << answer.status;
  EXPECT_EQ(answer.top.size(), 7u);
  EXPECT_EQ(answer.thread, std::this_thread::get_id());
  EXPECT_EQ(engine.scored_inline(), 1);
  pool->Stop();  // before the engine its tasks use goes
}

TEST_F(ScoringEngineTest, InlineAnswersEqualPooledAnswersToTheBit) {
  std::unique_ptr<ModelStore> store = OpenStore(PredictorChoice::kAuto);
  ASSERT_NE(store, nullptr);
  std::unique_ptr<WorkerPool> pool = Pool(2);
  ScoringEngine inline_engine(store.get(), pool.get(), &metrics_);
  ScoringEngine pooled_engine(store.get(), pool.get(), &metrics_,
                              {.score_lone_calls_inline = false});
  for (const RawRecord& customer : *customers_) {
    WaitUntilIdle(*pool);
    const Answer inline_answer = Recommend(inline_engine, customer);
    const Answer pooled_answer = Recommend(pooled_engine, customer);
    EXPECT_EQ(inline_answer.thread, std::this_thread::get_id());
    EXPECT_NE(pooled_answer.thread, std::this_thread::get_id());
    EXPECT_TRUE(SameAnswer(inline_answer, pooled_answer))
        << "customer " << customer.ncodpers.value;
  }
  EXPECT_EQ(inline_engine.scored_inline(),
            static_cast<int64_t>(customers_->size()));
  EXPECT_EQ(pooled_engine.scored_inline(), 0);
  pool->Stop();  // before the engine its tasks use goes
}

TEST_F(ScoringEngineTest, XgboostIsNeverCalledOffThePool) {
  // XGBoost keeps prediction buffers per thread: only the pool's fixed
  // threads may predict with it.
  std::unique_ptr<ModelStore> store = OpenStore(PredictorChoice::kXgboost);
  ASSERT_NE(store, nullptr);
  ASSERT_EQ(store->Current()->forest(), nullptr);
  std::unique_ptr<WorkerPool> pool = Pool(2);
  ScoringEngine engine(store.get(), pool.get(), &metrics_);

  const Answer answer = Recommend(engine, customers_->front());
  ASSERT_TRUE(answer.status.ok()) << answer.status;
  EXPECT_NE(answer.thread, std::this_thread::get_id());
  EXPECT_EQ(engine.scored_inline(), 0);
  pool->Stop();  // before the engine its tasks use goes
}

TEST_F(ScoringEngineTest, AnExplainedCallIsExplainedOnThePoolNeverInline) {
  // Explaining predicts with XGBoost (TreeSHAP), even when the forest
  // scores: the call goes through the pool's fixed threads.
  std::unique_ptr<ModelStore> store = OpenStore(PredictorChoice::kAuto);
  ASSERT_NE(store, nullptr);
  ASSERT_NE(store->Current()->forest(), nullptr);
  std::unique_ptr<WorkerPool> pool = Pool(2);
  ScoringEngine engine(store.get(), pool.get(), &metrics_);
  DecodedRequest request;
  request.record = customers_->front();
  request.k = 3;
  request.explain = true;
  request.explain_features = 4;
  std::thread::id thread;
  std::vector<ProductExplanation> why;
  int products = 0;
  absl::Notification done;
  engine.Recommend(
      [] { return absl::OkStatus(); }, std::move(request),
      [&](absl::StatusOr<ScoredRows> scored) {
        thread = std::this_thread::get_id();
        if (scored.ok() && scored->scores[0].status.ok() &&
            scored->explanations.size() == 1) {
          why = scored->explanations[0];
          products = scored->scores[0].top.size;
          for (int i = 0; i < products && i < static_cast<int>(why.size());
               ++i) {
            if (why[i].product != scored->scores[0].top.items[i].product)
              products = -1;
          }
        }
        done.Notify();
      });
  done.WaitForNotification();
  EXPECT_NE(thread, std::this_thread::get_id());
  EXPECT_EQ(engine.scored_inline(), 0);
  ASSERT_EQ(products, 3);  // the call's k, in rank order
  ASSERT_EQ(why.size(), 3u);
  for (const ProductExplanation& e : why) EXPECT_LE(e.features.size(), 4u);

  // A plain call afterwards is inline again, and carries no explanation.
  WaitUntilIdle(*pool);
  const Answer plain = Recommend(engine, customers_->front());
  EXPECT_EQ(plain.thread, std::this_thread::get_id());
  EXPECT_EQ(engine.scored_inline(), 1);
  pool->Stop();  // before the engine its tasks use goes
}

TEST_F(ScoringEngineTest, ACallThatArrivesWhileEveryWorkerIsBusyQueues) {
  std::unique_ptr<ModelStore> store = OpenStore(PredictorChoice::kAuto);
  ASSERT_NE(store, nullptr);
  std::unique_ptr<WorkerPool> pool = Pool(1);
  ScoringEngine engine(store.get(), pool.get(), &metrics_);
  absl::Notification busy, release;
  pool->Submit([&](int) {
    busy.Notify();
    release.WaitForNotification();
  });
  busy.WaitForNotification();

  Answer answer;
  absl::Notification done;
  StartRecommend(engine, customers_->front(), &answer, &done);
  EXPECT_FALSE(done.HasBeenNotified());  // queued behind the busy worker
  release.Notify();
  done.WaitForNotification();
  ASSERT_TRUE(answer.status.ok()) << answer.status;
  EXPECT_NE(answer.thread, std::this_thread::get_id());
  EXPECT_EQ(engine.scored_inline(), 0);
  pool->Stop();  // before the engine its tasks use goes
}

// Calls that queue while the only worker is busy are scored together in one
// batch when it frees, and each gets exactly the answer it gets alone.
TEST_F(ScoringEngineTest, CallsQueuedBehindABusyWorkerAreScoredInOneBatch) {
  std::unique_ptr<ModelStore> store = OpenStore(PredictorChoice::kAuto);
  ASSERT_NE(store, nullptr);
  absl::StatusOr<std::unique_ptr<ServerMetrics>> metrics =
      ServerMetrics::Create({.port = -1});
  ASSERT_TRUE(metrics.ok());
  std::unique_ptr<WorkerPool> pool = Pool(1);
  ScoringEngine engine(store.get(), pool.get(), metrics->get());
  constexpr int kCalls = 6;
  ASSERT_GE(customers_->size(), static_cast<size_t>(kCalls));
  std::vector<Answer> alone;
  for (int i = 0; i < kCalls; ++i)
    alone.push_back(Recommend(engine, (*customers_)[i]));
  WaitUntilIdle(*pool);
  const std::string before = (*metrics)->Scrape();

  absl::Notification busy, release;
  pool->Submit([&](int) {
    busy.Notify();
    release.WaitForNotification();
  });
  busy.WaitForNotification();
  std::vector<Answer> together(kCalls);
  std::vector<absl::Notification> done(kCalls);
  for (int i = 0; i < kCalls; ++i)
    StartRecommend(engine, (*customers_)[i], &together[i], &done[i]);
  release.Notify();
  for (absl::Notification& d : done) d.WaitForNotification();

  for (int i = 0; i < kCalls; ++i) {
    SCOPED_TRACE(i);
    ASSERT_TRUE(together[i].status.ok()) << together[i].status;
    EXPECT_TRUE(SameAnswer(together[i], alone[i]));
  }
  // Before: kCalls lone calls (scored inline or in batches of one); after:
  // one more batch, of kCalls calls.
  const std::string after = (*metrics)->Scrape();
  auto value = [](const std::string& text, absl::string_view series) {
    const size_t at = text.find(absl::StrCat("\n", series, " "));
    EXPECT_NE(at, std::string::npos) << series << " not in " << text;
    double v = -1;
    if (at != std::string::npos) {
      const size_t begin = at + series.size() + 2;
      EXPECT_TRUE(absl::SimpleAtod(
          text.substr(begin, text.find('\n', begin) - begin), &v));
    }
    return v;
  };
  EXPECT_EQ(value(after, "recsys_unary_batch_calls_count") -
                value(before, "recsys_unary_batch_calls_count"),
            1);
  EXPECT_EQ(value(after, "recsys_unary_batch_calls_sum") -
                value(before, "recsys_unary_batch_calls_sum"),
            kCalls);
  pool->Stop();  // before the engine its tasks use goes
}

// --- Champion and challenger ---

// A store whose version 1 is the fixture's model and version 2 another
// model (different scores, same features); `both` installs both, else only
// `only`.
std::string StoreWith(const std::vector<int64_t>& versions) {
  absl::StatusOr<testing::TrainedFixture> fixture =
      testing::GetTrainedFixture();
  EXPECT_TRUE(fixture.ok()) << fixture.status();
  const std::string dir = testing::NewTempDir("scoring-engine-challenger");
  for (int64_t v : versions) {
    EXPECT_TRUE(testing::InstallBundle(v == 1 ? fixture->bundle_dir
                                              : fixture->alt_bundle_dir,
                                       dir, fixture->model_name, v)
                    .ok());
  }
  return dir;
}

// The rows of a stream message as the engine answered them, copied out.
struct StreamAnswer {
  absl::Status status;
  std::vector<Answer> rows;
};

// Scores `customers` as one stream message naming `version`; row i names
// row_versions[i] when given (as a batch of unary calls would).
StreamAnswer ScoreAll(ScoringEngine& engine,
                      const std::vector<RawRecord>& customers,
                      VersionSelector version = {},
                      const std::vector<VersionSelector>& row_versions = {}) {
  StreamAnswer out;
  absl::Notification done;
  engine.ScoreRows(
      [] { return absl::OkStatus(); }, 7,
      [&customers, &row_versions](std::vector<DecodedRequest>* rows) {
        for (size_t i = 0; i < customers.size(); ++i) {
          DecodedRequest request;
          request.record = customers[i];
          request.k = 7;
          if (!row_versions.empty()) request.model_version = row_versions[i];
          rows->push_back(std::move(request));
        }
      },
      [&](absl::StatusOr<ScoredRows> scored) {
        out.status = scored.status();
        if (scored.ok()) {
          for (size_t i = 0; i < scored->scores.size(); ++i) {
            const RowScore& row = scored->scores[i];
            Answer a;
            a.status = row.status;
            a.top.assign(row.top.items.begin(),
                         row.top.items.begin() + row.top.size);
            a.history = row.history;
            a.target_month = row.target_month;
            a.version = scored->ModelOf(i).version();
            out.rows.push_back(std::move(a));
          }
        }
        done.Notify();
      },
      version);
  done.WaitForNotification();
  return out;
}

TEST_F(ScoringEngineTest, AMixedBatchIsAnsweredPerRowByEachRowsVersion) {
  std::unique_ptr<ModelStore> both =
      OpenStore(PredictorChoice::kAuto, StoreWith({1, 2}));
  std::unique_ptr<ModelStore> only1 =
      OpenStore(PredictorChoice::kAuto, StoreWith({1}));
  std::unique_ptr<ModelStore> only2 =
      OpenStore(PredictorChoice::kAuto, StoreWith({2}));
  ASSERT_TRUE(both && only1 && only2);
  ASSERT_TRUE(both->Pin(1).ok());
  constexpr double kShare = 0.5;
  ASSERT_TRUE(both->SetChallenger(2, kShare).ok());
  std::unique_ptr<WorkerPool> pool = Pool(2);
  ScoringEngine split(both.get(), pool.get(), &metrics_);
  ScoringEngine alone1(only1.get(), pool.get(), &metrics_);
  ScoringEngine alone2(only2.get(), pool.get(), &metrics_);

  const StreamAnswer mixed = ScoreAll(split, *customers_);
  const StreamAnswer v1 = ScoreAll(alone1, *customers_);
  const StreamAnswer v2 = ScoreAll(alone2, *customers_);
  ASSERT_TRUE(mixed.status.ok() && v1.status.ok() && v2.status.ok());
  ASSERT_EQ(mixed.rows.size(), customers_->size());
  int challenger_rows = 0;
  int differing = 0;  // rows where the two models disagree: the test has teeth
  for (size_t i = 0; i < customers_->size(); ++i) {
    const int64_t id = (*customers_)[i].ncodpers.value;
    const bool to_challenger = RoutesToChallenger(id, kShare);
    challenger_rows += to_challenger ? 1 : 0;
    EXPECT_EQ(mixed.rows[i].version, to_challenger ? 2 : 1) << id;
    EXPECT_TRUE(SameAnswer(mixed.rows[i], to_challenger ? v2.rows[i]
                                                        : v1.rows[i]))
        << "customer " << id;
    differing += SameAnswer(v1.rows[i], v2.rows[i]) ? 0 : 1;
  }
  EXPECT_GT(challenger_rows, 0);
  EXPECT_LT(challenger_rows, static_cast<int>(customers_->size()));
  EXPECT_GT(differing, 0) << "the two models must answer differently";

  // Unary calls (inline or batched): the same version and answer per
  // customer, on every call.
  for (int round = 0; round < 2; ++round) {
    for (size_t i = 0; i < customers_->size(); ++i) {
      WaitUntilIdle(*pool);
      const Answer a = Recommend(split, (*customers_)[i]);
      EXPECT_EQ(a.version, mixed.rows[i].version);
      EXPECT_TRUE(SameAnswer(a, mixed.rows[i]));
    }
  }
  pool->Stop();  // before the engines their tasks use go
}

VersionSelector Named(const std::string& text) {
  absl::StatusOr<VersionSelector> selector = ParseVersionSelector(text);
  EXPECT_TRUE(selector.ok()) << selector.status();
  return selector.ok() ? *selector : VersionSelector();
}

TEST_F(ScoringEngineTest, RowsNamingAVersionAreScoredOnItWithoutRouting) {
  std::unique_ptr<ModelStore> both =
      OpenStore(PredictorChoice::kAuto, StoreWith({1, 2}));
  std::unique_ptr<ModelStore> only1 =
      OpenStore(PredictorChoice::kAuto, StoreWith({1}));
  std::unique_ptr<ModelStore> only2 =
      OpenStore(PredictorChoice::kAuto, StoreWith({2}));
  ASSERT_TRUE(both && only1 && only2);
  ASSERT_TRUE(both->Pin(1).ok());
  ASSERT_TRUE(both->SetChallenger(2, 0.5).ok());
  std::unique_ptr<WorkerPool> pool = Pool(2);
  ScoringEngine engine(both.get(), pool.get(), &metrics_);
  ScoringEngine alone1(only1.get(), pool.get(), &metrics_);
  ScoringEngine alone2(only2.get(), pool.get(), &metrics_);
  const StreamAnswer v1 = ScoreAll(alone1, *customers_);
  const StreamAnswer v2 = ScoreAll(alone2, *customers_);
  ASSERT_TRUE(v1.status.ok() && v2.status.ok());

  // A message naming a version: every row on it, whatever the routing.
  for (const char* name : {"2", "challenger", "latest"}) {
    const StreamAnswer named = ScoreAll(engine, *customers_, Named(name));
    ASSERT_TRUE(named.status.ok()) << name << ": " << named.status;
    for (size_t i = 0; i < customers_->size(); ++i) {
      EXPECT_EQ(named.rows[i].version, 2) << name;
      EXPECT_TRUE(SameAnswer(named.rows[i], v2.rows[i])) << name << " " << i;
    }
  }
  for (const char* name : {"1", "serving", "pinned"}) {
    const StreamAnswer named = ScoreAll(engine, *customers_, Named(name));
    ASSERT_TRUE(named.status.ok()) << name << ": " << named.status;
    for (size_t i = 0; i < customers_->size(); ++i) {
      EXPECT_EQ(named.rows[i].version, 1) << name;
      EXPECT_TRUE(SameAnswer(named.rows[i], v1.rows[i])) << name << " " << i;
    }
  }
  const StreamAnswer missing = ScoreAll(engine, *customers_, Named("7"));
  EXPECT_EQ(missing.status.code(), absl::StatusCode::kNotFound);
  EXPECT_NE(missing.status.message().find("loaded: 1, 2"),
            std::string::npos)
      << missing.status;

  // A batch whose rows name different versions (batched unary calls): each
  // row on its own, a row naming no loaded version fails alone.
  std::vector<VersionSelector> per_row;
  for (size_t i = 0; i < customers_->size(); ++i)
    per_row.push_back(Named(i % 3 == 0 ? "1" : i % 3 == 1 ? "2" : "9"));
  const StreamAnswer mixed = ScoreAll(engine, *customers_, {}, per_row);
  ASSERT_TRUE(mixed.status.ok()) << mixed.status;
  for (size_t i = 0; i < customers_->size(); ++i) {
    if (i % 3 == 2) {
      EXPECT_EQ(mixed.rows[i].status.code(), absl::StatusCode::kNotFound);
      EXPECT_NE(mixed.rows[i].status.message().find("version 9"),
                std::string::npos);
      continue;
    }
    const StreamAnswer& alone = i % 3 == 0 ? v1 : v2;
    EXPECT_EQ(mixed.rows[i].version, i % 3 == 0 ? 1 : 2);
    EXPECT_TRUE(SameAnswer(mixed.rows[i], alone.rows[i])) << i;
  }

  // Unary calls naming a version, inline or pooled.
  for (size_t i = 0; i < 6; ++i) {
    const RawRecord& customer = (*customers_)[i];
    for (const auto& [name, want] :
         std::vector<std::pair<std::string, int64_t>>{
             {"1", 1}, {"2", 2}, {"serving", 1}, {"challenger", 2}}) {
      WaitUntilIdle(*pool);
      Answer a;
      absl::Notification done;
      DecodedRequest request;
      request.record = customer;
      request.k = 7;
      request.model_version = Named(name);
      engine.Recommend(
          [] { return absl::OkStatus(); }, std::move(request),
          [&a, &done](absl::StatusOr<ScoredRows> scored) {
            a.status = scored.ok() ? scored->scores[0].status : scored.status();
            if (scored.ok() && a.status.ok()) {
              const RowScore& row = scored->scores[0];
              a.top.assign(row.top.items.begin(),
                           row.top.items.begin() + row.top.size);
              a.history = row.history;
              a.target_month = row.target_month;
              a.version = scored->ModelOf(0).version();
            }
            done.Notify();
          });
      done.WaitForNotification();
      ASSERT_TRUE(a.status.ok()) << a.status;
      EXPECT_EQ(a.version, want) << name;
      EXPECT_TRUE(SameAnswer(a, want == 1 ? v1.rows[i] : v2.rows[i])) << name;
    }
  }
  pool->Stop();
}

TEST_F(ScoringEngineTest, RowsAreCountedUnderTheVersionThatScoredThem) {
  std::unique_ptr<ModelStore> store =
      OpenStore(PredictorChoice::kAuto, StoreWith({1, 2}));
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Pin(1).ok());
  ASSERT_TRUE(store->SetChallenger(2, 0.5).ok());
  absl::StatusOr<std::unique_ptr<ServerMetrics>> metrics =
      ServerMetrics::Create({.port = -1});
  ASSERT_TRUE(metrics.ok());
  std::unique_ptr<WorkerPool> pool = Pool(2);
  ScoringEngine engine(store.get(), pool.get(), metrics->get());
  ASSERT_TRUE(ScoreAll(engine, *customers_).status.ok());
  int64_t to_challenger = 0;
  for (const RawRecord& c : *customers_)
    to_challenger += RoutesToChallenger(c.ncodpers.value, 0.5) ? 1 : 0;
  const int64_t to_champion =
      static_cast<int64_t>(customers_->size()) - to_challenger;
  const std::string text = (*metrics)->Scrape();
  EXPECT_NE(text.find(absl::StrCat(
                "recsys_version_rows_scored_total{model=\"santander\","
                "version=\"1\"} ",
                to_champion)),
            std::string::npos)
      << text;
  EXPECT_NE(text.find(absl::StrCat(
                "recsys_version_rows_scored_total{model=\"santander\","
                "version=\"2\"} ",
                to_challenger)),
            std::string::npos);
  pool->Stop();
}

}  // namespace
}  // namespace recsys
