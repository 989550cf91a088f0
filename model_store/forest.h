// Forest: our own evaluator of a multi:softprob XGBoost gbtree model on dense
// float rows, giving the same probabilities as XGBoost 1.7.4 to the bit.
//
//   RECSYS_ASSIGN_OR_RETURN(std::unique_ptr<Forest> forest,
//                           Forest::FromModel(model_ubj_bytes));
//   std::vector<float> probs(rows * forest->num_class());
//   RECSYS_RETURN_IF_ERROR(
//       forest->Predict(x, rows, forest->num_features(), probs.data()));
//
// What "the same as XGBoost 1.7.4" means, step by step (each checked with
// memcmp against XGBoosterPredictFromDense by forest_test.cc):
// - A missing value is NaN; it follows the split's default direction. Any
//   other value goes left when `x < split_condition` in float (so +inf goes
//   right of every finite threshold).
// - The margin of class c starts at base_score (float) and adds, in float, the
//   leaf value (split_conditions of the leaf) of every tree whose tree_info is
//   c, in the model's tree order.
// - Softmax over the classes: max in float, e_c = expf(m_c - max), the sum of
//   the e_c accumulated in double, p_c = e_c / float(sum).
//
// Layout: every tree is stored as a perfect binary tree of the forest's
// largest depth D (a leaf shallower than D is copied into all its descendant
// leaves, so the pass-through splits below it cannot change the answer), in
// breadth-first order, as three flat arrays: split feature (with the
// default-left flag in bit 31), threshold, and 2^D leaf values. Trees deeper
// than kMaxDepth are refused (the caller serves with XGBoost). Why this layout
// and the kernels: see forest.cc.
//
// Immutable after FromModel(); Predict is thread-safe and uses no per-thread
// state. Copying is deleted.
#ifndef RECSYS_MODEL_STORE_FOREST_H_
#define RECSYS_MODEL_STORE_FOREST_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace recsys {

// Which code evaluates the trees. kAuto is the fastest the CPU supports
// (AVX-512 > AVX2 > portable C++), chosen at run time: the binary itself is
// built for baseline x86-64.
enum class ForestKernel { kAuto, kScalar, kAvx2, kAvx512 };

// "scalar", "avx2", "avx512" ("auto" for kAuto).
const char* ForestKernelName(ForestKernel kernel);

// True when this CPU can run `kernel` (kAuto and kScalar always).
bool ForestKernelSupported(ForestKernel kernel);

class Forest {
 public:
  // Deepest tree accepted: a perfect tree of depth 12 has 4095 splits, 16 KB
  // per tree in this layout.
  static constexpr int kMaxDepth = 12;

  // Builds the forest from an XGBoost 1.7 model in UBJ (as Booster::
  // SaveToBuffer writes it and bundles hold it) or JSON. Returns
  // INVALID_ARGUMENT for bytes that are not such a model or whose trees are
  // inconsistent (a child index out of range, a split on a feature beyond
  // num_feature, a cycle), UNIMPLEMENTED for what this evaluator does not
  // compute (an objective other than multi:softprob, categorical splits,
  // trees deeper than kMaxDepth, another booster than gbtree). Streams the
  // bytes (no document tree): besides the forest it holds only the per-node
  // arrays it reads, about 28 bytes per node, until it returns.
  static absl::StatusOr<std::unique_ptr<Forest>> FromModel(
      absl::string_view model);

  Forest(const Forest&) = delete;
  Forest& operator=(const Forest&) = delete;

  // Writes n_rows * num_class() probabilities to `out`, row by row, from the
  // row-major n_rows x n_features matrix `rows` (NaN = missing).
  // Returns INVALID_ARGUMENT if n_features != num_features() or n_rows < 0,
  // or if `kernel` cannot run on this CPU. Zero rows writes nothing.
  absl::Status Predict(const float* rows, int64_t n_rows, int64_t n_features,
                       float* out,
                       ForestKernel kernel = ForestKernel::kAuto) const;

  int64_t num_features() const { return num_features_; }
  int num_class() const { return num_class_; }
  int num_trees() const { return num_trees_; }
  int depth() const { return depth_; }
  float base_score() const { return base_score_; }
  // The kernel Predict uses with kAuto on this CPU.
  ForestKernel best_kernel() const { return best_kernel_; }
  // Bytes of the tree arrays (what a loaded forest holds in memory).
  size_t memory_bytes() const;

  // The distinct thresholds of the splits on each feature (num_features()
  // lists, ascending): the values where an answer can change.
  std::vector<std::vector<float>> SplitPointsByFeature() const;

  // Test hook: adds `delta` to every leaf of tree `tree`, so that the forest
  // no longer matches its model (the load-time check must catch it).
  void TamperLeavesForTesting(int tree, float delta);

 private:
  Forest() = default;

  int64_t num_features_ = 0;
  int num_class_ = 0;
  int num_trees_ = 0;
  int depth_ = 1;
  float base_score_ = 0.5f;
  ForestKernel best_kernel_ = ForestKernel::kScalar;
  // Per tree t: splits (2^D - 1) at [t * splits_per_tree, ...), breadth
  // first; leaves (2^D) at [t * leaves_per_tree, ...). Both arrays carry 32
  // extra entries at the end so that kernels may load a full vector from the
  // start of any level.
  std::vector<int32_t> feature_;  // feature index | default_left << 31
  std::vector<float> threshold_;
  std::vector<float> leaf_;
  std::vector<int32_t> tree_class_;  // tree_info
};

}  // namespace recsys

#endif  // RECSYS_MODEL_STORE_FOREST_H_
