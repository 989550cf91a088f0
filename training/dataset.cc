#include "training/dataset.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/date.h"
#include "common/status_macros.h"
#include "featurizer/cleaning.h"
#include "featurizer/history_records.h"
#include "featurizer/labels.h"

namespace recsys {
namespace {

// One pass over the file as a progress phase: bytes read of the file's size,
// updated every few thousand rows.
class PassProgress {
 public:
  PassProgress(Progress* progress, const std::string& phase,
               const std::string& path, const RawReader* reader)
      : progress_(progress), reader_(reader) {
    if (progress_ == nullptr) return;
    std::error_code error;
    const auto size = std::filesystem::file_size(path, error);
    progress_->Start(phase, error ? 0 : static_cast<int64_t>(size), "bytes");
  }
  PassProgress(const PassProgress&) = delete;
  PassProgress& operator=(const PassProgress&) = delete;

  void Row() {
    if (progress_ != nullptr && ++rows_ % 8192 == 0) Update();
  }
  void Finish() {
    if (progress_ == nullptr) return;
    Update();
    progress_->Finish();
  }

 private:
  void Update() {
    progress_->Update(reader_->bytes_read(), absl::StrCat(rows_, " rows"));
  }

  Progress* const progress_;
  const RawReader* const reader_;
  int64_t rows_ = 0;
};

// splitmix64: a small seeded generator whose output is the same everywhere.
uint64_t NextRandom(uint64_t* state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// Reservoir sample of one month's feature rows.
class Reservoir {
 public:
  Reservoir(int capacity, int num_features, uint64_t seed)
      : capacity_(capacity), num_features_(num_features), state_(seed) {}

  void Reset() {
    seen_ = 0;
    rows_.clear();
    owned_.clear();
  }

  void Offer(const float* row, ProductMask owned_last) {
    ++seen_;
    if (capacity_ <= 0) return;
    int64_t slot = -1;
    if (static_cast<int64_t>(owned_.size()) < capacity_) {
      slot = static_cast<int64_t>(owned_.size());
      owned_.push_back(0);
      rows_.resize(rows_.size() + num_features_);
    } else {
      const uint64_t r = NextRandom(&state_) % static_cast<uint64_t>(seen_);
      if (r < static_cast<uint64_t>(capacity_)) slot = static_cast<int64_t>(r);
    }
    if (slot < 0) return;
    std::copy(row, row + num_features_, rows_.begin() + slot * num_features_);
    owned_[slot] = owned_last;
  }

  std::vector<float>& rows() { return rows_; }
  std::vector<ProductMask>& owned() { return owned_; }

 private:
  const int capacity_;
  const int num_features_;
  uint64_t state_;
  int64_t seen_ = 0;
  std::vector<float> rows_;
  std::vector<ProductMask> owned_;
};

// OK when `path` ends with a line end (or its end cannot be read: not a
// regular file); DATA_LOSS naming the last line otherwise.
absl::Status CheckEndsWithLineEnd(const std::string& path, int64_t last_line) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) return absl::OkStatus();  // the reader said why
  int last = '\n';
  if (std::fseek(file, -1, SEEK_END) == 0) last = std::fgetc(file);
  std::fclose(file);
  if (last == '\n') return absl::OkStatus();
  return absl::DataLossError(absl::StrCat(
      path, ": the file ends inside a row (line ", last_line,
      " has no line end): it was most likely cut short, and its last month "
      "would be trained on partially; restore the whole file, or pass "
      "--allow-partial-months to train on it anyway"));
}

// OK when every month has at least kPartialMonthFraction of the rows of its
// neighbours; DATA_LOSS naming the first month that does not.
absl::Status CheckMonthsComplete(const std::string& path,
                                 const std::vector<MonthData>& months) {
  for (size_t i = 0; i < months.size(); ++i) {
    int64_t neighbour = -1;
    std::string neighbours;
    for (size_t j : {i - 1, i + 1}) {
      if (j >= months.size()) continue;  // i - 1 wraps around for i == 0
      if (neighbour < 0 || months[j].customers < neighbour) {
        neighbour = months[j].customers;
      }
      absl::StrAppend(&neighbours, neighbours.empty() ? "" : ", ",
                      MonthName(months[j].month), " has ",
                      months[j].customers);
    }
    if (neighbour < 0 ||
        months[i].customers >= kPartialMonthFraction * neighbour) {
      continue;
    }
    return absl::DataLossError(absl::StrFormat(
        "%s: month %s has %d rows, fewer than %.0f%% of its neighbours' "
        "(%s): the month is most likely partial (a file cut short or "
        "concatenated wrongly); pass --allow-partial-months to train on it "
        "anyway",
        path, MonthName(months[i].month), months[i].customers,
        100 * kPartialMonthFraction, neighbours));
  }
  return absl::OkStatus();
}

}  // namespace

