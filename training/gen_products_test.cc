// The generated product dynamics, measured on the generated files: addition
// rates, the June taxes spike, the most common additions, learnable history.
#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/products.h"
#include "gtest/gtest.h"
#include "training/gen_test_util.h"
#include "training/generator.h"

namespace recsys {
namespace {

using namespace gen::testing;  // NOLINT: the test helpers and constants

TEST(GeneratedProductsTest, AFewPercentOfCustomersAddAProductEachMonth) {
  const GeneratedData& data = SeedOneData();
  int64_t both = 0, adding = 0;
  for (int m = 1; m <= kLastTrainMonth; ++m) {
    if (m == kJune2015) continue;  // the taxes spike
    const auto [b, a] = CountAdditions(data.months, m);
    both += b;
    adding += a;
  }
  const double rate = static_cast<double>(adding) / both;
  EXPECT_GT(rate, 0.025);
  EXPECT_LT(rate, 0.05);
}

TEST(GeneratedProductsTest, TaxesSpikeInJune) {
  const GeneratedData& data = SeedOneData();
  int64_t other_both = 0, other_adding = 0;
  for (int m = 1; m <= kLastTrainMonth; ++m) {
    if (m == kJune2015) continue;
    const auto [b, a] = CountAdditions(data.months, m, kReca);
    other_both += b;
    other_adding += a;
  }
  const auto [june_both, june_adding] =
      CountAdditions(data.months, kJune2015, kReca);
  const double june = static_cast<double>(june_adding) / june_both;
  EXPECT_GT(june, 0.01);
  EXPECT_GT(june, 5.0 * other_adding / other_both);
  // The test month is a June too: taxes are its most added product.
  std::map<int, int> added;
  for (const TruthRow& row : ReadTruth(PathIn(data.dir, kTruthFileName))) {
    for (int p = 0; p < kNumProducts; ++p)
      added[p] += (row.added & ProductBit(p)) ? 1 : 0;
  }
  for (int p = 0; p < kNumProducts; ++p) {
    if (p != kReca) {
      EXPECT_GT(added[kReca], added[p]) << kProducts[p].column;
    }
  }
}

TEST(GeneratedProductsTest, MostCommonAdditionsAreTheRealOnes) {
  const GeneratedData& data = SeedOneData();
  std::map<int, int64_t> count;
  for (int m = 1; m <= kLastTrainMonth; ++m) {
    for (const auto& [customer, owned] : data.months.at(m)) {
      auto it = data.months.at(m - 1).find(customer);
      if (it == data.months.at(m - 1).end()) continue;
      for (int p = 0; p < kNumProducts; ++p) {
        if (owned & ~it->second & ProductBit(p)) ++count[p];
      }
    }
  }
  std::vector<std::pair<int64_t, int>> ranked;
  for (const auto& [p, n] : count) ranked.push_back({-n, p});
  std::sort(ranked.begin(), ranked.end());
  const std::set<absl::string_view> real_top = {
      "ind_recibo_ult1",  "ind_nom_pens_ult1", "ind_nomina_ult1",
      "ind_cno_fin_ult1", "ind_tjcr_fin_ult1", "ind_ecue_fin_ult1",
      "ind_cco_fin_ult1", "ind_reca_fin_ult1"};
  for (int i = 0; i < 6; ++i) {
    EXPECT_TRUE(real_top.count(kProducts[ranked[i].second].column))
        << kProducts[ranked[i].second].column;
  }
}

// The history a model can learn from: payroll dropped in the last months
// comes back far more often than payroll is taken up anew.
TEST(GeneratedProductsTest, RecentlyDroppedPayrollIsReAdded) {
  const GeneratedData& data = SeedOneData();
  int64_t dropped = 0, dropped_readded = 0, never = 0, never_added = 0;
  for (int m = 4; m <= kLastTrainMonth; ++m) {
    for (const auto& [customer, owned] : data.months.at(m)) {
      ProductMask before[4];
      bool present = true;
      for (int k = 1; k <= 4; ++k) {
        auto it = data.months.at(m - k).find(customer);
        present = present && it != data.months.at(m - k).end();
        before[k - 1] = present ? it->second : 0;
      }
      if (!present || (before[0] & ProductBit(kNomina))) continue;
      const bool added = owned & ProductBit(kNomina);
      if ((before[1] | before[2] | before[3]) & ProductBit(kNomina)) {
        ++dropped;
        dropped_readded += added;
      } else {
        ++never;
        never_added += added;
      }
    }
  }
  ASSERT_GT(dropped, 0);
  ASSERT_GT(never_added, 0);
  EXPECT_GT(static_cast<double>(dropped_readded) / dropped,
            10.0 * static_cast<double>(never_added) / never);
}

TEST(GeneratedProductsTest,
     ActiveCustomersAddMoreAndJuniorAccountsAreForTheYoung) {
  const GeneratedData& data = SeedOneData();
  int64_t active = 0, active_adding = 0, inactive = 0, inactive_adding = 0;
  std::map<int64_t, ProductMask> previous;
  for (const RawRecord& r : data.train.records) {
    if ((r.products & ProductBit(kCtju)) && r.age.present()) {
      ASSERT_LT(r.age.value, 20);
    }
    const int month = r.fecha_dato.value.MonthIndex() - 2015 * 12;
    if (month == 0 || month == kJune2015 || !r.ind_actividad_cliente.present())
      continue;
    auto it = data.months.at(month - 1).find(r.ncodpers.value);
    if (it == data.months.at(month - 1).end()) continue;
    const bool adds = (r.products & ~it->second) != 0;
    if (r.ind_actividad_cliente.value == 1) {
      ++active;
      active_adding += adds;
    } else {
      ++inactive;
      inactive_adding += adds;
    }
  }
  EXPECT_GT(static_cast<double>(active_adding) / active,
            3.0 * static_cast<double>(inactive_adding) / inactive);
}

}  // namespace
}  // namespace recsys
