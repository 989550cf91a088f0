// Training and serving agree, bit for bit. For the same raw rows, the feature
// vectors and scores the training pipeline computes offline (the bundle's
// Featurizer and Booster, fed by RawReader rows and product history) equal
// what the server computes online from those rows sent through the client
// codec and the wire:
//   - test-month rows (2016-06), history from the bundle's snapshot;
//   - last-training-month rows (2016-05), history built from the train file
//     as the training pipeline builds it and sent explicitly in the request
//     (the offline features are also checked against BuildDataset's);
//   - real rows of the Kaggle test file (unknown to the synthetic snapshot).
// Features are read from the server through its metrics hook (ObserveBatch
// receives the scored rows' features); scores from the responses.
#include <cmath>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/date.h"
#include "common/file_util.h"
#include "common/ranking.h"
#include "common/raw_reader.h"
#include "featurizer/cleaning.h"
#include "featurizer/feature_spec.h"
#include "featurizer/featurizer.h"
#include "featurizer/product_history.h"
#include "featurizer/vocabulary.h"
#include "gtest/gtest.h"
#include "model_store/booster.h"
#include "model_store/bundle.h"
#include "tests/server_e2e_util.h"
#include "training/dataset.h"

namespace recsys {
namespace {

using testing::ServerHarness;

// Keeps the features of every scored batch (the server calls it on the
// worker before finishing the call).
class RecordingMetrics final : public NullMetrics {
 public:
  void ObserveBatch(const ModelVersion& version, const float* features,
                    int64_t rows, const TopKResult*, const int*) override {
    absl::MutexLock lock(&mu_);
    batches_.emplace_back(features, features + rows * version.num_features());
  }

  std::vector<std::vector<float>> Take() {
    absl::MutexLock lock(&mu_);
    return std::move(batches_);
  }

 private:
  absl::Mutex mu_;
  std::vector<std::vector<float>> batches_ ABSL_GUARDED_BY(mu_);
};

// The bundle's model, read the way the training pipeline made it.
struct OfflineModel {
  std::unique_ptr<const Featurizer> featurizer;
  std::unique_ptr<Booster> booster;
  std::shared_ptr<const ProductHistorySnapshot> snapshot;
  int num_features = 0;
};

absl::StatusOr<OfflineModel> LoadOffline(const std::string& bundle_dir) {
  OfflineModel m;
  absl::StatusOr<BundleManifest> manifest = ReadManifest(bundle_dir);
  if (!manifest.ok()) return manifest.status();
  absl::StatusOr<FeatureSpec> spec =
      FeatureSpec::FromJson(manifest->feature_spec);
  if (!spec.ok()) return spec.status();
  absl::StatusOr<Vocabularies> vocabularies =
      Vocabularies::FromJson(manifest->vocabularies);
  if (!vocabularies.ok()) return vocabularies.status();
  absl::StatusOr<std::unique_ptr<const Featurizer>> featurizer =
      Featurizer::Create(*spec, *vocabularies);
  if (!featurizer.ok()) return featurizer.status();
  m.featurizer = *std::move(featurizer);
  absl::StatusOr<std::string> bytes =
      ReadFileToString(bundle_dir + "/" + kModelFile);
  if (!bytes.ok()) return bytes.status();
  absl::StatusOr<std::unique_ptr<Booster>> booster =
      Booster::LoadFromBuffer(*bytes);
  if (!booster.ok()) return booster.status();
  m.booster = *std::move(booster);
  if (absl::Status s = m.booster->SetParam("nthread", "1"); !s.ok()) return s;
  absl::StatusOr<std::shared_ptr<const ProductHistorySnapshot>> snapshot =
      LoadSnapshot(bundle_dir + "/" + kHistoryFile);
  if (!snapshot.ok()) return snapshot.status();
  m.snapshot = *snapshot;
  m.num_features = m.featurizer->num_features();
  return m;
}

// One customer computed offline.
struct OfflineRow {
  RawRecord record;
  HistoryView history;
  bool explicit_history = false;  // send the history in the request
  std::vector<float> features;
  std::vector<float> scores;  // 24
};

bool SameBits(const std::vector<float>& a, const float* b, size_t n) {
  return a.size() == n && std::memcmp(a.data(), b, n * sizeof(float)) == 0;
}

class ParityE2eTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    metrics_ = new RecordingMetrics();
    testing::HarnessOptions options;
    options.metrics = metrics_;
    harness_ = ServerHarness::Start(options).release();
    ASSERT_NE(harness_, nullptr);
    absl::StatusOr<OfflineModel> offline =
        LoadOffline(harness_->fixture().bundle_dir);
    ASSERT_TRUE(offline.ok()) << offline.status();
    offline_ = new OfflineModel(*std::move(offline));
  }
  static void TearDownTestSuite() {
    delete harness_;
    delete metrics_;
    delete offline_;
  }
  void SetUp() override { ASSERT_NE(harness_, nullptr); }