TrainingRows TrainingRows::FromCsv(std::string path) {
  TrainingRows rows;
  rows.name_ = path;
  rows.csv_path_ = std::move(path);
  return rows;
}

absl::StatusOr<TrainingRows> TrainingRows::FromRecordsDb(
    const std::string& db_path, absl::string_view through) {
  RECSYS_ASSIGN_OR_RETURN(std::unique_ptr<RecordsSnapshot> snapshot,
                          RecordsSnapshot::Open(db_path, through));
  TrainingRows rows;
  rows.name_ = snapshot->name();
  rows.snapshot_ = std::move(snapshot);
  return rows;
}

absl::StatusOr<std::unique_ptr<RawReader>> TrainingRows::Open() const {
  if (snapshot_ != nullptr) return snapshot_->NewReader();
  RECSYS_ASSIGN_OR_RETURN(std::unique_ptr<RawReader> reader,
                          RawReader::Open(csv_path_));
  if (reader->layout() != FileLayout::kTrain) {
    return absl::InvalidArgumentError(
        absl::StrCat(csv_path_,
                     ": has no product columns (a test_ver2.csv layout); "
                     "training needs train_ver2.csv"));
  }
  return reader;
}

const MonthData* Dataset::Find(int month) const {
  for (const MonthData& m : months) {
    if (m.month == month) return &m;
  }
  return nullptr;
}

absl::StatusOr<Vocabularies> LearnVocabularies(const std::string& path,
                                               const FeatureSpec& spec,
                                               Progress* progress) {
  return LearnVocabularies(TrainingRows::FromCsv(path), spec, progress);
}

absl::StatusOr<Vocabularies> LearnVocabularies(const TrainingRows& rows,
                                               const FeatureSpec& spec,
                                               Progress* progress) {
  RECSYS_ASSIGN_OR_RETURN(std::unique_ptr<RawReader> reader, rows.Open());
  PassProgress pass(progress, "pass 1/2: vocabularies", rows.name(),
                    reader.get());
  VocabularyLearner learner(spec);
  RawRecord record;
  std::vector<RowError> errors;
  while (reader->Next(&record, &errors)) {
    learner.Add(record);
    pass.Row();
  }
  RECSYS_RETURN_IF_ERROR(reader->status());
  pass.Finish();
  return learner.Finish();
}

absl::StatusOr<Dataset> BuildDataset(const std::string& path,
                                     const Featurizer& featurizer,
                                     const DatasetOptions& options) {
  return BuildDataset(TrainingRows::FromCsv(path), featurizer, options);
}

