#include "model_store/xgb_model_check.h"

#include <algorithm>
#include <cstdint>
#include <exception>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace recsys {
namespace {

using Json = nlohmann::json;

// Per-node arrays of a tree in XGBoost's JSON schema. The first four hold
// the structure and are kept; the others are only counted.
enum TreeField {
  kLeftChildren,
  kRightChildren,
  kParents,
  kSplitIndices,
  kSplitConditions,
  kDefaultLeft,
  kBaseWeights,
  kLossChanges,
  kSumHessian,
  kSplitType,      // Optional; must be all 0 (numerical splits).
  kCategoryArray,  // categories, categories_{nodes,segments,sizes}: empty.
  kNumTreeFields
};
constexpr int kNumRequiredFields = kSplitType;  // Fields before kSplitType.
constexpr int kNumKeptFields = 4;
constexpr int64_t kRootParent = 0x7fffffff;  // XGBoost's invalid node id.
constexpr int64_t kMaxNodes = int64_t{1} << 30;

int TreeFieldOf(const std::string& key) {
  static const char* const kNames[] = {
      "left_children",    "right_children", "parents",      "split_indices",
      "split_conditions", "default_left",   "base_weights", "loss_changes",
      "sum_hessian",      "split_type"};
  for (int f = 0; f < kCategoryArray; ++f) {
    if (key == kNames[f]) return f;
  }
  if (key == "categories" || key == "categories_nodes" ||
      key == "categories_segments" || key == "categories_sizes") {
    return kCategoryArray;
  }
  return -1;
}

// What a JSON container is, in the XGBoost model schema.
enum class Kind {
  kOther,
  kRoot,
  kLearner,
  kGradientBooster,
  kLearnerModelParam,
  kGbModel,
  kGbTreeParam,
  kTreeInfo,
  kTrees,
  kTree,
  kTreeParam,
  kTreeArray,
};

// A SAX handler that checks the model in one pass, keeping one tree at a
// time: memory stays proportional to the largest tree, not the model.
class ModelScanner final : public nlohmann::json_sax<Json> {
 public:
  // The first problem found, or OK.
  const absl::Status& status() const { return status_; }

  // Checks what can only be checked once the whole document is read.
  void Finish() {
    if (!status_.ok()) return;
    if (booster_name_ != "gbtree") {
      Fail(absl::StrCat("gradient_booster '", booster_name_,
                        "' is not supported (only gbtree)"));
    } else if (num_feature_ <= 0) {
      Fail("learner_model_param.num_feature is missing or not positive");
    } else if (num_class_ < 0) {
      Fail("learner_model_param.num_class is missing or negative");
    } else if (trees_ == 0) {
      Fail("the model has no trees");
    } else if (num_trees_ != trees_ ||
               static_cast<int64_t>(tree_info_.size()) != trees_) {
      Fail(absl::StrCat("num_trees is ", num_trees_, " but there are ", trees_,
                        " trees and ", tree_info_.size(),
                        " tree_info entries"));
    } else if (max_split_index_ >= num_feature_) {
      Fail(absl::StrCat("split on feature ", max_split_index_, " but only ",
                        num_feature_, " features"));
    } else {
      const int64_t groups = num_class_ > 1 ? num_class_ : 1;
      for (int64_t group : tree_info_) {
        if (group < 0 || group >= groups) {
          Fail(absl::StrCat("tree_info names output group ", group, " of ",
                            groups));
          break;
        }
      }
    }
  }

  bool null() override { return Scalar(); }
  bool boolean(bool) override { return Scalar(/*numeric=*/true); }
  bool number_integer(number_integer_t v) override { return Integer(v); }
  bool number_unsigned(number_unsigned_t v) override {
    return Integer(
        v > static_cast<uint64_t>(INT64_MAX) ? -1 : static_cast<int64_t>(v));
  }
  bool number_float(number_float_t, const string_t&) override {
    return Scalar(/*numeric=*/true);
  }
  bool string(string_t& v) override;
  bool binary(binary_t&) override { return Scalar(); }
  bool start_object(std::size_t) override { return Start(/*array=*/false); }
  bool key(string_t& k) override {
    stack_.back().key = k;
    return true;
  }
  bool end_object() override;
  bool start_array(std::size_t) override { return Start(/*array=*/true); }
  bool end_array() override {
    stack_.pop_back();
    return true;
  }
  bool parse_error(std::size_t position, const std::string&,
                   const nlohmann::detail::exception& e) override {
    return Fail(absl::StrCat("not a complete document (byte ", position,
                             "): ", e.what()));
  }