  // Up to `limit` rows of the CSV at `path`, each with the history the
  // bundle's snapshot holds for it (as the server looks it up).
  static std::vector<OfflineRow> RowsWithSnapshotHistory(
      const std::string& path, int limit) {
    std::vector<OfflineRow> rows;
    for (const RawRecord& record : testing::ReadRecords(path, limit)) {
      OfflineRow row;
      row.record = record;
      absl::StatusOr<HistoryView> view = offline_->snapshot->Lookup(
          record.ncodpers.value, record.fecha_dato.value.MonthIndex());
      EXPECT_TRUE(view.ok()) << view.status();
      if (!view.ok()) continue;
      row.history = *view;
      rows.push_back(std::move(row));
    }
    return rows;
  }

  // Featurizes and predicts `rows` offline (history already set).
  void ComputeOffline(std::vector<OfflineRow>* rows) {
    const int nf = offline_->num_features;
    std::vector<float> matrix;
    for (OfflineRow& row : *rows) {
      row.features.resize(nf);
      offline_->featurizer->Featurize(row.record, row.history,
                                      row.features.data());
      matrix.insert(matrix.end(), row.features.begin(), row.features.end());
    }
    std::vector<float> scores(rows->size() * kNumProducts);
    ASSERT_TRUE(offline_->booster
                    ->Predict(matrix.data(), rows->size(), nf, scores.data())
                    .ok());
    for (size_t i = 0; i < rows->size(); ++i) {
      (*rows)[i].scores.assign(scores.begin() + i * kNumProducts,
                               scores.begin() + (i + 1) * kNumProducts);
    }
  }

  static v1::RecommendRequest RequestOf(const OfflineRow& row, int k) {
    v1::RecommendRequest request = testing::RequestFor(row.record, k);
    if (row.explicit_history) {
      for (int lag = 1; lag <= kMaxHistoryMonths; ++lag) {
        if (!row.history.Present(lag)) continue;
        v1::MonthProducts* month = request.add_history();
        month->set_months_ago(lag);
        for (int p = 0; p < kNumProducts; ++p) {
          if (row.history.Owned(lag) & ProductBit(p)) {
            month->add_products(std::string(kProducts[p].column));
          }
        }
      }
    }
    return request;
  }

  static void ExpectSameRanking(
      const OfflineRow& row,
      const google::protobuf::RepeatedPtrField<v1::Recommendation>& got,
      int k) {
    const TopKResult want = TopK(row.scores.data(), row.history.Owned(1), k);
    ASSERT_EQ(got.size(), want.size) << row.record.ncodpers.value;
    for (int i = 0; i < want.size; ++i) {
      EXPECT_EQ(got[i].product(), kProducts[want.items[i].product].column);
      // Bit for bit: the float the server computed, widened exactly.
      EXPECT_EQ(got[i].score(), static_cast<double>(want.items[i].score))
          << "customer " << row.record.ncodpers.value << " rank " << i + 1;
    }
  }

