// Product ownership dynamics of the synthetic customers.
//
// Each month every product a customer does not own may be added, with a
// probability (a logistic hazard) that depends on
//   - demographics: age band, segment, income, activity, being new;
//   - the customer's latent propensity (CustomerProfile::propensity) and
//     "shopping months" in which several products are added at once;
//   - what the customer owns: payroll (ind_nomina_ult1) comes with pensions_2
//     (ind_nom_pens_ult1) and often payroll_account (ind_cno_fin_ult1);
//     e_account and credit card follow a current account; junior accounts
//     exist only under 20 and turn into current accounts;
//   - recent history: a product dropped 1-3 months ago is likely re-added
//     (payroll, pensions_2, direct debit and credit card flicker);
//   - the season: taxes (ind_reca_fin_ult1) spike in June and are dropped
//     again over the summer.
// Owned products are kept month to month and dropped at small per-product
// rates. About 3-4% of customers add at least one product in a month; the
// most frequent additions are direct debit, pensions_2, payroll, credit
// card, payroll_account, current account, e_account, and taxes in June.
//
//   ProductState state;
//   StartProducts(profile, seed, index, profile.first_month, &state);
//   for (int m = profile.first_month + 1; ...; ++m)
//     StepProducts(profile, seed, index, m, &state);
#ifndef RECSYS_TRAINING_GEN_PRODUCTS_H_
#define RECSYS_TRAINING_GEN_PRODUCTS_H_

#include <cstdint>

#include "common/products.h"
#include "training/gen_customer.h"

namespace recsys::gen {

// A customer's products and activity as of the last simulated month.
struct ProductState {
  ProductMask owned = 0;        // owned in the last simulated month
  ProductMask history[3] = {};  // owned 1, 2 and 3 months before that
  ProductMask ever = 0;         // owned in any simulated month
  bool active = false;          // ind_actividad_cliente
};

// Sets `*state` to the customer's products in its first month `month`:
// a customer who joins then starts with an account (or nothing); an existing
// customer gets products drawn from the long-run distribution plus a few
// simulated months of history.
void StartProducts(const CustomerProfile& profile, uint64_t seed, int64_t index,
                   int month, ProductState* state);

// Advances `*state` from month - 1 to `month`.
void StepProducts(const CustomerProfile& profile, uint64_t seed, int64_t index,
                  int month, ProductState* state);

}  // namespace recsys::gen

#endif  // RECSYS_TRAINING_GEN_PRODUCTS_H_