 private:
  struct Frame {
    Kind kind;
    bool array;
    int field = -1;   // TreeField of a kTreeArray.
    std::string key;  // Current key of an object.
  };

  bool Fail(absl::string_view problem) {
    if (status_.ok()) {
      status_ =
          absl::InvalidArgumentError(absl::StrCat("XGBoost model: ", problem));
    }
    return false;
  }

  Kind ChildKind(const Frame& parent, bool array) const;
  bool Start(bool array);
  bool Scalar(bool numeric = false);
  bool Integer(int64_t v);
  bool CheckTree();

  void ResetTree() {
    for (auto& values : kept_) values.clear();
    for (int64_t& c : counts_) c = -1;
    tree_nodes_ = -1;
    tree_id_ = -1;
  }

  absl::Status status_;
  std::vector<Frame> stack_;
  std::string booster_name_;
  int64_t num_feature_ = -1, num_class_ = -1, num_trees_ = -1;
  std::vector<int64_t> tree_info_;
  int64_t trees_ = 0;
  int64_t max_split_index_ = -1;
  // The tree being read.
  std::vector<int64_t> kept_[kNumKeptFields];
  int64_t counts_[kNumTreeFields] = {};  // Elements per field, -1: absent.
  int64_t tree_nodes_ = -1;
  int64_t tree_id_ = -1;
};

Kind ModelScanner::ChildKind(const Frame& parent, bool array) const {
  const std::string& k = parent.key;
  switch (parent.kind) {
    case Kind::kRoot:
      return k == "learner" && !array ? Kind::kLearner : Kind::kOther;
    case Kind::kLearner:
      if (array) return Kind::kOther;
      if (k == "gradient_booster") return Kind::kGradientBooster;
      return k == "learner_model_param" ? Kind::kLearnerModelParam
                                        : Kind::kOther;
    case Kind::kGradientBooster:
      return k == "model" && !array ? Kind::kGbModel : Kind::kOther;
    case Kind::kGbModel:
      if (array && k == "trees") return Kind::kTrees;
      if (array && k == "tree_info") return Kind::kTreeInfo;
      return !array && k == "gbtree_model_param" ? Kind::kGbTreeParam
                                                 : Kind::kOther;
    case Kind::kTrees:
      return array ? Kind::kOther : Kind::kTree;
    case Kind::kTree:
      if (array) return TreeFieldOf(k) >= 0 ? Kind::kTreeArray : Kind::kOther;
      return k == "tree_param" ? Kind::kTreeParam : Kind::kOther;
    default:
      return Kind::kOther;
  }
}

bool ModelScanner::Start(bool array) {
  if (stack_.empty()) {
    if (array) return Fail("the document is not an object");
    stack_.push_back(Frame{Kind::kRoot, false, -1, ""});
    return true;
  }
  Frame frame{ChildKind(stack_.back(), array), array, -1, ""};
  if (frame.kind == Kind::kTreeArray) {
    frame.field = TreeFieldOf(stack_.back().key);
    counts_[frame.field] = 0;
  } else if (frame.kind == Kind::kTree) {
    ResetTree();
  }
  stack_.push_back(std::move(frame));
  return true;
}

bool ModelScanner::Scalar(bool numeric) {
  const Frame& top = stack_.back();
  if (top.kind == Kind::kTreeArray) {
    if (!numeric) return Fail("a tree array holds a non-number");
    if (top.field < kNumKeptFields) {
      return Fail("a tree structure array holds a non-integer");
    }
    if (top.field == kCategoryArray) {
      return Fail("categorical splits are not supported");
    }
    ++counts_[top.field];
  } else if (top.kind == Kind::kTreeInfo) {
    return Fail("tree_info holds a non-integer");
  }
  return true;
}

bool ModelScanner::Integer(int64_t v) {
  const Frame& top = stack_.back();
  if (top.kind == Kind::kTreeArray) {
    if (top.field < kNumKeptFields) {
      if (kept_[top.field].size() >= static_cast<size_t>(kMaxNodes)) {
        return Fail("a tree is too large");
      }
      kept_[top.field].push_back(v);
    } else if (top.field == kSplitType && v != 0) {
      return Fail("categorical splits are not supported");
    } else if (top.field == kCategoryArray) {
      return Fail("categorical splits are not supported");
    }
    ++counts_[top.field];
  } else if (top.kind == Kind::kTreeInfo) {
    tree_info_.push_back(v);
  } else if (top.kind == Kind::kTree && top.key == "id") {
    tree_id_ = v;
  }
  return true;
}

bool ModelScanner::string(string_t& v) {
  const Frame& top = stack_.back();
  int64_t* target = nullptr;
  if (top.kind == Kind::kGradientBooster && top.key == "name") {
    booster_name_ = v;
  } else if (top.kind == Kind::kLearnerModelParam) {
    if (top.key == "num_feature") target = &num_feature_;
    if (top.key == "num_class") target = &num_class_;
  } else if (top.kind == Kind::kGbTreeParam && top.key == "num_trees") {
    target = &num_trees_;
  } else if (top.kind == Kind::kTreeParam && top.key == "num_nodes") {
    target = &tree_nodes_;
  } else if (top.kind == Kind::kTreeArray || top.kind == Kind::kTreeInfo) {
    return Scalar();
  }
  if (target != nullptr && !absl::SimpleAtoi(v, target)) {
    return Fail(absl::StrCat(top.key, " is not an integer: '", v, "'"));
  }
  return true;
}

bool ModelScanner::end_object() {
  const bool tree = stack_.back().kind == Kind::kTree;
  stack_.pop_back();
  if (!tree) return true;
  if (!CheckTree()) return false;
  ++trees_;
  return true;
}

bool ModelScanner::CheckTree() {
  const std::string where = absl::StrCat("tree ", trees_, ": ");
  const int64_t n = tree_nodes_;
  if (n < 1 || n > kMaxNodes) {
    return Fail(absl::StrCat(where, "bad tree_param.num_nodes ", n));
  }
  if (tree_id_ != -1 && tree_id_ != trees_) {
    return Fail(absl::StrCat(where, "has id ", tree_id_));
  }
  for (int f = 0; f < kNumTreeFields; ++f) {
    const bool required = f < kNumRequiredFields;
    const int64_t expected = f == kCategoryArray ? 0 : n;
    if ((required || counts_[f] != -1) && counts_[f] != expected) {
      return Fail(absl::StrCat(where, "per-node array ", f, " has ", counts_[f],
                               " entries, expected ", expected));
    }
  }
  const std::vector<int64_t>& left = kept_[kLeftChildren];
  const std::vector<int64_t>& right = kept_[kRightChildren];
  const std::vector<int64_t>& parents = kept_[kParents];
  const std::vector<int64_t>& split = kept_[kSplitIndices];
  if ((parents[0] & kRootParent) != kRootParent) {
    return Fail(absl::StrCat(where, "the root has a parent"));
  }
  std::vector<char> seen(n, 0);
  std::vector<int64_t> pending = {0};
  seen[0] = 1;
  while (!pending.empty()) {
    const int64_t node = pending.back();
    pending.pop_back();
    if (left[node] == -1 && right[node] == -1) continue;  // A leaf.
    if (split[node] < 0) {
      return Fail(absl::StrCat(where, "node ", node, " splits on feature ",
                               split[node]));
    }
    max_split_index_ = std::max(max_split_index_, split[node]);
    for (int64_t child : {left[node], right[node]}) {
      if (child < 1 || child >= n || seen[child] ||
          (parents[child] & kRootParent) != node) {
        return Fail(
            absl::StrCat(where, "node ", node, " has a bad child ", child));
      }
      seen[child] = 1;
      pending.push_back(child);
    }
  }
  return true;
}

}  // namespace

absl::Status CheckXgbModel(absl::string_view model) {
  if (model.size() < 2 || model.front() != '{') {
    return absl::InvalidArgumentError(
        "XGBoost model: not UBJ or JSON (it must start with '{')");
  }
  // JSON text continues with a quote or white space, UBJ with a type marker.
  const char second = model[1];
  const bool json_text = second == '"' || second == ' ' || second == '\n' ||
                         second == '\r' || second == '\t' || second == '}';
  ModelScanner scanner;
  try {
    const auto* begin = reinterpret_cast<const uint8_t*>(model.data());
    const bool ok = Json::sax_parse(
        begin, begin + model.size(), &scanner,
        json_text ? Json::input_format_t::json : Json::input_format_t::ubjson,
        /*strict=*/true);
    if (!ok && scanner.status().ok()) {
      return absl::InvalidArgumentError("XGBoost model: unreadable");
    }
    if (ok) scanner.Finish();
  } catch (const std::exception& e) {  // nlohmann throws e.g. on bad_alloc.
    return absl::InvalidArgumentError(
        absl::StrCat("XGBoost model: unreadable: ", e.what()));
  }
  return scanner.status();
}

}  // namespace recsys
