// Structural validation of a serialized XGBoost model before XGBoost reads it.
//
// XGBoost 1.7.4 trusts its model files: a UBJ buffer truncated after a few
// bytes, or a single corrupted byte in a tree's child, parent or split-index
// array, makes XGBoosterLoadModelFromBuffer or the next prediction crash
// (SIGSEGV) instead of returning -1. Booster::LoadFromBuffer() therefore runs
// CheckXgbModel() first:
//
//   RECSYS_RETURN_IF_ERROR(CheckXgbModel(bytes));  // Then XGBoost may load.
//
// Internal to model_store; Booster::LoadFromBuffer() is the public entry.
#ifndef RECSYS_MODEL_STORE_XGB_MODEL_CHECK_H_
#define RECSYS_MODEL_STORE_XGB_MODEL_CHECK_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace recsys {

// Returns OK when `model` is a complete UBJ or JSON document of an XGBoost
// gbtree model whose trees are consistent: every per-node array has
// num_nodes entries, the nodes reachable from the root form a tree (each
// child index in range, visited once, its parent entry pointing back),
// every split index is below num_feature, there are no categorical splits,
// tree_info assigns each tree to an existing output group, and num_trees
// matches. Otherwise INVALID_ARGUMENT naming the first problem.
// Does not throw. Thread-safe.
absl::Status CheckXgbModel(absl::string_view model);

}  // namespace recsys

#endif  // RECSYS_MODEL_STORE_XGB_MODEL_CHECK_H_
