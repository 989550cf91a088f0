// The cleaning rules on the real rows of ../shared/data/real, read by the real
// reader.
#include <cmath>
#include <fstream>
#include <vector>

#include "common/raw_reader.h"
#include "featurizer/cleaning.h"
#include "featurizer/feature_spec.h"
#include "featurizer/featurizer.h"
#include "featurizer/vocabulary.h"
#include "gtest/gtest.h"

namespace recsys {
namespace {

const std::string kTrainPath =
    RECSYS_SHARED_DIR "/data/real/train_ver2_first999.csv";
const std::string kTestPath =
    RECSYS_SHARED_DIR "/data/real/test_ver2_first38171_excel.csv";

std::vector<RawRecord> ReadAll(const std::string& path) {
  std::vector<RawRecord> rows;
  auto reader = RawReader::Open(path);
  EXPECT_TRUE(reader.ok()) << reader.status();
  if (!reader.ok()) return rows;
  RawRecord r;
  std::vector<RowError> errors;
  while ((*reader)->Next(&r, &errors)) rows.push_back(r);
  return rows;
}

class RealRows : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::ifstream(kTrainPath) || !std::ifstream(kTestPath)) {
      GTEST_SKIP() << "real rows not found under " RECSYS_SHARED_DIR
                      "/data/real";
    }
    train_ = ReadAll(kTrainPath);
    ASSERT_EQ(train_.size(), 999u);
  }
  const RawRecord& Customer(int64_t ncodpers) const {
    for (const RawRecord& r : train_) {
      if (r.ncodpers.value == ncodpers) return r;
    }
    ADD_FAILURE() << "no customer " << ncodpers;
    return train_[0];
  }
  std::vector<RawRecord> train_;
};

TEST_F(RealRows, FirstRowCleansToHandCheckedValues) {
  const RawRecord& r = train_[0];  // 1375586: age 35, 2015-01-12, renta 87218.1
  EXPECT_EQ(CleanAge(r.age).value, 35);
  EXPECT_EQ(CleanAntiguedad(r.antiguedad).value, 6);
  EXPECT_EQ(CleanRenta(r.renta).value, 87218.1);
  EXPECT_EQ(CleanCodProv(r.cod_prov).value, 29);
  EXPECT_EQ(CleanCategorical(r, kIndrel1mes).text, "1");  // written "1.0"
  EXPECT_EQ(CleanCategorical(r, kSegmento).text, "02 - PARTICULARES");
  EXPECT_EQ(CleanDateFeature(r, DateFeature::kFechaDatoMonth).value, 1);
  EXPECT_EQ(CleanDateFeature(r, DateFeature::kMonthsSinceAlta).value, 0);
  EXPECT_EQ(CleanDateFeature(r, DateFeature::kFechaAltaYear).value, 2015);
}

TEST_F(RealRows, IncomeWithFloatArtifactsIsNotTruncated) {
  EXPECT_EQ(CleanRenta(Customer(1050612).renta).value, 122179.11000000002);
}

TEST_F(RealRows, MissingIncomeIsMissing) {
  EXPECT_EQ(CleanRenta(Customer(1050477).renta).outcome,
            CleanOutcome::kMissing);
}

TEST_F(RealRows, ChildrenKeepTheirAge) {
  EXPECT_EQ(CleanAge(Customer(1051853).age).value, 8);
  EXPECT_EQ(CleanAge(Customer(1051854).age).value, 6);
}

TEST_F(RealRows, PrimaryUntilMonthEndKeeps99AndItsLastDate) {
  const RawRecord& r = Customer(1050477);
  EXPECT_EQ(CleanIndrel(r.indrel).value, 99);
  EXPECT_EQ(CleanDateFeature(r, DateFeature::kUltFecCli1tSet).value, 1);
  EXPECT_EQ(CleanDateFeature(r, DateFeature::kDaysToUltFecCli1t).value, 155);
}

TEST_F(RealRows, CustomerWithoutDemographicsCleansToAllMissing) {
  const RawRecord& r = Customer(1050741);
  for (int c = 0; c < kNumDemographicColumns; ++c) {
    if (c == kFechaDato || c == kNcodpers) continue;
    EXPECT_EQ(ColumnOutcome(r, c), CleanOutcome::kMissing) << RawColumnName(c);
  }
  EXPECT_EQ(CleanOwnedProducts(r), ProductBit(2));
}

TEST_F(RealRows, No999RowHasInvalidValues) {
  CleaningTally tally;
  for (const RawRecord& r : train_) tally.Add(r);
  for (int c = 0; c < kNumRawColumns; ++c) {
    EXPECT_EQ(tally.count(c, CleanOutcome::kInvalid), 0) << RawColumnName(c);
    EXPECT_EQ(tally.count(c, CleanOutcome::kOutOfRange), 0) << RawColumnName(c);
  }
  EXPECT_EQ(tally.count(kAge, CleanOutcome::kMissing), 1);  // 1050741
}

TEST_F(RealRows, SpreadsheetTestRowsCleanLikeIsoOnes) {
  std::vector<RawRecord> test = ReadAll(kTestPath);
  ASSERT_EQ(test.size(), 38171u);
  const RawRecord& r = test[0];  // 6/28/2016, alta 1/16/1995, renta 326124.9
  EXPECT_EQ(CleanDateFeature(r, DateFeature::kFechaDatoMonth).value, 6);
  EXPECT_EQ(CleanDateFeature(r, DateFeature::kMonthsSinceAlta).value, 257);
  EXPECT_EQ(CleanRenta(r.renta).value, 326124.9);
  EXPECT_EQ(CleanRenta(test[1].renta).outcome,
            CleanOutcome::kMissing);  // "         NA"
  EXPECT_EQ(CleanOwnedProducts(r), 0u);
}

TEST_F(RealRows, EveryRealRowFeaturizesWithTheDefaultSpec) {
  auto spec = LoadFeatureSpec(RECSYS_SOURCE_DIR "/config/feature_spec.json");
  ASSERT_TRUE(spec.ok()) << spec.status();
  VocabularyLearner learner(*spec);
  for (const RawRecord& r : train_) learner.Add(r);
  Vocabularies vocabularies = learner.Finish();
  EXPECT_EQ(vocabularies.Find("pais_residencia")->Code("ES"), 0);
  auto featurizer = Featurizer::Create(*spec, vocabularies);
  ASSERT_TRUE(featurizer.ok()) << featurizer.status();
  std::vector<float> row((*featurizer)->num_features());
  const int age = 0;
  for (const RawRecord& r : train_) {
    (*featurizer)->Featurize(r, HistoryView(), row.data());
    if (r.age.present()) {
      EXPECT_EQ(row[age], static_cast<float>(r.age.value));
    }
    for (float v : row) EXPECT_FALSE(std::isinf(v));
  }
}

}  // namespace
}  // namespace recsys