  // Sends each row through Recommend and compares features and scores.
  void ExpectUnaryParity(const std::vector<OfflineRow>& rows) {
    metrics_->Take();
    for (const OfflineRow& row : rows) {
      absl::StatusOr<v1::RecommendResponse> response =
          harness_->client().Recommend(RequestOf(row, kNumProducts));
      ASSERT_TRUE(response.ok()) << response.status();
      EXPECT_EQ(response->history_source(),
                row.explicit_history ? v1::HISTORY_SOURCE_REQUEST
                : row.history.found  ? v1::HISTORY_SOURCE_STORE
                                     : v1::HISTORY_SOURCE_NOT_FOUND);
      const std::vector<std::vector<float>> batches = metrics_->Take();
      ASSERT_EQ(batches.size(), 1u);
      EXPECT_TRUE(SameBits(row.features, batches[0].data(), batches[0].size()))
          << "features of customer " << row.record.ncodpers.value << " differ";
      ExpectSameRanking(row, response->recommendations(), kNumProducts);
    }
  }

  // Sends all rows over one RecommendStream and compares the scores.
  void ExpectStreamParity(const std::vector<OfflineRow>& rows) {
    std::vector<v1::RecommendStreamRequest> messages;
    for (size_t i = 0; i < rows.size(); ++i) {
      if (i % 64 == 0) messages.emplace_back().set_k(7);
      const v1::RecommendRequest request = RequestOf(rows[i], 7);
      v1::ScoreRow* row = messages.back().add_rows();
      row->set_row_id(i);
      *row->mutable_customer() = request.customer();
      *row->mutable_history() = request.history();
    }
    const testing::StreamOutcome outcome =
        testing::RunStream(harness_->stub(), messages);
    ASSERT_TRUE(outcome.status.ok()) << outcome.status.error_message();
    const std::vector<v1::RowResult> results = outcome.Results();
    ASSERT_EQ(results.size(), rows.size());
    for (const v1::RowResult& result : results) {
      ASSERT_TRUE(result.has_recommendations()) << result.error().message();
      ExpectSameRanking(rows[result.row_id()],
                        result.recommendations().recommendations(), 7);
    }
  }

  static RecordingMetrics* metrics_;
  static ServerHarness* harness_;
  static OfflineModel* offline_;
};

RecordingMetrics* ParityE2eTest::metrics_ = nullptr;
ServerHarness* ParityE2eTest::harness_ = nullptr;
OfflineModel* ParityE2eTest::offline_ = nullptr;

TEST_F(ParityE2eTest, TestMonthRowsWithTheSnapshotHistory) {
  std::vector<OfflineRow> rows =
      RowsWithSnapshotHistory(harness_->fixture().test_csv, 250);
  ASSERT_GE(rows.size(), 200u);
  ComputeOffline(&rows);
  int known = 0;
  for (const OfflineRow& row : rows) known += row.history.found;
  EXPECT_GT(known, 100) << "test-month customers are in the snapshot";
  ExpectUnaryParity(rows);
  ExpectStreamParity(rows);
}

