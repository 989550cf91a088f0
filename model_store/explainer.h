// Explanations: why a model version gave a product the score it did, as the
// exact TreeSHAP contributions of each feature to that product's margin
// (Booster::PredictContributions), the few largest named and the rest summed.
//
//   ExplainScratch scratch;                      // one per worker thread
//   std::vector<ProductExplanation> why;
//   RECSYS_RETURN_IF_ERROR(ExplainRow(*model, feature_row, row.top,
//                                     /*max_features=*/5, &scratch, &why));
//   // why[i] explains row.top.items[i]: margin = bias + sum of
//   // features[].contribution + others_contribution.
//
// The contributions are XGBoost's whichever evaluator predicts (our forest
// gives XGBoost's probabilities to the bit, so the margins agree): the
// version's booster is always loaded (ModelVersion::booster()). XGBoost keeps
// a prediction buffer per (thread, booster): call ExplainRow only on a fixed
// pool of threads (the server's workers), never on a thread per request.
//
// Cost: one DMatrix and one TreeSHAP pass over every tree of every class per
// call, far more than scoring the row (BENCHMARKS.md, "Explanations").
//
// Thread-safe: ExplainRow may run on many threads at once, each with its own
// ExplainScratch.
#ifndef RECSYS_MODEL_STORE_EXPLAINER_H_
#define RECSYS_MODEL_STORE_EXPLAINER_H_

#include <vector>

#include "absl/status/status.h"
#include "common/ranking.h"
#include "model_store/model_version.h"

namespace recsys {

// One feature's part in one product's margin.
struct FeatureShare {
  int feature = 0;         // index in the version's feature spec (schema)
  float value = 0;         // the value the model saw; NaN when missing
  float contribution = 0;  // log-odds units; > 0 pushed the product up
};

// Why one product got its margin (v1::Explanation, before naming features).
struct ProductExplanation {
  int product = 0;    // kProducts index
  double margin = 0;  // bias + every contribution
  double bias = 0;    // the expected margin (SHAP bias, base_score included)
  // At most max_features features with a non-zero contribution, largest
  // |contribution| first (ties: lower feature index first).
  std::vector<FeatureShare> features;
  double others_contribution = 0;  // the sum of every feature not listed
};

// Buffers reused by one thread across calls.
struct ExplainScratch {
  std::vector<float> contributions;
  std::vector<int> order;
};

// Explains each product of `top` (in its order) for the feature row `row`
// (model.num_features() floats, as the scorer featurized it): `*out` gets
// top.size explanations listing at most `max_features` features each.
// Returns INTERNAL when XGBoost fails; `*out` is then unspecified.
// REQUIRES: max_features >= 1 (the API allows 1..64, server/record_codec.h).
absl::Status ExplainRow(const ModelVersion& model, const float* row,
                        const TopKResult& top, int max_features,
                        ExplainScratch* scratch,
                        std::vector<ProductExplanation>* out);

}  // namespace recsys

#endif  // RECSYS_MODEL_STORE_EXPLAINER_H_
