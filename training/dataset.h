// The training data the Kaggle task implies, built by streaming
// train_ver2.csv (or the records database) month by month through the
// featurizer.
//
// For each customer-month whose products include one not owned the month
// before, the dataset keeps the customer's feature vector (demographics of
// that month, product history of the months before) and the set of added
// products; the trainer expands it into one training row per added product.
// Every month also keeps its customer count (MAP@7 averages over all
// customers) and its additions per product (the popularity baseline). The
// first month of the file has no previous month, so it has no labels.
//
//   RECSYS_ASSIGN_OR_RETURN(Vocabularies vocab, LearnVocabularies(path, spec));
//   RECSYS_ASSIGN_OR_RETURN(auto featurizer, Featurizer::Create(spec, vocab));
//   RECSYS_ASSIGN_OR_RETURN(Dataset data,
//                           BuildDataset(path, *featurizer, DatasetOptions{}));
#ifndef RECSYS_TRAINING_DATASET_H_
#define RECSYS_TRAINING_DATASET_H_

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/progress.h"
#include "common/products.h"
#include "common/raw_reader.h"
#include "featurizer/feature_spec.h"
#include "featurizer/featurizer.h"
#include "featurizer/product_history.h"
#include "featurizer/vocabulary.h"
#include "records/records_reader.h"

namespace recsys {

// One month of the file.
struct MonthData {
  int month = 0;          // month index (Date::MonthIndex)
  int64_t customers = 0;  // rows (customers) in the month
  bool labeled = false;   // the previous month is in the file
  // Customers who added at least one product (labeled months only):
  std::vector<float> features;          // row-major, one row per customer
  std::vector<ProductMask> added;       // products added
  std::vector<ProductMask> owned_last;  // products owned the month before
  std::vector<int64_t> ncodpers;
  std::array<int64_t, kNumProducts> additions{};  // per product

  int64_t adders() const { return static_cast<int64_t>(added.size()); }
};

struct DatasetOptions {
  // Rows of the last month sampled (uniformly, seeded) for reference
  // distributions and the prediction reference. Default 100000.
  int reference_sample = 100000;
  // Seed of the sampling. Default 1.
  uint64_t seed = 1;
  // Months of product history kept; at least the spec's requirement.
  // Default kDefaultHistoryDepth.
  int history_depth = kDefaultHistoryDepth;
  // Accept a file whose last row has no line end, or with a month of fewer
  // than kPartialMonthFraction of its neighbours' rows (see BuildDataset).
  // Default false.
  bool allow_partial_months = false;
  // Row errors printed (all are counted). Default 20.
  int max_errors_reported = 20;
  // Called with progress lines ("2015-03: 631,212 rows ..."). Default none.
  std::function<void(const std::string&)> log;
  // The pass over the file as a progress phase "pass 2/2: features" (bytes
  // read of the file's size). Borrowed. Default none.
  Progress* progress = nullptr;
};

struct Dataset {
  int num_features = 0;
  std::vector<MonthData> months;  // in file order (increasing month)
  // A uniform sample of the last month's customers: feature rows and the
  // products each owned the month before.
  std::vector<float> reference_rows;
  std::vector<ProductMask> reference_owned_last;
  // Product history after the last month: serves the month after it.
  std::shared_ptr<const ProductHistorySnapshot> history;
  int64_t rows = 0;
  int64_t rows_with_errors =
      0;                     // counted; invalid fields are cleaned as missing
  int64_t rows_skipped = 0;  // no usable fecha_dato or ncodpers

  // The month with index `month`, or nullptr.
  const MonthData* Find(int month) const;
};

// Where the training rows come from: a train_ver2.csv layout file, or a
// snapshot of the records database (records/records_reader.h), which yields
// the same RawRecords through the same RawReader interface -- so the same rows
// give the same dataset and the same model either way. Copies share the
// snapshot; both passes of a training run read the same one.
class TrainingRows {
 public:
  static TrainingRows FromCsv(std::string path);
  // The months of `db_path` up to `through` ("YYYY-MM"; "" = the newest with
  // products). Errors as RecordsSnapshot::Open.
  static absl::StatusOr<TrainingRows> FromRecordsDb(const std::string& db_path,
                                                    absl::string_view through);

  // A reader from the first row. Errors: those of RawReader::Open, or a
  // test-layout file (no products) as INVALID_ARGUMENT.
  absl::StatusOr<std::unique_ptr<RawReader>> Open() const;
  // The file, or "records.db through 2016-05", for messages.
  const std::string& name() const { return name_; }
  bool is_csv() const { return snapshot_ == nullptr; }

 private:
  std::string name_;
  std::string csv_path_;  // "" for the database
  std::shared_ptr<RecordsSnapshot> snapshot_;
};

// Streams the rows once and learns the vocabularies of `spec`'s categorical
// features from every row. Errors: those of TrainingRows::Open. With
// `progress`, the pass is the phase "pass 1/2: vocabularies".
absl::StatusOr<Vocabularies> LearnVocabularies(const TrainingRows& rows,
                                               const FeatureSpec& spec,
                                               Progress* progress = nullptr);
absl::StatusOr<Vocabularies> LearnVocabularies(const std::string& path,
                                               const FeatureSpec& spec,
                                               Progress* progress = nullptr);

// A month with fewer rows than this fraction of a neighbouring month's (the
// smaller neighbour's when it has two) is partial. Months of the real file
// hold 0.63 to 0.93 million rows each (13.6 million over 17 months) and
// customers stay from month to month, so half a neighbour is far outside
// normal variation.
inline constexpr double kPartialMonthFraction = 0.5;

// Streams the rows month by month and builds the dataset. Returns
// INVALID_ARGUMENT when the file is not in train layout or its months are not
// in increasing order (naming the line), the reader's error on I/O failure.
// Unless options.allow_partial_months, returns DATA_LOSS when a CSV file ends
// inside a row (its last line has no line end: the file was most likely cut
// short) or a month is partial (naming the month, its rows and its
// neighbours' rows).
absl::StatusOr<Dataset> BuildDataset(const TrainingRows& rows,
                                     const Featurizer& featurizer,
                                     const DatasetOptions& options);
absl::StatusOr<Dataset> BuildDataset(const std::string& path,
                                     const Featurizer& featurizer,
                                     const DatasetOptions& options);

}  // namespace recsys

#endif  // RECSYS_TRAINING_DATASET_H_
