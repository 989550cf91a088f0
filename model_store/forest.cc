#include "model_store/forest.h"

#include <immintrin.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <string>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

// Why this layout and these kernels. Measured with bench/forest_bench (CPU
// time of one thread, median of 6 repetitions) on the default shape (60
// rounds x 24 classes, depth 6, 100 features) on the shared 2-core AMD EPYC
// (Zen 4) dev VM at load 9-12, XGBoost 1.7.4 (nthread=1) in the same run;
// BENCHMARKS.md has the whole run:
//
//   256 rows/call                 rows/s    vs XGBoost (15,378 rows/s)
//   scalar (one row at a time)    16,730    1.1x
//   AVX2, 8 rows in lanes         50,533    3.3x
//   AVX-512, 16 rows in lanes     84,080    5.5x
//   1 row/call                    CPU us    vs XGBoost (212 us)
//   scalar                        55.8      3.8x
//   AVX2, 8 trees in lanes        28.4      7.5x
//   AVX-512, 16 trees in lanes    19.7      10.7x
//
// - Perfect trees in breadth-first order make the descent arithmetic (the
//   child of position p in the next level is 2p + went_right) with no child
//   pointers to load, and make the nodes of one level contiguous: the first
//   levels of a tree fit in one or two vector registers, so with rows in
//   SIMD lanes a level's split is fetched by a register permute
//   (vpermd/vpermt2d) instead of a gather. Trees of depth <= 6 (this
//   project's) cost at most 63 splits + 64 leaves = 508 bytes each (1.1 MB
//   for the default model, a quarter of its UBJ).
// - Rows in lanes, trees in the outer loop over a chunk of up to 256 rows:
//   one tree stays in L1 while every row of the chunk goes through it, and
//   the chunk's rows (100 KB) stay in L2. Per level and 16 rows the only
//   memory access is one gather of the rows' feature values (the split comes
//   from a permute), plus one gather of the leaves.
// - The scalar walk has no branch to mispredict (the compiler turns the
//   comparison into setcc), but it spends about 15 instructions per level
//   per row; a vector walk spends about as many per level for 8 or 16 rows.
// - One row (a lone unary call) leaves row lanes empty, so the vector
//   kernels put 8 or 16 trees in the lanes instead, gathering their splits.
// - AVX2 fetches level 4 (16 splits) by a gather: two vpermd and a blend
//   measured no faster (Avx2Ops::kPermute2).
// - Each walk is written once (forest_walk.inc) over a small set of lane
//   operations per instruction set (ScalarOps, Avx2Ops, Avx512Ops); the
//   refactor from one hand-written loop per kernel measured the same speed
//   (BENCHMARKS.md, before/after in one run).

