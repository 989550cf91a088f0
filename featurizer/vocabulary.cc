#include "featurizer/vocabulary.h"

#include <algorithm>
#include <numeric>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/raw_columns.h"
#include "common/status_macros.h"
#include "featurizer/cleaning.h"

namespace recsys {

using nlohmann::json;

Vocabulary::Vocabulary(std::vector<std::string> categories,
                       std::vector<int64_t> counts, int64_t min_count)
    : categories_(std::move(categories)),
      counts_(std::move(counts)),
      min_count_(min_count) {
  index_.reserve(categories_.size());
  for (size_t i = 0; i < categories_.size(); ++i) {
    index_.emplace(categories_[i], static_cast<int>(i));
  }
}

Vocabulary Vocabulary::FromCounts(
    const absl::flat_hash_map<std::string, int64_t>& counts,
    int64_t min_count) {
  std::vector<std::pair<std::string, int64_t>> kept;
  for (const auto& [category, n] : counts) {
    if (n >= min_count) kept.emplace_back(category, n);
  }
  std::sort(kept.begin(), kept.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  std::vector<std::string> categories;
  std::vector<int64_t> kept_counts;
  for (auto& [category, n] : kept) {
    categories.push_back(std::move(category));
    kept_counts.push_back(n);
  }
  return Vocabulary(std::move(categories), std::move(kept_counts), min_count);
}

json Vocabulary::ToJson() const {
  return json{{"min_count", min_count_},
              {"categories", categories_},
              {"counts", counts_}};
}

absl::StatusOr<Vocabulary> Vocabulary::FromJson(const json& j) {
  if (!j.is_object())
    return absl::InvalidArgumentError("vocabulary must be an object");
  auto min_count = j.find("min_count");
  auto categories = j.find("categories");
  auto counts = j.find("counts");
  if (min_count == j.end() || !min_count->is_number_integer() ||
      min_count->get<int64_t>() < 1) {
    return absl::InvalidArgumentError(
        "vocabulary: \"min_count\" must be an integer >= 1");
  }
  if (categories == j.end() || !categories->is_array() || counts == j.end() ||
      !counts->is_array() || counts->size() != categories->size()) {
    return absl::InvalidArgumentError(
        "vocabulary: \"categories\" and \"counts\" must be arrays of the same "
        "length");
  }
  std::vector<std::string> names;
  std::vector<int64_t> ns;
  absl::flat_hash_map<std::string, int> seen;
  for (size_t i = 0; i < categories->size(); ++i) {
    const json& c = (*categories)[i];
    const json& n = (*counts)[i];
    if (!c.is_string() || !n.is_number_integer()) {
      return absl::InvalidArgumentError(
          absl::StrCat("vocabulary: entry ", i,
                       " must be a string category with an integer count"));
    }
    if (!seen.emplace(c.get<std::string>(), 1).second) {
      return absl::InvalidArgumentError(absl::StrCat(
          "vocabulary: category \"", c.get<std::string>(), "\" appears twice"));
    }
    names.push_back(c.get<std::string>());
    ns.push_back(n.get<int64_t>());
  }
  return Vocabulary(std::move(names), std::move(ns), min_count->get<int64_t>());
}

const Vocabulary* Vocabularies::Find(absl::string_view column) const {
  auto it = by_column_.find(column);
  return it == by_column_.end() ? nullptr : &it->second;
}

void Vocabularies::Set(const std::string& column, Vocabulary vocabulary) {
  by_column_[column] = std::move(vocabulary);
}

json Vocabularies::ToJson() const {
  json j = json::object();
  for (const auto& [column, v] : by_column_) j[column] = v.ToJson();
  return j;
}

absl::StatusOr<Vocabularies> Vocabularies::FromJson(const json& j) {
  if (!j.is_object())
    return absl::InvalidArgumentError("vocabularies must be an object");
  Vocabularies out;
  for (auto it = j.begin(); it != j.end(); ++it) {
    absl::StatusOr<Vocabulary> v = Vocabulary::FromJson(it.value());
    if (!v.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "vocabularies[\"", it.key(), "\"]: ", v.status().message()));
    }
    out.Set(it.key(), *std::move(v));
  }
  return out;
}

VocabularyLearner::VocabularyLearner(const FeatureSpec& spec) {
  for (const FeatureEntry* e : spec.categorical_entries()) {
    columns_.push_back(Column{e->column, e->min_count, {}});
  }
}

void VocabularyLearner::Add(const RawRecord& record) {
  for (Column& c : columns_) {
    CleanedText text = CleanCategorical(record, c.column);
    if (!text.ok()) continue;
    auto it = c.counts.find(text.text);
    if (it != c.counts.end()) {
      ++it->second;
    } else {
      c.counts.emplace(std::string(text.text), 1);
    }
  }
}

void VocabularyLearner::Merge(const VocabularyLearner& other) {
  for (size_t i = 0; i < columns_.size() && i < other.columns_.size(); ++i) {
    for (const auto& [category, n] : other.columns_[i].counts) {
      columns_[i].counts[category] += n;
    }
  }
}

Vocabularies VocabularyLearner::Finish() const {
  Vocabularies out;
  for (const Column& c : columns_) {
    out.Set(std::string(RawColumnName(c.column)),
            Vocabulary::FromCounts(c.counts, c.min_count));
  }
  return out;
}

}  // namespace recsys
