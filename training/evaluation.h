// MAP@7 of a month, Kaggle's way, for the model and its two yardsticks:
// the popularity baseline (last month's most-added products, minus those the
// customer owns) and the ceiling (a perfect ranking).
//
// Customers who added nothing score 0 but count in the average, which runs
// over every customer of the month; so only the customers who added
// something need predictions.
//
//   RECSYS_ASSIGN_OR_RETURN(double map7, ModelMap7(booster, month));
//   double baseline = PopularityMap7(previous_month, month);
//   double ceiling = CeilingMap7(month);
#ifndef RECSYS_TRAINING_EVALUATION_H_
#define RECSYS_TRAINING_EVALUATION_H_

#include "absl/status/statusor.h"
#include "model_store/booster.h"
#include "training/dataset.h"

namespace recsys {

inline constexpr int kMapK = 7;

// MAP@7 of `booster`'s ranking (owned-last-month products excluded) on
// `month`. Errors: those of Booster::Predict.
absl::StatusOr<double> ModelMap7(const Booster& booster,
                                 const MonthData& month);

// MAP@7 of ranking products by how often they were added in `previous`.
double PopularityMap7(const MonthData& previous, const MonthData& month);

// MAP@7 of a perfect ranking: the share of customers who added something.
double CeilingMap7(const MonthData& month);

}  // namespace recsys

#endif  // RECSYS_TRAINING_EVALUATION_H_