namespace recsys {
namespace {

using Json = nlohmann::json;

constexpr int kChunk = 256;  // rows per tree-major pass
constexpr int kPad = 32;     // extra split entries so a level loads whole
constexpr int32_t kFeatureMask = 0x7fffffff;

// The forest's arrays as the kernels see them. margin is [class][kChunk].
struct View {
  const int32_t* feature;
  const float* threshold;
  const float* leaf;
  const int32_t* tree_class;
  int num_trees;
  int64_t num_features;
  int stride;  // of margin: [class][stride], stride >= rows, a multiple of 16
};

using KernelFn = void (*)(const View&, const float*, int, float*);

// ------------------------------------------------------- lane operations --
// One set per instruction set, as forest_walk.inc describes them.

// One lane: plain C++, for any x86-64 (and the tails of the vector walks).
struct ScalarOps {
  using I = int32_t;
  using F = float;
  static constexpr int kWidth = 1;
  static constexpr int kRegLevels = 0;  // a load from L1 is one instruction
  static constexpr bool kPermute2 = false;
  static I Zero() { return 0; }
  static I Iota(int) { return 0; }
  static I RowOffsets(int first, int, int nf) { return first * nf; }
  static I Add(I a, I b) { return a + b; }
  static I LoadI(const int32_t* p) { return *p; }
  static F LoadF(const float* p) { return *p; }
  static I Gather(const int32_t* base, I idx) { return base[idx]; }
  static F Gather(const float* base, I idx) { return base[idx]; }
  static I FeatureOffset(I row, I split) {
    return row + (split & kFeatureMask);
  }
  static I Step(I pos, I split, F th, F x) {
    const int left = (x < th) | ((x != x) & (split < 0));
    return 2 * pos + 1 - left;
  }
  static void AddTo(float* m, F v) { *m += v; }
  static void Store(float* out, F v) { *out = v; }
};

// GCC 12 warns about the undefined source operand inside its own gather and
// permute intrinsics (a known false positive), and about the walks' register
// caches of unused levels.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace scalar {
#define RECSYS_FOREST_TARGET
#include "model_store/forest_walk.inc"
#undef RECSYS_FOREST_TARGET
}  // namespace scalar

// ------------------------------------------------------------------ AVX2 --

namespace avx2 {
#define RECSYS_FOREST_TARGET __attribute__((target("avx2,fma")))

struct Avx2Ops {
  using I = __m256i;
  using F = __m256;
  static constexpr int kWidth = 8;
  static constexpr int kRegLevels = 4;  // levels 0..3: <= 8 splits
  // Level 4 from two registers (two vpermd and a blend) measured no faster
  // than its gather on Zen 4 (48.5-51.8k vs 49.1-56.5k rows/s, same run).
  static constexpr bool kPermute2 = false;
  RECSYS_FOREST_TARGET static I Zero() { return _mm256_setzero_si256(); }
  RECSYS_FOREST_TARGET static I Iota(int step) {
    return _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
                              _mm256_set1_epi32(step));
  }
  RECSYS_FOREST_TARGET static I RowOffsets(int first, int n, int nf) {
    alignas(32) int32_t off[8];
    for (int lane = 0; lane < 8; ++lane) {
      off[lane] = (first + lane < n ? first + lane : 0) * nf;
    }
    return _mm256_load_si256(reinterpret_cast<const __m256i*>(off));
  }
  RECSYS_FOREST_TARGET static I Add(I a, I b) { return _mm256_add_epi32(a, b); }
  RECSYS_FOREST_TARGET static I LoadI(const int32_t* p) {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  }
  RECSYS_FOREST_TARGET static F LoadF(const float* p) {
    return _mm256_loadu_ps(p);
  }
  RECSYS_FOREST_TARGET static I Permute(I table, I pos) {
    return _mm256_permutevar8x32_epi32(table, pos);
  }
  RECSYS_FOREST_TARGET static F Permute(F table, I pos) {
    return _mm256_permutevar8x32_ps(table, pos);
  }
  RECSYS_FOREST_TARGET static I Gather(const int32_t* base, I idx) {
    return _mm256_i32gather_epi32(base, idx, 4);
  }
  RECSYS_FOREST_TARGET static F Gather(const float* base, I idx) {
    return _mm256_i32gather_ps(base, idx, 4);
  }
  RECSYS_FOREST_TARGET static I FeatureOffset(I row, I split) {
    return _mm256_add_epi32(
        row, _mm256_and_si256(split, _mm256_set1_epi32(kFeatureMask)));
  }
  RECSYS_FOREST_TARGET static I Step(I pos, I split, F th, F x) {
    const I lt = _mm256_castps_si256(_mm256_cmp_ps(x, th, _CMP_LT_OQ));
    const I nan = _mm256_castps_si256(_mm256_cmp_ps(x, x, _CMP_UNORD_Q));
    const I left = _mm256_or_si256(
        lt, _mm256_and_si256(nan, _mm256_srai_epi32(split, 31)));
    // 2 * pos + 1 + (left ? -1 : 0)
    return _mm256_add_epi32(_mm256_add_epi32(pos, pos),
                            _mm256_add_epi32(_mm256_set1_epi32(1), left));
  }
  RECSYS_FOREST_TARGET static void AddTo(float* m, F v) {
    _mm256_storeu_ps(m, _mm256_add_ps(_mm256_loadu_ps(m), v));
  }
  RECSYS_FOREST_TARGET static void Store(float* out, F v) {
    _mm256_storeu_ps(out, v);
  }
};

#include "model_store/forest_walk.inc"
#undef RECSYS_FOREST_TARGET
}  // namespace avx2

// --------------------------------------------------------------- AVX-512 --

