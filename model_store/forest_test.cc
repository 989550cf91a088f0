#include "model_store/forest.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "model_store/booster.h"
#include "nlohmann/json.hpp"

namespace recsys {
namespace {

using ::testing::HasSubstr;

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

struct Trained {
  std::unique_ptr<Booster> booster;
  std::string ubj;
  std::vector<float> train_x;  // the training rows: values on split points
};

// Trains a multi:softprob model on `rows` random rows of `features` features
// (15% missing, values on a coarse grid so that rows land on thresholds)
// whose label depends on the first features.
Trained TrainModel(int rows, int features, int classes, int depth, int rounds,
                   uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  Trained out;
  out.train_x.resize(static_cast<size_t>(rows) * features);
  std::vector<float> y(rows);
  for (int r = 0; r < rows; ++r) {
    float* x = &out.train_x[static_cast<size_t>(r) * features];
    for (int f = 0; f < features; ++f) {
      x[f] = rng() % 100 < 15 ? kNaN : std::round(normal(rng) * 8) / 8;
    }
    const float s = (std::isnan(x[0]) ? 0.3f : x[0]) * 3 +
                    (std::isnan(x[1 % features]) ? -1 : x[1 % features]);
    y[r] = static_cast<float>((static_cast<int>(std::fabs(s) * 2) + rng() % 2) %
                              classes);
  }
  auto train = DMatrix::Create(out.train_x.data(), rows, features, y);
  EXPECT_TRUE(train.ok()) << train.status();
  TrainOptions options;
  options.params = {{"objective", "multi:softprob"},
                    {"num_class", std::to_string(classes)},
                    {"max_depth", std::to_string(depth)},
                    {"eta", "0.3"},
                    {"min_child_weight", "0.5"},
                    {"nthread", "2"}};
  options.max_rounds = rounds;
  auto result = Train(options, **train);
  EXPECT_TRUE(result.ok()) << result.status();
  out.ubj = *result->booster->SaveToBuffer();
  auto loaded = Booster::LoadFromBuffer(out.ubj);
  EXPECT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_TRUE((*loaded)->SetParam("nthread", "1").ok());
  out.booster = *std::move(loaded);
  return out;
}

// Test rows: training rows (on thresholds), fresh random rows, rows with
// NaN in runs of positions, +-inf, -0 and huge values.
std::vector<float> TestRows(const Trained& model, int features, int rows,
                            uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  std::vector<float> x(static_cast<size_t>(rows) * features);
  const int train_rows = static_cast<int>(model.train_x.size() / features);
  for (int r = 0; r < rows; ++r) {
    float* row = &x[static_cast<size_t>(r) * features];
    const int kind = r % 5;
    for (int f = 0; f < features; ++f) {
      switch (kind) {
        case 0:  // a training row
          row[f] =
              model.train_x[static_cast<size_t>(r % train_rows) * features + f];
          break;
        case 1:  // all missing but one
          row[f] = f == r % features ? normal(rng) : kNaN;
          break;
        case 2: {  // specials
          const float specials[] = {kInf,  -kInf,  -0.0f, 0.0f,
                                    3e38f, -3e38f, kNaN,  0.125f};
          row[f] = specials[rng() % 8];
          break;
        }
        default:
          row[f] = rng() % 100 < 20 ? kNaN : normal(rng);
      }
    }
  }
  return x;
}

std::vector<ForestKernel> Kernels() {
  std::vector<ForestKernel> k = {ForestKernel::kScalar};
  if (ForestKernelSupported(ForestKernel::kAvx2)) {
    k.push_back(ForestKernel::kAvx2);
  }
  if (ForestKernelSupported(ForestKernel::kAvx512)) {
    k.push_back(ForestKernel::kAvx512);
  }
  return k;
}

// Predicts `x` with XGBoost and with every kernel, in several batch sizes
// (1 row at a time, and chunks crossing the 256-row pass boundary), and
// compares the bytes.
void ExpectBitIdentical(const Trained& model, const Forest& forest,
                        const std::vector<float>& x, int features) {
  const int64_t rows = static_cast<int64_t>(x.size()) / features;
  const int classes = forest.num_class();
  std::vector<float> want(rows * classes);
  ASSERT_TRUE(
      model.booster->Predict(x.data(), rows, features, want.data()).ok());
  for (ForestKernel kernel : Kernels()) {
    for (int64_t batch :
         {int64_t{1}, int64_t{7}, int64_t{17}, int64_t{300}, rows}) {
      std::vector<float> got(rows * classes, -1.0f);
      for (int64_t start = 0; start < rows; start += batch) {
        const int64_t n = std::min(batch, rows - start);
        ASSERT_TRUE(forest
                        .Predict(&x[start * features], n, features,
                                 &got[start * classes], kernel)
                        .ok());
      }
      for (int64_t r = 0; r < rows; ++r) {
        ASSERT_EQ(std::memcmp(&got[r * classes], &want[r * classes],
                              classes * sizeof(float)),
                  0)
            << "kernel " << ForestKernelName(kernel) << " batch " << batch
            << " row " << r << " class 0: " << got[r * classes] << " vs "
            << want[r * classes];
      }
    }
  }
}

TEST(ForestTest, SmallModelMatchesXgboostBitForBit) {
  const Trained model = TrainModel(600, 4, 3, 3, 20, 1);
  auto forest = Forest::FromModel(model.ubj);
  ASSERT_TRUE(forest.ok()) << forest.status();
  EXPECT_EQ((*forest)->num_class(), 3);
  EXPECT_EQ((*forest)->num_trees(), 60);
  EXPECT_LE((*forest)->depth(), 3);
  ExpectBitIdentical(model, **forest, TestRows(model, 4, 3000, 7), 4);
}

TEST(ForestTest, DefaultShapeMatchesXgboostBitForBit) {
  // 24 classes, 100 features, depth 6 (the serving shape; fewer rounds).
  const Trained model = TrainModel(3000, 100, 24, 6, 12, 2);
  auto forest = Forest::FromModel(model.ubj);
  ASSERT_TRUE(forest.ok()) << forest.status();
  EXPECT_EQ((*forest)->depth(), 6);
  EXPECT_EQ((*forest)->num_trees(), 24 * 12);
  ExpectBitIdentical(model, **forest, TestRows(model, 100, 4000, 8), 100);
}

TEST(ForestTest, DeepModelMatchesXgboostBitForBit) {
  const Trained model = TrainModel(3000, 20, 5, 9, 8, 3);
  auto forest = Forest::FromModel(model.ubj);
  ASSERT_TRUE(forest.ok()) << forest.status();
  EXPECT_GE((*forest)->depth(), 7);
  ExpectBitIdentical(model, **forest, TestRows(model, 20, 2000, 9), 20);
}

TEST(ForestTest, KernelSupportFollowsTheCpu) {
  __builtin_cpu_init();
  const bool avx2 =
      __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  const bool avx512 =
      __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
      __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
  EXPECT_TRUE(ForestKernelSupported(ForestKernel::kScalar));
  EXPECT_TRUE(ForestKernelSupported(ForestKernel::kAuto));
  EXPECT_EQ(ForestKernelSupported(ForestKernel::kAvx2), avx2);
  EXPECT_EQ(ForestKernelSupported(ForestKernel::kAvx512), avx512);

  const Trained model = TrainModel(300, 4, 3, 2, 2, 6);
  auto forest = Forest::FromModel(model.ubj);
  ASSERT_TRUE(forest.ok()) << forest.status();
  EXPECT_EQ((*forest)->best_kernel(), avx512 ? ForestKernel::kAvx512
                                      : avx2 ? ForestKernel::kAvx2
                                             : ForestKernel::kScalar);
  std::vector<float> x(4, 0.5f), out(3);
  for (ForestKernel kernel : {ForestKernel::kAvx2, ForestKernel::kAvx512}) {
    if (ForestKernelSupported(kernel)) continue;
    EXPECT_EQ((*forest)->Predict(x.data(), 1, 4, out.data(), kernel).code(),
              absl::StatusCode::kInvalidArgument);
  }
}

// The scalar walk forced against every vector kernel, for row counts on
// both sides of each kernel's switch from trees in lanes (fewer than 4 rows
// with AVX2, 8 with AVX-512) to rows in lanes, on a forest whose tree count
// (5 classes x 7 rounds = 35) leaves a tail after groups of 8 and of 16.
TEST(ForestTest, ForcedScalarGivesTheVectorKernelsBytes) {
  const Trained model = TrainModel(2000, 30, 5, 6, 7, 7);
  auto forest = Forest::FromModel(model.ubj);
  ASSERT_TRUE(forest.ok()) << forest.status();
  ASSERT_EQ((*forest)->num_trees(), 35);
  const std::vector<float> x = TestRows(model, 30, 300, 11);
  std::vector<ForestKernel> vector_kernels = Kernels();
  vector_kernels.erase(vector_kernels.begin());  // kScalar
  if (vector_kernels.empty()) {
    GTEST_SKIP() << "this CPU has neither AVX2 nor AVX-512";
  }
  for (int64_t rows : {1, 2, 3, 4, 5, 7, 8, 9, 16, 33, 256, 300}) {
    std::vector<float> scalar(rows * 5, -1.0f);
    ASSERT_TRUE(
        (*forest)
            ->Predict(x.data(), rows, 30, scalar.data(), ForestKernel::kScalar)
            .ok());
    for (ForestKernel kernel : vector_kernels) {
      std::vector<float> got(rows * 5, -2.0f);
      ASSERT_TRUE(
          (*forest)->Predict(x.data(), rows, 30, got.data(), kernel).ok());
      EXPECT_EQ(std::memcmp(got.data(), scalar.data(), got.size() * 4), 0)
          << ForestKernelName(kernel) << ", " << rows << " rows";
    }
  }
}

TEST(ForestTest, ReadsXgboostJsonAsWellAsUbj) {
  const Trained model = TrainModel(600, 4, 3, 3, 5, 4);
  const std::string json =
      nlohmann::json::from_ubjson(model.ubj).dump();  // floats round-trip
  auto forest = Forest::FromModel(json);
  ASSERT_TRUE(forest.ok()) << forest.status();
  ExpectBitIdentical(model, **forest, TestRows(model, 4, 500, 5), 4);
}

TEST(ForestTest, TamperedLeavesNoLongerMatch) {
  const Trained model = TrainModel(600, 4, 3, 3, 5, 4);
  auto forest = Forest::FromModel(model.ubj);
  ASSERT_TRUE(forest.ok()) << forest.status();
  (*forest)->TamperLeavesForTesting(0, 1e-3f);
  const std::vector<float> x = TestRows(model, 4, 10, 5);
  std::vector<float> want(10 * 3), got(10 * 3);
  ASSERT_TRUE(model.booster->Predict(x.data(), 10, 4, want.data()).ok());
  ASSERT_TRUE((*forest)->Predict(x.data(), 10, 4, got.data()).ok());
  EXPECT_NE(std::memcmp(got.data(), want.data(), got.size() * 4), 0);
}

TEST(ForestTest, RejectsWrongFeatureCount) {
  const Trained model = TrainModel(600, 4, 3, 3, 2, 4);
  auto forest = Forest::FromModel(model.ubj);
  ASSERT_TRUE(forest.ok()) << forest.status();
  std::vector<float> x(5), out(3);
  const absl::Status s = (*forest)->Predict(x.data(), 1, 5, out.data());
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("5 features; the model expects 4"));
}

TEST(ForestTest, RejectsGarbageAndOtherObjectives) {
  EXPECT_EQ(Forest::FromModel("not a model").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Forest::FromModel("{}").status().code(),
            absl::StatusCode::kInvalidArgument);

  const Trained model = TrainModel(600, 4, 3, 3, 2, 4);
  nlohmann::json j = nlohmann::json::from_ubjson(model.ubj);
  j["learner"]["objective"]["name"] = "multi:softmax";
  const absl::Status s = Forest::FromModel(j.dump()).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnimplemented);
  EXPECT_THAT(s.message(), HasSubstr("multi:softprob only"));