TEST_F(ParityE2eTest, LastTrainingMonthRowsWithTheirHistorySentExplicitly) {
  // Replay the train file as the training pipeline does (dataset.cc): for
  // each row, the history before its month, then the row is observed.
  const std::string train = harness_->fixture().train_csv;
  absl::StatusOr<std::unique_ptr<RawReader>> reader = RawReader::Open(train);
  ASSERT_TRUE(reader.ok()) << reader.status();
  const int depth =
      std::max(kDefaultHistoryDepth,
               offline_->featurizer->spec().required_history_months());
  absl::StatusOr<std::unique_ptr<ProductHistoryBuilder>> builder =
      ProductHistoryBuilder::Create({.depth = depth});
  ASSERT_TRUE(builder.ok());
  const int last_month = Date{2016, 5, 28}.MonthIndex();
  std::vector<OfflineRow> rows;
  int current = -1;
  RawRecord record;
  std::vector<RowError> errors;
  while ((*reader)->Next(&record, &errors)) {
    if (!record.fecha_dato.present() || !record.ncodpers.present()) continue;
    const int month = record.fecha_dato.value.MonthIndex();
    if (month != current) {
      ASSERT_TRUE((*builder)->AdvanceTo(month).ok());
      current = month;
    }
    absl::StatusOr<HistoryView> before =
        (*builder)->Lookup(record.ncodpers.value, month);
    ASSERT_TRUE(before.ok());
    // An explicit history carries lags 1..depth and months_since_first_seen
    // as its largest lag: it describes customers first seen within `depth`
    // months and present since.
    if (month == last_month && errors.empty() && before->found &&
        before->first_seen_months_ago <= depth &&
        before->Present(before->first_seen_months_ago)) {
      OfflineRow row;
      row.record = record;
      row.history = *before;
      row.explicit_history = true;
      rows.push_back(std::move(row));
    }
    ASSERT_TRUE(
        (*builder)
            ->Observe(month, record.ncodpers.value, CleanOwnedProducts(record))
            .ok());
  }
  ASSERT_GE(rows.size(), 10u) << "too few recent customers in the last month";
  std::cout << "last-month customers compared: " << rows.size() << "\n";
  ComputeOffline(&rows);
  // What the explicit view gives equals what the builder gave.
  for (OfflineRow& row : rows) {
    std::vector<std::pair<int, ProductMask>> months;
    for (int lag = 1; lag <= depth; ++lag) {
      if (row.history.Present(lag))
        months.emplace_back(lag, row.history.Owned(lag));
    }
    absl::StatusOr<HistoryView> from_request =
        HistoryView::FromExplicit(months);
    ASSERT_TRUE(from_request.ok());
    std::vector<float> features(offline_->num_features);
    offline_->featurizer->Featurize(row.record, *from_request, features.data());
    ASSERT_TRUE(SameBits(row.features, features.data(), features.size()));
  }

  // The same features as the training pipeline's own dataset for the
  // customers who added a product.
  absl::StatusOr<Dataset> dataset =
      BuildDataset(train, *offline_->featurizer, DatasetOptions{});
  ASSERT_TRUE(dataset.ok()) << dataset.status();
  const MonthData* month = dataset->Find(last_month);
  ASSERT_NE(month, nullptr);
  std::map<int64_t, const OfflineRow*> by_customer;
  for (const OfflineRow& row : rows)
    by_customer[row.record.ncodpers.value] = &row;
  int compared = 0;
  for (int64_t i = 0; i < month->adders(); ++i) {
    auto it = by_customer.find(month->ncodpers[i]);
    if (it == by_customer.end()) continue;
    EXPECT_TRUE(SameBits(it->second->features,
                         &month->features[i * offline_->num_features],
                         offline_->num_features));
    ++compared;
  }
  EXPECT_GT(compared, 0) << "no recent customer added a product";
  std::cout << "of them also in BuildDataset: " << compared << "\n";

  ExpectUnaryParity(rows);
  ExpectStreamParity(rows);
}

TEST_F(ParityE2eTest, RealKaggleTestRows) {
  const std::string path =
      RECSYS_SHARED_DIR "/data/real/test_ver2_first38171_excel.csv";
  if (!std::filesystem::exists(path))
    GTEST_SKIP() << "no real rows at " << path;
  std::vector<OfflineRow> rows = RowsWithSnapshotHistory(path, 300);
  ASSERT_GE(rows.size(), 100u);
  ComputeOffline(&rows);
  ExpectUnaryParity(rows);
}

}  // namespace
}  // namespace recsys