namespace avx512 {
#define RECSYS_FOREST_TARGET \
  __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl,avx2,fma")))

struct Avx512Ops {
  using I = __m512i;
  using F = __m512;
  static constexpr int kWidth = 16;
  static constexpr int kRegLevels = 5;     // levels 0..4: <= 16 splits
  static constexpr bool kPermute2 = true;  // level 5: vpermt2d
  RECSYS_FOREST_TARGET static I Zero() { return _mm512_setzero_si512(); }
  RECSYS_FOREST_TARGET static I Iota(int step) {
    return _mm512_mullo_epi32(
        _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
        _mm512_set1_epi32(step));
  }
  RECSYS_FOREST_TARGET static I RowOffsets(int first, int n, int nf) {
    alignas(64) int32_t off[16];
    for (int lane = 0; lane < 16; ++lane) {
      off[lane] = (first + lane < n ? first + lane : 0) * nf;
    }
    return _mm512_load_si512(off);
  }
  RECSYS_FOREST_TARGET static I Add(I a, I b) { return _mm512_add_epi32(a, b); }
  RECSYS_FOREST_TARGET static I LoadI(const int32_t* p) {
    return _mm512_loadu_si512(p);
  }
  RECSYS_FOREST_TARGET static F LoadF(const float* p) {
    return _mm512_loadu_ps(p);
  }
  RECSYS_FOREST_TARGET static I Permute(I table, I pos) {
    return _mm512_permutexvar_epi32(pos, table);
  }
  RECSYS_FOREST_TARGET static F Permute(F table, I pos) {
    return _mm512_permutexvar_ps(pos, table);
  }
  RECSYS_FOREST_TARGET static I Permute2(I lo, I hi, I pos) {
    return _mm512_permutex2var_epi32(lo, pos, hi);
  }
  RECSYS_FOREST_TARGET static F Permute2(F lo, F hi, I pos) {
    return _mm512_permutex2var_ps(lo, pos, hi);
  }
  RECSYS_FOREST_TARGET static I Gather(const int32_t* base, I idx) {
    return _mm512_i32gather_epi32(idx, base, 4);
  }
  RECSYS_FOREST_TARGET static F Gather(const float* base, I idx) {
    return _mm512_i32gather_ps(idx, base, 4);
  }
  RECSYS_FOREST_TARGET static I FeatureOffset(I row, I split) {
    return _mm512_add_epi32(
        row, _mm512_and_si512(split, _mm512_set1_epi32(kFeatureMask)));
  }
  RECSYS_FOREST_TARGET static I Step(I pos, I split, F th, F x) {
    const __mmask16 default_left = _mm512_movepi32_mask(split);
    const __mmask16 lt = _mm512_cmp_ps_mask(x, th, _CMP_LT_OQ);
    const __mmask16 nan = _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q);
    const __mmask16 right =
        static_cast<__mmask16>(~(lt | (nan & default_left)));
    const I twice = _mm512_add_epi32(pos, pos);
    return _mm512_mask_add_epi32(twice, right, twice, _mm512_set1_epi32(1));
  }
  RECSYS_FOREST_TARGET static void AddTo(float* m, F v) {
    _mm512_storeu_ps(m, _mm512_add_ps(_mm512_loadu_ps(m), v));
  }
  RECSYS_FOREST_TARGET static void Store(float* out, F v) {
    _mm512_storeu_ps(out, v);
  }
};

#include "model_store/forest_walk.inc"
#undef RECSYS_FOREST_TARGET
}  // namespace avx512

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

// ------------------------------------------------------------- dispatch --

using Depths = std::make_integer_sequence<int, Forest::kMaxDepth>;

// The walks of one kernel: `wide` for n >= min_wide rows, `narrow` below
// (fewer rows than half a vector would leave row lanes idle, so the vector
// kernels put trees in the lanes instead).
struct Walks {
  std::array<KernelFn, Forest::kMaxDepth> wide;
  std::array<KernelFn, Forest::kMaxDepth> narrow;
  int min_wide;
};