  j = nlohmann::json::from_ubjson(model.ubj);
  j["learner"]["gradient_booster"]["model"]["trees"][0]["left_children"][0] =
      1000;
  EXPECT_THAT(Forest::FromModel(j.dump()).status().message(),
              HasSubstr("out of range"));

  j = nlohmann::json::from_ubjson(model.ubj);
  // A cycle: the root's left child is the root.
  j["learner"]["gradient_booster"]["model"]["trees"][0]["left_children"][0] = 0;
  EXPECT_FALSE(Forest::FromModel(j.dump()).ok());
}

// The streaming reader refuses what the forest cannot compute, with the same
// codes as before it streamed: types in the tree arrays it reads, missing
// arrays, categorical splits; and ignores the arrays it does not read.
TEST(ForestTest, ReadsOnlyTheTreeArraysItNeedsAndChecksTheirTypes) {
  const Trained model = TrainModel(600, 4, 3, 3, 2, 4);
  const nlohmann::json good = nlohmann::json::from_ubjson(model.ubj);
  ASSERT_TRUE(good["learner"]["gradient_booster"]["model"]["trees"][0].contains(
      "loss_changes"));
  auto ubj = [](const nlohmann::json& doc) {
    const std::vector<uint8_t> bytes = nlohmann::json::to_ubjson(doc);
    return std::string(bytes.begin(), bytes.end());
  };

  nlohmann::json j = good;
  j["learner"]["gradient_booster"]["model"]["trees"][0]["loss_changes"] =
      "not read";
  j["learner"]["gradient_booster"]["model"]["trees"][0]["sum_hessian"] =
      nlohmann::json::object({{"a", {1, 2}}});
  auto forest = Forest::FromModel(ubj(j));
  ASSERT_TRUE(forest.ok()) << forest.status();
  ExpectBitIdentical(model, **forest, TestRows(model, 4, 200, 5), 4);

  j = good;
  j["learner"]["gradient_booster"]["model"]["trees"][1]["left_children"][0] =
      1.5;
  absl::Status s = Forest::FromModel(ubj(j)).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(),
              HasSubstr("tree 1 'left_children' holds a float, expected "
                        "integers"));

  j = good;
  j["learner"]["gradient_booster"]["model"]["trees"][1].erase(
      "split_conditions");
  s = Forest::FromModel(j.dump()).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("tree 1 has no array 'split_conditions'"));

  j = good;
  j["learner"]["gradient_booster"]["model"]["trees"][0]["split_type"][0] = 1;
  EXPECT_EQ(Forest::FromModel(ubj(j)).status().code(),
            absl::StatusCode::kUnimplemented);

  j = good;
  j["learner"]["gradient_booster"]["model"]["tree_info"][0] = "0";
  EXPECT_THAT(Forest::FromModel(j.dump()).status().message(),
              HasSubstr("tree_info[0] is a string"));

  j = good;
  j["learner"]["gradient_booster"]["name"] = "dart";
  EXPECT_EQ(Forest::FromModel(j.dump()).status().code(),
            absl::StatusCode::kUnimplemented);
}

}  // namespace
}  // namespace recsys
