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
#include "common/raw_reader.h"
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
  static std::unique_ptr<ModelStore> OpenStore(PredictorChoice predictor) {
    ModelStoreOptions options;
    options.store_dir = *store_dir_;
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

}  // namespace
}  // namespace recsys