const Walks& WalksFor(ForestKernel kernel) {
  static const Walks kScalar{scalar::RowLanesByDepth<ScalarOps>(Depths{}),
                             scalar::RowLanesByDepth<ScalarOps>(Depths{}), 1};
  static const Walks kAvx2{avx2::RowLanesByDepth<avx2::Avx2Ops>(Depths{}),
                           avx2::TreeLanesByDepth<avx2::Avx2Ops>(Depths{}), 4};
  static const Walks kAvx512{
      avx512::RowLanesByDepth<avx512::Avx512Ops>(Depths{}),
      avx512::TreeLanesByDepth<avx512::Avx512Ops>(Depths{}), 8};
  switch (kernel) {
    case ForestKernel::kAvx512:
      return kAvx512;
    case ForestKernel::kAvx2:
      return kAvx2;
    default:
      return kScalar;
  }
}

ForestKernel DetectBestKernel() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
      __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512vl")) {
    return ForestKernel::kAvx512;
  }
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    return ForestKernel::kAvx2;
  }
  return ForestKernel::kScalar;
}

ForestKernel BestKernel() {
  static const ForestKernel best = DetectBestKernel();
  return best;
}

// XGBoost 1.7.4's common::Softmax (src/common/math.h), on one row.
void Softmax(const float* margin, int stride, int num_class, float* out) {
  float wmax = margin[0];
  for (int c = 1; c < num_class; ++c) {
    wmax = std::fmax(margin[static_cast<size_t>(c) * stride], wmax);
  }
  double wsum = 0.0;
  for (int c = 0; c < num_class; ++c) {
    out[c] = std::exp(margin[static_cast<size_t>(c) * stride] - wmax);
    wsum += out[c];
  }
  const float sum = static_cast<float>(wsum);
  for (int c = 0; c < num_class; ++c) out[c] /= sum;
}

// ---------------------------------------------------------------- parsing --

absl::Status Invalid(absl::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat("XGBoost model for the forest evaluator: ", what));
}

// XGBoost writes its parameters as strings ("24", "5E-1").
bool ParamFloat(const Json& j, float* out) {
  if (j.is_string()) return absl::SimpleAtof(j.get<std::string>(), out);
  if (j.is_number()) {
    *out = j.get<float>();
    return true;
  }
  return false;
}
bool ParamInt(const Json& j, int64_t* out) {
  if (j.is_string()) return absl::SimpleAtoi(j.get<std::string>(), out);
  if (j.is_number_integer()) {
    *out = j.get<int64_t>();
    return true;
  }
  return false;
}

// One tree's arrays, read from the model.
struct RawTree {
  std::vector<int64_t> left, right, split_index;
  std::vector<float> condition;
  std::vector<bool> default_left;
  int arrays_seen = 0;  // bit i: kTreeArrays[i] was present
};

// The per-node arrays of a tree that the forest reads, in bit order of
// RawTree::arrays_seen ("split_type" is optional).
constexpr const char* kTreeArrays[] = {"left_children",    "right_children",
                                       "split_indices",    "default_left",
                                       "split_conditions", "split_type"};
constexpr int kRequiredTreeArrays = 5;

// Reads the parts of an XGBoost model the forest needs while the document
// streams by (a SAX handler for nlohmann::json::sax_parse, UBJ or JSON):
// the parameters, the booster's and objective's names, tree_info and the
// per-node arrays of kTreeArrays. The document itself and the arrays the
// forest does not read (loss_changes, sum_hessian, base_weights, parents:
// most of a model's bytes) are never held: a DOM of the model took about
// 8x its UBJ size (BENCHMARKS.md, issue 13).
class ModelReader {
 public:
  // What was read; absent parameters stay null.
  Json num_class, num_feature, base_score;
  bool has_param = false, has_booster = false, has_objective = false;
  bool has_trees = false, has_tree_info = false;
  std::string booster_name, objective_name;  // "" when absent
  std::vector<Json> tree_info;
  std::vector<RawTree> trees;
  // The first problem in a tree array (set when a callback refuses).
  absl::Status error;

