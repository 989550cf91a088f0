// Vocabularies: the integer codes of categorical features, learned in
// training and saved with the model.
//
// A Vocabulary keeps the categories seen at least min_count times, ordered by
// count (descending) then text (ascending), so codes never depend on the order
// of the rows. Lookup: a known category -> its code 0..size()-1; any other
// category (unseen or too rare) -> size(), the "unknown" code (never an
// error: the FeatureSchema lets the caller count them); a missing value is
// NaN in the feature vector and never reaches the vocabulary.
//
//   // Training: count every categorical column of the spec, then freeze.
//   VocabularyLearner learner(spec);
//   for (const RawRecord& r : rows) learner.Add(r);
//   Vocabularies vocabularies = learner.Finish();
//   manifest["vocabularies"] = vocabularies.ToJson();
//
//   // Serving: load them back.
//   RECSYS_ASSIGN_OR_RETURN(Vocabularies v,
//                           Vocabularies::FromJson(manifest["vocabularies"]));
//   int code = v.Find("segmento")->Code("02 - PARTICULARES");
//
// Vocabulary and Vocabularies are values, immutable once built: thread-safe to
// share for reading. VocabularyLearner is not thread-safe.
#ifndef RECSYS_FEATURIZER_VOCABULARY_H_
#define RECSYS_FEATURIZER_VOCABULARY_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/raw_record.h"
#include "featurizer/feature_spec.h"
#include "nlohmann/json.hpp"

namespace recsys {

class Vocabulary {
 public:
  // An empty vocabulary: every category is unknown (code 0).
  Vocabulary() = default;

  // Keeps the categories of `counts` with count >= min_count, ordered by count
  // descending, then text ascending.
  static Vocabulary FromCounts(
      const absl::flat_hash_map<std::string, int64_t>& counts,
      int64_t min_count);

  // Number of known categories; also the code of unknown ones.
  int size() const { return static_cast<int>(categories_.size()); }
  int unknown_code() const { return size(); }

  // The code of `category`: 0..size()-1 when known, size() otherwise.
  // Heterogeneous lookup: no allocation.
  int Code(absl::string_view category) const {
    auto it = index_.find(category);
    return it == index_.end() ? size() : it->second;
  }

  // Categories in code order, and their training counts.
  const std::vector<std::string>& categories() const { return categories_; }
  const std::vector<int64_t>& counts() const { return counts_; }
  int64_t min_count() const { return min_count_; }

  // {"min_count": 20, "categories": ["N", "A"], "counts": [980, 12]}.
  nlohmann::json ToJson() const;
  // INVALID_ARGUMENT for a malformed object, counts of another length, a
  // non-string or duplicate category.
  static absl::StatusOr<Vocabulary> FromJson(const nlohmann::json& json);

  friend bool operator==(const Vocabulary& a, const Vocabulary& b) {
    return a.categories_ == b.categories_ && a.counts_ == b.counts_ &&
           a.min_count_ == b.min_count_;
  }

 private:
  // REQUIRES: categories distinct; builds index_.
  Vocabulary(std::vector<std::string> categories, std::vector<int64_t> counts,
             int64_t min_count);

  std::vector<std::string> categories_;
  std::vector<int64_t> counts_;
  int64_t min_count_ = 1;
  absl::flat_hash_map<std::string, int> index_;  // category -> code
};

// The vocabulary of each categorical column, by column name.
class Vocabularies {
 public:
  // The vocabulary of `column` ("sexo"), or nullptr when there is none.
  const Vocabulary* Find(absl::string_view column) const;
  void Set(const std::string& column, Vocabulary vocabulary);

  const std::map<std::string, Vocabulary, std::less<>>& all() const {
    return by_column_;
  }

  // {"sexo": <Vocabulary::ToJson>, ...}, columns sorted.
  nlohmann::json ToJson() const;
  // INVALID_ARGUMENT naming the column for a malformed entry.
  static absl::StatusOr<Vocabularies> FromJson(const nlohmann::json& json);

  friend bool operator==(const Vocabularies& a, const Vocabularies& b) {
    return a.by_column_ == b.by_column_;
  }

 private:
  std::map<std::string, Vocabulary, std::less<>> by_column_;
};

// Counts the cleaned categories of every categorical entry of a spec.
class VocabularyLearner {
 public:
  // `spec` is only read here (its entries are copied).
  explicit VocabularyLearner(const FeatureSpec& spec);

  // Counts each categorical column of `record` that cleans to a value
  // (missing and invalid values are not counted).
  void Add(const RawRecord& record);
  // Adds the counts of `other` (e.g. a learner of another thread) to this
  // one. REQUIRES: both were built from the same spec.
  void Merge(const VocabularyLearner& other);

  // Vocabularies of the counts so far, each with its entry's min_count.
  Vocabularies Finish() const;

 private:
  struct Column {
    int column;
    int64_t min_count;
    absl::flat_hash_map<std::string, int64_t> counts;
  };
  std::vector<Column> columns_;
};

}  // namespace recsys

#endif  // RECSYS_FEATURIZER_VOCABULARY_H_