absl::StatusOr<Dataset> BuildDataset(const TrainingRows& rows,
                                     const Featurizer& featurizer,
                                     const DatasetOptions& options) {
  const std::string& path = rows.name();
  RECSYS_ASSIGN_OR_RETURN(std::unique_ptr<RawReader> reader, rows.Open());
  const int depth = std::max(options.history_depth,
                             featurizer.spec().required_history_months());
  RECSYS_ASSIGN_OR_RETURN(
      std::unique_ptr<ProductHistoryBuilder> history,
      ProductHistoryBuilder::Create({.depth = std::max(depth, 1)}));
  auto log = [&](const std::string& line) {
    if (options.log) options.log(line);
  };

  Dataset data;
  data.num_features = featurizer.num_features();
  const int nf = data.num_features;
  std::vector<float> row(nf);
  Reservoir reservoir(options.reference_sample, nf, options.seed);
  RawRecord record;
  std::vector<RowError> errors;
  int64_t errors_reported = 0;
  MonthData* month = nullptr;
  auto finish_month = [&] {
    if (month == nullptr) return;
    log(absl::StrFormat(
        "  %s: %d customers, %d added a product (%.2f%%)",
        MonthName(month->month), month->customers, month->adders(),
        month->customers ? 100.0 * month->adders() / month->customers : 0.0));
  };

  int64_t last_line = 0;
  PassProgress pass(options.progress, "pass 2/2: features", path,
                    reader.get());
  while (reader->Next(&record, &errors)) {
    ++data.rows;
    pass.Row();
    last_line = record.line;
    if (!errors.empty()) {
      ++data.rows_with_errors;
      for (const RowError& e : errors) {
        if (errors_reported++ < options.max_errors_reported)
          log("  row error: " + e.ToString());
      }
    }
    if (!HasHistoryKey(record)) {
      ++data.rows_skipped;
      continue;
    }
    const int m = record.fecha_dato.value.MonthIndex();
    if (month == nullptr || m != month->month) {
      if (month != nullptr && m < month->month) {
        return absl::InvalidArgumentError(absl::StrCat(
            path, ": months must be in increasing order, but line ",
            record.line, " has ", record.fecha_dato.value.ToString(), " after ",
            MonthName(month->month)));
      }
      finish_month();
      RECSYS_RETURN_IF_ERROR(history->AdvanceTo(m));
      const bool labeled =
          !data.months.empty() && data.months.back().month == m - 1;
      data.months.push_back(MonthData{});
      month = &data.months.back();
      month->month = m;
      month->labeled = labeled;
      reservoir.Reset();
    }
    ++month->customers;
    RECSYS_ASSIGN_OR_RETURN(const HistoryView before,
                            history->Lookup(record.ncodpers.value, m));
    const ProductMask owned = CleanOwnedProducts(record);
    featurizer.Featurize(record, before, row.data());
    const ProductMask owned_last = before.Owned(1);
    reservoir.Offer(row.data(), owned_last);
    if (month->labeled) {
      const std::optional<ProductMask> added = AddedProducts(owned, before);
      if (added.has_value() && *added != 0) {
        month->features.insert(month->features.end(), row.begin(), row.end());
        month->added.push_back(*added);
        month->owned_last.push_back(owned_last);
        month->ncodpers.push_back(record.ncodpers.value);
        for (int p = 0; p < kNumProducts; ++p) {
          if (*added & ProductBit(p)) ++month->additions[p];
        }
      }
    }
    RECSYS_ASSIGN_OR_RETURN(const bool recorded,
                            ObserveRecord(record, history.get()));
    if (!recorded) {
      // A customer listed twice in one month: keep the first row.
      ++data.rows_with_errors;
      if (errors_reported++ < options.max_errors_reported) {
        log(absl::StrCat("  line ", record.line, ": customer ",
                         record.ncodpers.value, " listed twice in ",
                         MonthName(m), "; the first row is kept"));
      }
    }
  }
  RECSYS_RETURN_IF_ERROR(reader->status());
  finish_month();
  pass.Finish();
  if (data.months.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": no usable rows"));
  }
  if (!options.allow_partial_months) {
    // A database has no file end to check: ingest refused a row cut short
    // for its missing fields (see records/ingest.h).
    if (rows.is_csv()) {
      RECSYS_RETURN_IF_ERROR(CheckEndsWithLineEnd(path, last_line));
    }
    RECSYS_RETURN_IF_ERROR(CheckMonthsComplete(path, data.months));
  }
  data.reference_rows = std::move(reservoir.rows());
  data.reference_owned_last = std::move(reservoir.owned());
  RECSYS_ASSIGN_OR_RETURN(data.history, history->Snapshot());
  return data;
}

}  // namespace recsys