  // The SAX interface.
  bool null() { return Scalar(Json(nullptr)); }
  bool boolean(bool v) {
    if (Target* target = ArrayTarget()) return Integer(*target, v ? 1 : 0);
    return Scalar(Json(v));
  }
  bool number_integer(int64_t v) {
    if (Target* target = ArrayTarget()) return Integer(*target, v);
    return Scalar(Json(v));
  }
  bool number_unsigned(uint64_t v) {
    if (Target* target = ArrayTarget()) {
      return Integer(*target, v > static_cast<uint64_t>(INT64_MAX)
                                  ? INT64_MAX
                                  : static_cast<int64_t>(v));
    }
    return Scalar(Json(v));
  }
  bool number_float(double v, const std::string&) {
    if (Target* target = ArrayTarget()) {
      if (target->field == Field::kCondition) {
        // UBJ stores float32; JSON text holds the shortest decimal that
        // reads back as the same float.
        trees.back().condition.push_back(static_cast<float>(v));
        return true;
      }
      return Refuse(*target, "a float");
    }
    return Scalar(Json(v));
  }
  bool string(std::string& v) {
    if (Target* target = ArrayTarget()) return Refuse(*target, "a string");
    return Scalar(Json(v));
  }
  bool binary(Json::binary_t&) {
    if (Target* target = ArrayTarget()) return Refuse(*target, "binary");
    return true;
  }
  bool start_object(std::size_t) {
    if (Target* target = ArrayTarget()) return Refuse(*target, "an object");
    if (InTreesArray()) trees.emplace_back();
    if (Path({"learner", "learner_model_param"})) has_param = true;
    if (Path({"learner", "gradient_booster"})) has_booster = true;
    if (Path({"learner", "objective"})) has_objective = true;
    stack_.push_back(Frame{});
    return true;
  }
  bool key(std::string& k) {
    stack_.back().key = k;
    return true;
  }
  bool end_object() { return Pop(); }
  bool start_array(std::size_t) {
    if (Target* target = ArrayTarget()) return Refuse(*target, "an array");
    Frame frame;
    frame.is_array = true;
    if (Path({"learner", "gradient_booster", "model", "trees"})) {
      has_trees = true;
      frame.is_trees = true;
    } else if (Path({"learner", "gradient_booster", "model", "tree_info"})) {
      has_tree_info = true;
      frame.target.field = Field::kTreeInfo;
    } else if (stack_.size() == 6 && stack_[4].is_trees) {
      const std::string& k = stack_[5].key;
      for (int i = 0; i < 6; ++i) {
        if (k == kTreeArrays[i]) {
          frame.target.field = static_cast<Field>(i + 1);
          trees.back().arrays_seen |= 1 << i;
        }
      }
    }
    stack_.push_back(std::move(frame));
    return true;
  }
  bool end_array() { return Pop(); }
  bool parse_error(std::size_t, const std::string&,
                   const nlohmann::detail::exception&) {
    return false;
  }

 private:
  // Where the values of an array go; kNone = skipped. The order of the tree
  // fields is that of kTreeArrays.
  enum class Field {
    kNone,
    kLeft,
    kRight,
    kSplitIndex,
    kDefaultLeft,
    kCondition,
    kSplitType,
    kTreeInfo
  };
  struct Target {
    Field field = Field::kNone;
  };
  struct Frame {
    bool is_array = false;
    bool is_trees = false;  // learner.gradient_booster.model.trees
    std::string key;        // of an object: the last key read
    Target target;          // of an array
  };

  // The target of the array being read, if its values are wanted.
  Target* ArrayTarget() {
    if (stack_.empty() || !stack_.back().is_array ||
        stack_.back().target.field == Field::kNone) {
      return nullptr;
    }
    return &stack_.back().target;
  }

  // True when the open containers are objects under exactly these keys.
  bool Path(std::initializer_list<const char*> keys) const {
    if (stack_.size() != keys.size()) return false;
    size_t i = 0;
    for (const char* k : keys) {
      if (stack_[i].is_array || stack_[i].key != k) return false;
      ++i;
    }
    return true;
  }

  bool InTreesArray() const { return stack_.size() == 5 && stack_[4].is_trees; }

  bool Integer(const Target& target, int64_t v) {
    RawTree* tree = trees.empty() ? nullptr : &trees.back();
    switch (target.field) {
      case Field::kLeft:
        tree->left.push_back(v);
        break;
      case Field::kRight:
        tree->right.push_back(v);
        break;
      case Field::kSplitIndex:
        tree->split_index.push_back(v);
        break;
      case Field::kDefaultLeft:
        tree->default_left.push_back(v != 0);
        break;
      case Field::kCondition:
        tree->condition.push_back(static_cast<float>(v));
        break;
      case Field::kSplitType:
        if (v != 0) {
          error = absl::UnimplementedError(absl::StrCat(
              "tree ", trees.size() - 1,
              " has a categorical split; the forest evaluator computes "
              "numerical splits only"));
          return false;
        }
        break;
      case Field::kTreeInfo:
        tree_info.push_back(Json(v));
        break;
      case Field::kNone:
        break;
    }
    return true;
  }

