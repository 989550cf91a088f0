#include "featurizer/vocabulary.h"

#include <algorithm>
#include <random>

#include "featurizer/test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace recsys {
namespace {

using featurizer_testing::RealRecordWith;
using ::testing::ElementsAre;

Vocabulary Learn(std::vector<std::pair<std::string, int64_t>> counts,
                 int64_t min_count) {
  absl::flat_hash_map<std::string, int64_t> map(counts.begin(), counts.end());
  return Vocabulary::FromCounts(map, min_count);
}

FeatureSpec SexoAndChannelSpec(int min_count) {
  auto spec = ParseFeatureSpec(absl::StrCat(
      R"({"features": [{"kind": "categorical", "column": "sexo", "min_count": )",
      min_count,
      R"(}, {"kind": "categorical", "column": "canal_entrada", "min_count": )",
      min_count,
      R"(}, {"kind": "categorical", "column": "indrel_1mes", "min_count": 1}]})"));
  EXPECT_TRUE(spec.ok()) << spec.status();
  return *spec;
}

TEST(Vocabulary, CodesOrderedByCountThenText) {
  Vocabulary v = Learn({{"KHE", 5}, {"KAT", 9}, {"KFC", 5}, {"KHL", 1}}, 1);
  EXPECT_THAT(v.categories(), ElementsAre("KAT", "KFC", "KHE", "KHL"));
  EXPECT_THAT(v.counts(), ElementsAre(9, 5, 5, 1));
  EXPECT_EQ(v.Code("KAT"), 0);
  EXPECT_EQ(v.Code("KHE"), 2);
}

TEST(Vocabulary, RareCategoriesAreLeftOut) {
  Vocabulary v = Learn({{"KHE", 5}, {"KAT", 9}, {"KHL", 4}}, 5);
  EXPECT_EQ(v.size(), 2);
  EXPECT_EQ(v.Code("KHL"), v.unknown_code());
}

TEST(Vocabulary, UnseenCategoryGetsTheVocabularySizeAsCode) {
  Vocabulary v = Learn({{"H", 10}, {"V", 8}}, 1);
  EXPECT_EQ(v.Code("X"), 2);
  EXPECT_EQ(v.Code(""), 2);
  EXPECT_EQ(Vocabulary().Code("H"), 0);
}

TEST(Vocabulary, JsonRoundTrip) {
  Vocabulary v = Learn({{"H", 10}, {"V", 8}}, 3);
  absl::StatusOr<Vocabulary> back = Vocabulary::FromJson(v.ToJson());
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, v);
  EXPECT_EQ(back->Code("V"), 1);
  EXPECT_EQ(back->min_count(), 3);
}

TEST(Vocabulary, MalformedJsonIsRejected) {
  using nlohmann::json;
  EXPECT_FALSE(Vocabulary::FromJson(json{{"min_count", 1},
                                         {"categories", {"H", "H"}},
                                         {"counts", {1, 1}}})
                   .ok());
  EXPECT_FALSE(
      Vocabulary::FromJson(
          json{{"min_count", 1}, {"categories", {"H"}}, {"counts", {1, 2}}})
          .ok());
  EXPECT_FALSE(Vocabulary::FromJson(json::array()).ok());
}

TEST(VocabularyLearner, EncodingDoesNotDependOnRowOrder) {
  std::vector<RawRecord> rows;
  const char* channels[] = {"KHE", "KAT", "KFC", "KHE",
                            "KAT", "KHE", "RED", "KFC"};
  for (const char* c : channels)
    rows.push_back(RealRecordWith("canal_entrada", c));
  rows.push_back(RealRecordWith("sexo", "V"));
  FeatureSpec spec = SexoAndChannelSpec(1);
  VocabularyLearner in_order(spec);
  for (const RawRecord& r : rows) in_order.Add(r);
  std::mt19937 rng(7);
  for (int trial = 0; trial < 5; ++trial) {
    std::shuffle(rows.begin(), rows.end(), rng);
    VocabularyLearner shuffled(spec);
    for (const RawRecord& r : rows) shuffled.Add(r);
    EXPECT_EQ(shuffled.Finish(), in_order.Finish());
  }
  EXPECT_THAT(in_order.Finish().Find("canal_entrada")->categories(),
              ElementsAre("KHE", "KAT", "KFC", "KHL", "RED"));
}

TEST(VocabularyLearner, MissingAndInvalidValuesAreNotCategories) {
  VocabularyLearner learner(SexoAndChannelSpec(1));
  learner.Add(RealRecordWith("sexo", ""));
  RawRecord invalid = RealRecordWith("sexo", "H");
  invalid.sexo.state = FieldState::kInvalid;
  learner.Add(invalid);
  EXPECT_EQ(learner.Finish().Find("sexo")->size(), 0);
}

TEST(VocabularyLearner, IndrelMesSpellingsShareOneCategory) {
  VocabularyLearner learner(SexoAndChannelSpec(1));
  learner.Add(RealRecordWith("indrel_1mes", "1.0"));
  learner.Add(RealRecordWith("indrel_1mes", "1"));
  learner.Add(RealRecordWith("indrel_1mes", "P"));
  const Vocabularies all = learner.Finish();
  const Vocabulary* v = all.Find("indrel_1mes");
  EXPECT_THAT(v->categories(), ElementsAre("1", "P"));
  EXPECT_THAT(v->counts(), ElementsAre(2, 1));
}

TEST(VocabularyLearner, UsesEachEntrysMinCount) {
  VocabularyLearner learner(SexoAndChannelSpec(2));
  learner.Add(RealRecordWith("sexo", "V"));  // canal KHL, indrel_1mes 1
  learner.Add(RealRecordWith("sexo", "V"));
  learner.Add(RealRecordWith("canal_entrada", "RED"));
  Vocabularies v = learner.Finish();
  EXPECT_THAT(v.Find("sexo")->categories(), ElementsAre("V"));  // H seen once
  EXPECT_THAT(v.Find("canal_entrada")->categories(), ElementsAre("KHL"));
}

TEST(VocabularyLearner, MergeAddsCounts) {
  FeatureSpec spec = SexoAndChannelSpec(2);
  VocabularyLearner a(spec), b(spec);
  a.Add(RealRecordWith("sexo", "V"));
  b.Add(RealRecordWith("sexo", "V"));
  a.Merge(b);
  EXPECT_THAT(a.Finish().Find("sexo")->counts(), ElementsAre(2));
}

TEST(Vocabularies, JsonRoundTrip) {
  VocabularyLearner learner(SexoAndChannelSpec(1));
  learner.Add(RealRecordWith("sexo", "V"));
  Vocabularies v = learner.Finish();
  absl::StatusOr<Vocabularies> back = Vocabularies::FromJson(v.ToJson());
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, v);
  EXPECT_EQ(back->Find("nomprov"), nullptr);
}

TEST(Vocabularies, MalformedEntryIsNamed) {
  auto j = nlohmann::json{{"sexo", {{"min_count", 0}}}};
  absl::StatusOr<Vocabularies> v = Vocabularies::FromJson(j);
  EXPECT_EQ(v.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(v.status().message(), ::testing::HasSubstr("sexo"));
}

}  // namespace
}  // namespace recsys
