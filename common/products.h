// The 24 Santander products, in the column order of train_ver2.csv.
//
// A set of products is a 24-bit mask: bit i is kProducts[i].
//
//   for (int i = 0; i < kNumProducts; ++i)
//     if (owned & ProductBit(i)) std::cout << kProducts[i].column;
#ifndef RECSYS_COMMON_PRODUCTS_H_
#define RECSYS_COMMON_PRODUCTS_H_

#include <cstdint>
#include <optional>
#include "absl/strings/string_view.h"

namespace recsys {

inline constexpr int kNumProducts = 24;

// A set of products as a bit mask (bit i = kProducts[i]).
using ProductMask = uint32_t;

struct Product {
  absl::string_view column;   // Kaggle column name, e.g. "ind_cco_fin_ult1".
  absl::string_view english;  // English name, e.g. "current_accounts".
};

inline constexpr Product kProducts[kNumProducts] = {
    {"ind_ahor_fin_ult1", "saving_account"},
    {"ind_aval_fin_ult1", "guarantees"},
    {"ind_cco_fin_ult1", "current_accounts"},
    {"ind_cder_fin_ult1", "derivada_account"},
    {"ind_cno_fin_ult1", "payroll_account"},
    {"ind_ctju_fin_ult1", "junior_account"},
    {"ind_ctma_fin_ult1", "mas_particular_account"},
    {"ind_ctop_fin_ult1", "particular_account"},
    {"ind_ctpp_fin_ult1", "particular_plus_account"},
    {"ind_deco_fin_ult1", "short_term_deposit"},
    {"ind_deme_fin_ult1", "medium_term_deposit"},
    {"ind_dela_fin_ult1", "long_term_deposit"},
    {"ind_ecue_fin_ult1", "e_account"},
    {"ind_fond_fin_ult1", "funds"},
    {"ind_hip_fin_ult1", "mortgage"},
    {"ind_plan_fin_ult1", "pensions"},
    {"ind_pres_fin_ult1", "loans"},
    {"ind_reca_fin_ult1", "taxes"},
    {"ind_tjcr_fin_ult1", "credit_card"},
    {"ind_valo_fin_ult1", "securities"},
    {"ind_viv_fin_ult1", "home_account"},
    {"ind_nomina_ult1", "payroll"},
    {"ind_nom_pens_ult1", "pensions_2"},
    {"ind_recibo_ult1", "direct_debit"},
};

inline constexpr ProductMask ProductBit(int index) {
  return ProductMask{1} << index;
}

inline constexpr ProductMask kAllProducts = (ProductMask{1} << kNumProducts) - 1;

// Returns the index of the product whose Kaggle column or English name is
// `name`, or nullopt when there is none.
std::optional<int> FindProduct(absl::string_view name);

// Number of products in `mask`.
inline int CountProducts(ProductMask mask) { return __builtin_popcount(mask); }

}  // namespace recsys

#endif  // RECSYS_COMMON_PRODUCTS_H_