  bool Refuse(const Target& target, const char* what) {
    if (target.field == Field::kTreeInfo) {
      error = Invalid(absl::StrCat("tree_info[", tree_info.size(), "] is ",
                                   what, ", not a class"));
    } else {
      error = Invalid(absl::StrCat(
          "tree ", trees.size() - 1, " '",
          kTreeArrays[static_cast<int>(target.field) - 1], "' holds ", what,
          target.field == Field::kCondition ? ", expected numbers"
                                            : ", expected integers"));
    }
    return false;
  }

  // A scalar outside the wanted arrays: keeps the parameters and names.
  bool Scalar(Json v) {
    if (stack_.size() == 3 && !stack_[2].is_array) {
      const std::string& k = stack_[2].key;
      if (Path({"learner", "learner_model_param", k.c_str()})) {
        if (k == "num_class") num_class = std::move(v);
        if (k == "num_feature") num_feature = std::move(v);
        if (k == "base_score") base_score = std::move(v);
      } else if (k == "name" && v.is_string()) {
        if (Path({"learner", "gradient_booster", "name"})) {
          booster_name = v.get<std::string>();
        }
        if (Path({"learner", "objective", "name"})) {
          objective_name = v.get<std::string>();
        }
      }
    }
    return true;
  }

  bool Pop() {
    stack_.pop_back();
    return true;
  }

  std::vector<Frame> stack_;
};

// Depth of the subtree at `node` (0 for a leaf); fails beyond kMaxDepth
// (which also catches cycles).
absl::StatusOr<int> Depth(const RawTree& tree, int64_t node, int level, int t) {
  const int64_t nodes = static_cast<int64_t>(tree.left.size());
  if (node < 0 || node >= nodes) {
    return Invalid(absl::StrCat("tree ", t, " has child index ", node,
                                " out of range (", nodes, " nodes)"));
  }
  if (tree.left[node] == -1) return 0;
  if (level >= Forest::kMaxDepth) {
    return absl::UnimplementedError(
        absl::StrCat("tree ", t, " is deeper than ", Forest::kMaxDepth,
                     ", the deepest the forest evaluator takes"));
  }
  absl::StatusOr<int> l = Depth(tree, tree.left[node], level + 1, t);
  if (!l.ok()) return l.status();
  absl::StatusOr<int> r = Depth(tree, tree.right[node], level + 1, t);
  if (!r.ok()) return r.status();
  return 1 + std::max(*l, *r);
}

}  // namespace

const char* ForestKernelName(ForestKernel kernel) {
  switch (kernel) {
    case ForestKernel::kScalar:
      return "scalar";
    case ForestKernel::kAvx2:
      return "avx2";
    case ForestKernel::kAvx512:
      return "avx512";
    default:
      return "auto";
  }
}

bool ForestKernelSupported(ForestKernel kernel) {
  switch (kernel) {
    case ForestKernel::kAvx512:
      return BestKernel() == ForestKernel::kAvx512;
    case ForestKernel::kAvx2:
      return BestKernel() != ForestKernel::kScalar;
    default:
      return true;
  }
}

