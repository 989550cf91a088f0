// The generated demographic columns: the real files' text shapes and value
// sets, plausible distributions, customers joining, leaving and missing months.

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "training/gen_tables.h"
#include "training/gen_test_util.h"
#include "training/generator.h"

namespace recsys {
namespace {

using namespace gen::testing;  // NOLINT: the test helpers and constants
using ::testing::IsSubsetOf;

// Every generated field has a textual shape that the real file has in the
// same column; the few shapes that 999 rows of January 2015 cannot show are
// listed explicitly.
TEST(GeneratedDemographicsTest, FieldsHaveTheRealFilesShapes) {
  const GeneratedData& data = SeedOneData();
  const auto real = ColumnShapes(kRealTrain);
  if (real.empty()) GTEST_SKIP() << "real rows not found at " << kRealTrain;
  const std::map<std::string, std::set<std::string>> extras = {
      {"age", {"999"}},  // age 100
      {"antiguedad",
       {"    999", "-999999"}},     // seniority >= 100 months; the marker
      {"indrel_1mes", {"A"}},       // "P"
      {"conyuemp", {"A"}},          // "N", "S"
      {"canal_entrada", {"9"}},     // "007", "013"
      {"ind_nomina_ult1", {"AA"}},  // "NA" in later months
      {"ind_nom_pens_ult1", {"AA"}},
  };
  const auto generated = ColumnShapes(PathIn(data.dir, kTrainFileName));
  ASSERT_EQ(generated.size(), 48u);
  for (const auto& [column, shapes] : generated) {
    std::set<std::string> allowed = real.at(column);
    if (extras.count(column))
      allowed.insert(extras.at(column).begin(), extras.at(column).end());
    EXPECT_THAT(shapes, IsSubsetOf(allowed)) << "column " << column;
  }
  // And the main real shapes do occur.
  EXPECT_TRUE(generated.at("age").count(" AA"));
  EXPECT_TRUE(generated.at("antiguedad").count("     AA"));
  EXPECT_TRUE(generated.at("nomprov").count("\"\""));
  EXPECT_TRUE(generated.at("nomprov").count("\"A, A\""));
  EXPECT_TRUE(generated.at("indrel_1mes").count("9.9"));
  EXPECT_TRUE(generated.at("ind_nomina_ult1").count(" 9"));
}

TEST(GeneratedDemographicsTest, TestFileFieldsHaveTheRealTrainShapes) {
  const GeneratedData& data = SeedOneData();
  const auto real = ColumnShapes(kRealTrain);
  if (real.empty()) GTEST_SKIP() << "real rows not found at " << kRealTrain;
  const auto generated = ColumnShapes(PathIn(data.dir, kTestFileName));
  ASSERT_EQ(generated.size(), 24u);
  for (const auto& [column, shapes] : generated) {
    std::set<std::string> allowed = real.at(column);
    allowed.insert(
        {"999", "    999", "-999999", "A", "9"});  // as in the train file
    if (column == "renta") allowed.insert("         A");  // "         NA"
    EXPECT_THAT(shapes, IsSubsetOf(allowed)) << "column " << column;
  }
  EXPECT_TRUE(generated.at("renta").count("         A"));
}

TEST(GeneratedDemographicsTest, ProvinceTableMatchesTheRealFiles) {
  const GeneratedData& data = SeedOneData();
  const ReadBack real = ReadRawFile(kRealTest);
  if (!real.status.ok()) GTEST_SKIP() << "real rows not found at " << kRealTest;
  std::set<int> codes;
  for (const RawRecord& r : real.records) {
    if (!r.cod_prov.present()) continue;
    const gen::Province* p =
        gen::FindProvince(static_cast<int>(r.cod_prov.value));
    ASSERT_NE(p, nullptr) << r.cod_prov.value;
    EXPECT_EQ(p->name, r.nomprov.value);
    codes.insert(static_cast<int>(r.cod_prov.value));
  }
  EXPECT_EQ(codes.size(), 52u);
  for (const RawRecord& r : data.train.records) {
    if (!r.cod_prov.present()) {
      ASSERT_TRUE(r.nomprov.missing());
      continue;
    }
    ASSERT_EQ(gen::FindProvince(static_cast<int>(r.cod_prov.value))->name,
              r.nomprov.value);
  }
}

TEST(GeneratedDemographicsTest, CategoricalValuesComeFromTheRealValueSets) {
  const GeneratedData& data = SeedOneData();
  const std::set<std::string> employee = {"N", "A", "B", "F", "S"},
                              sexo = {"H", "V"},
                              type = {"1", "2", "3", "4", "P"},
                              relation = {"A", "I", "P", "R", "N"},
                              yes_no = {"S", "N"},
                              segment = {"01 - TOP", "02 - PARTICULARES",
                                         "03 - UNIVERSITARIO"};
  for (const RawRecord& r : data.train.records) {
    if (r.ind_empleado.present()) {
      ASSERT_TRUE(employee.count(r.ind_empleado.value));
    }
    if (r.sexo.present()) {
      ASSERT_TRUE(sexo.count(r.sexo.value));
    }
    if (r.indrel_1mes.present()) {
      ASSERT_TRUE(type.count(r.indrel_1mes.value));
    }
    if (r.tiprel_1mes.present()) {
      ASSERT_TRUE(relation.count(r.tiprel_1mes.value));
    }
    for (const TextField* f :
         {&r.indresi, &r.indext, &r.conyuemp, &r.indfall}) {
      if (f->present()) {
        ASSERT_TRUE(yes_no.count(f->value));
      }
    }
    if (r.segmento.present()) {
      ASSERT_TRUE(segment.count(r.segmento.value));
    }
    if (r.canal_entrada.present()) {
      ASSERT_TRUE(gen::IsGeneratedChannel(r.canal_entrada.value));
    }
    if (r.pais_residencia.present()) {
      ASSERT_TRUE(gen::IsGeneratedCountry(r.pais_residencia.value));
    }
    if (r.indrel.present()) {
      ASSERT_TRUE(r.indrel.value == 1 || r.indrel.value == 99);
    }
    if (r.ult_fec_cli_1t.present()) {
      ASSERT_EQ(r.indrel.value, 99);
    }
  }
  // Every channel and country of the real test rows is in the tables.
  const ReadBack real = ReadRawFile(kRealTest);
  if (!real.status.ok()) return;
  for (const RawRecord& r : real.records) {
    if (r.canal_entrada.present()) {
      EXPECT_TRUE(gen::IsGeneratedChannel(r.canal_entrada.value));
    }
    EXPECT_TRUE(gen::IsGeneratedCountry(r.pais_residencia.value))
        << r.pais_residencia.value;
  }
}

TEST(GeneratedDemographicsTest, DemographicsArePlausible) {
  const GeneratedData& data = SeedOneData();
  int64_t rows = 0, students = 0, renta_missing = 0, spain = 0, university = 0;
  int64_t min_age = 1000, max_age = 0;
  for (const RawRecord& r : data.train.records) {
    if (!r.age.present()) continue;
    ++rows;
    min_age = std::min(min_age, r.age.value);
    max_age = std::max(max_age, r.age.value);
    if (r.age.value >= 20 && r.age.value <= 25) ++students;
    if (r.renta.missing()) ++renta_missing;
    if (r.pais_residencia.value == "ES") ++spain;
    if (r.segmento.value == "03 - UNIVERSITARIO") ++university;
  }
  EXPECT_GE(min_age, 2);
  EXPECT_LE(max_age, 100);
  EXPECT_GT(students, rows / 5);  // the student bump
  EXPECT_NEAR(static_cast<double>(renta_missing) / rows, 0.20, 0.05);
  EXPECT_GT(static_cast<double>(spain) / rows, 0.99);
  EXPECT_NEAR(static_cast<double>(university) / rows, 0.35, 0.10);
}

TEST(GeneratedDemographicsTest, CustomersJoinLeaveMissMonthsAndHaveEmptyRows) {
  const GeneratedData& data = SeedOneData();
  std::map<int64_t, std::vector<int>> months_of;
  int64_t empty_rows = 0, new_customer_rows = 0;
  for (const RawRecord& r : data.train.records) {
    months_of[r.ncodpers.value].push_back(r.fecha_dato.value.MonthIndex() -
                                          2015 * 12);
    if (r.fecha_alta.missing() && r.age.missing() && r.nomprov.missing())
      ++empty_rows;
    if (r.ind_nuevo.present() && r.ind_nuevo.value == 1) ++new_customer_rows;
  }
  int joined_later = 0, left = 0, skipped = 0;
  for (const auto& [customer, months] : months_of) {
    if (months.front() > kJuly2015) ++joined_later;
    if (months.back() < kLastTrainMonth) ++left;
    if (months.back() - months.front() + 1 != static_cast<int>(months.size()))
      ++skipped;
  }
  EXPECT_GT(joined_later, kTestCustomers / 20);
  EXPECT_GT(left, 0);
  EXPECT_GT(skipped, 0);
  EXPECT_GT(empty_rows, 0);
  EXPECT_GT(new_customer_rows, 0);
  EXPECT_GT(months_of.size(), data.months.at(0).size() * 5 / 4);
}

}  // namespace
}  // namespace recsys