absl::StatusOr<std::unique_ptr<Forest>> Forest::FromModel(
    absl::string_view model) {
  // UBJ and JSON both start with '{': try UBJ (what bundles hold) first.
  ModelReader reader;
  if (!Json::sax_parse(model, &reader, Json::input_format_t::ubjson,
                       /*strict=*/true)) {
    if (!reader.error.ok()) return reader.error;
    reader = ModelReader();
    if (!Json::sax_parse(model, &reader, Json::input_format_t::json,
                         /*strict=*/true)) {
      if (!reader.error.ok()) return reader.error;
      return Invalid("neither UBJ nor JSON");
    }
  }
  if (!reader.has_param || !reader.has_booster || !reader.has_objective) {
    return Invalid(
        "learner.learner_model_param, .gradient_booster or "
        ".objective is missing");
  }
  if (reader.booster_name != "gbtree") {
    return absl::UnimplementedError(
        "the forest evaluator computes gbtree models only");
  }
  if (reader.objective_name != "multi:softprob") {
    return absl::UnimplementedError(
        absl::StrCat("objective \"", reader.objective_name,
                     "\": the forest evaluator computes multi:softprob only"));
  }
  auto forest = std::unique_ptr<Forest>(new Forest());
  int64_t num_class = 0, num_feature = 0;
  if (!ParamInt(reader.num_class, &num_class) || num_class < 2 ||
      num_class > 4096) {
    return Invalid("learner_model_param.num_class is missing or not 2..4096");
  }
  if (!ParamInt(reader.num_feature, &num_feature) || num_feature < 1 ||
      num_feature > (int64_t{1} << 20)) {
    return Invalid(
        "learner_model_param.num_feature is missing or not "
        "1..1048576");
  }
  if (!ParamFloat(reader.base_score, &forest->base_score_)) {
    return Invalid("learner_model_param.base_score is missing or not a number");
  }
  forest->num_class_ = static_cast<int>(num_class);
  forest->num_features_ = num_feature;

  std::vector<RawTree>& raw = reader.trees;
  if (!reader.has_trees || !reader.has_tree_info ||
      raw.size() != reader.tree_info.size() || raw.empty() ||
      raw.size() > static_cast<size_t>(INT32_MAX)) {
    return Invalid(
        "gradient_booster.model needs as many trees as tree_info "
        "entries, at least one");
  }
  const int num_trees = static_cast<int>(raw.size());
  int depth = 1;
  for (int t = 0; t < num_trees; ++t) {
    const Json& info = reader.tree_info[t];
    if (info.get<int64_t>() < 0 || info.get<int64_t>() >= num_class) {
      return Invalid(absl::StrCat("tree_info[", t, "] is ", info.dump(),
                                  ", not a class of ", num_class));
    }
    forest->tree_class_.push_back(static_cast<int32_t>(info.get<int64_t>()));
    const RawTree& tree = raw[t];
    for (int i = 0; i < kRequiredTreeArrays; ++i) {
      if ((tree.arrays_seen & (1 << i)) == 0) {
        return Invalid(
            absl::StrCat("tree ", t, " has no array '", kTreeArrays[i], "'"));
      }
    }
    const size_t nodes = tree.left.size();
    if (nodes == 0 || tree.right.size() != nodes ||
        tree.split_index.size() != nodes || tree.default_left.size() != nodes ||
        tree.condition.size() != nodes) {
      return Invalid(absl::StrCat("tree ", t, " has per-node arrays of ",
                                  "different lengths or none"));
    }
    for (size_t i = 0; i < nodes; ++i) {
      if (tree.left[i] != -1 &&
          (tree.split_index[i] < 0 || tree.split_index[i] >= num_feature)) {
        return Invalid(absl::StrCat("tree ", t, " node ", i,
                                    " splits on feature ", tree.split_index[i],
                                    " of ", num_feature));
      }
    }
    absl::StatusOr<int> d = Depth(tree, 0, 0, t);
    if (!d.ok()) return d.status();
    depth = std::max(depth, *d);
  }
  forest->depth_ = depth;
  forest->num_trees_ = num_trees;
  const size_t splits = (size_t{1} << depth) - 1;
  const size_t leaves = splits + 1;
  forest->feature_.assign(splits * num_trees + kPad, 0);
  forest->threshold_.assign(splits * num_trees + kPad, 0.0f);
  forest->leaf_.assign(leaves * num_trees, 0.0f);
  for (int t = 0; t < num_trees; ++t) {
    const RawTree& tree = raw[t];
    int32_t* feat = &forest->feature_[t * splits];
    float* thr = &forest->threshold_[t * splits];
    float* leaf = &forest->leaf_[t * leaves];
    // Places `node` at position `pos` of level `level`.
    auto place = [&](auto&& self, int64_t node, int level, size_t pos) -> void {
      if (tree.left[node] == -1) {
        const size_t span = size_t{1} << (depth - level);
        std::fill(leaf + pos * span, leaf + (pos + 1) * span,
                  tree.condition[node]);
        return;  // the pass-through splits below keep feature 0, threshold 0
      }
      const size_t i = (size_t{1} << level) - 1 + pos;
      feat[i] = static_cast<int32_t>(tree.split_index[node]) |
                (tree.default_left[node] ? INT32_MIN : 0);
      thr[i] = tree.condition[node];
      self(self, tree.left[node], level + 1, 2 * pos);
      self(self, tree.right[node], level + 1, 2 * pos + 1);
    };
    place(place, 0, 0, 0);
  }
  forest->best_kernel_ = BestKernel();
  return forest;
}

absl::Status Forest::Predict(const float* rows, int64_t n_rows,
                             int64_t n_features, float* out,
                             ForestKernel kernel) const {
  if (n_features != num_features_) {
    return absl::InvalidArgumentError(
        absl::StrCat("forest: rows have ", n_features,
                     " features; the model expects ", num_features_));
  }
  if (n_rows < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("forest: n_rows is ", n_rows));
  }
  if (!ForestKernelSupported(kernel)) {
    return absl::InvalidArgumentError(
        absl::StrCat("forest: this CPU cannot run the ",
                     ForestKernelName(kernel), " kernel"));
  }
  if (kernel == ForestKernel::kAuto) kernel = best_kernel_;
  const int64_t first_chunk = std::min<int64_t>(kChunk, n_rows);
  const int stride = static_cast<int>((first_chunk + 15) / 16 * 16);
  const View view{
      feature_.data(), threshold_.data(), leaf_.data(), tree_class_.data(),
      num_trees_,      num_features_,     stride};
  const Walks& walks = WalksFor(kernel);
  const KernelFn wide = walks.wide[depth_ - 1];
  const KernelFn narrow = walks.narrow[depth_ - 1];
  // The margins live on the stack for the usual class counts: no allocation
  // per call and nothing kept per thread.
  constexpr size_t kStackMargins = 24 * kChunk;
  alignas(64) float stack_margin[kStackMargins];
  std::vector<float> heap_margin;
  const size_t margins = static_cast<size_t>(num_class_) * stride;
  float* margin = stack_margin;
  if (margins > kStackMargins) {
    heap_margin.resize(margins);
    margin = heap_margin.data();
  }
  for (int64_t start = 0; start < n_rows; start += kChunk) {
    const int n = static_cast<int>(std::min<int64_t>(kChunk, n_rows - start));
    std::fill(margin, margin + margins, base_score_);
    const float* x = rows + start * num_features_;
    (n >= walks.min_wide ? wide : narrow)(view, x, n, margin);
    for (int r = 0; r < n; ++r) {
      Softmax(margin + r, stride, num_class_,
              out + (start + r) * static_cast<int64_t>(num_class_));
    }
  }
  return absl::OkStatus();
}

size_t Forest::memory_bytes() const {
  return sizeof(*this) + feature_.capacity() * sizeof(int32_t) +
         threshold_.capacity() * sizeof(float) +
         leaf_.capacity() * sizeof(float) +
         tree_class_.capacity() * sizeof(int32_t);
}

std::vector<std::vector<float>> Forest::SplitPointsByFeature() const {
  std::vector<std::vector<float>> points(num_features_);
  const size_t splits = (size_t{1} << depth_) - 1;
  const size_t leaves = splits + 1;
  for (int t = 0; t < num_trees_; ++t) {
    // Pass-through splits (below a shallow leaf) hold feature 0, threshold 0
    // and default right: include only splits whose subtree has two values.
    for (size_t i = 0; i < splits; ++i) {
      int level = 0;
      while ((size_t{2} << level) - 1 <= i) ++level;
      const size_t pos = i - ((size_t{1} << level) - 1);
      const size_t span = size_t{1} << (depth_ - level);
      const float* leaf = &leaf_[t * leaves + pos * span];
      if (std::all_of(leaf, leaf + span,
                      [&](float v) { return v == leaf[0]; })) {
        continue;
      }
      points[feature_[t * splits + i] & kFeatureMask].push_back(
          threshold_[t * splits + i]);
    }
  }
  for (std::vector<float>& p : points) {
    std::sort(p.begin(), p.end());
    p.erase(std::unique(p.begin(), p.end()), p.end());
  }
  return points;
}

void Forest::TamperLeavesForTesting(int tree, float delta) {
  const size_t leaves = size_t{1} << depth_;
  for (size_t i = 0; i < leaves; ++i) leaf_[tree * leaves + i] += delta;
}

}  // namespace recsys
