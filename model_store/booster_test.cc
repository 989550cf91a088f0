#include "model_store/booster.h"

#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace recsys {
namespace {

using ::testing::HasSubstr;

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr int kFeatures = 4;
constexpr int kClasses = 3;

// Rows of kFeatures features; the class is floor(x0) for x0 in [0, 3), the
// other features are noise (x3 is missing in every fifth row). With
// `random_labels` the labels carry no signal at all.
struct Dataset {
  std::vector<float> x;
  std::vector<float> y;
  int64_t rows = 0;
};

Dataset ThreeClassData(int rows, uint32_t seed, bool random_labels = false) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> uniform(0.0f, 3.0f);
  Dataset d;
  d.rows = rows;
  for (int r = 0; r < rows; ++r) {
    const float x0 = uniform(rng);
    d.x.push_back(x0);
    d.x.push_back(uniform(rng));
    d.x.push_back(uniform(rng));
    d.x.push_back(r % 5 == 0 ? kNaN : uniform(rng));
    d.y.push_back(random_labels ? static_cast<float>(rng() % kClasses)
                                : std::floor(x0));
  }
  return d;
}

std::unique_ptr<DMatrix> Matrix(const Dataset& d) {
  auto m = DMatrix::Create(d.x.data(), d.rows, kFeatures, d.y);
  EXPECT_TRUE(m.ok()) << m.status();
  return *std::move(m);
}

TrainOptions ThreeClassOptions(int rounds) {
  TrainOptions options;
  options.params = {{"objective", "multi:softprob"},
                    {"num_class", "3"},
                    {"max_depth", "3"},
                    {"eta", "0.3"},
                    {"nthread", "1"}};
  options.max_rounds = rounds;
  return options;
}

std::unique_ptr<Booster> TrainThreeClass(int rounds = 20) {
  const Dataset d = ThreeClassData(600, 1);
  auto result = Train(ThreeClassOptions(rounds), *Matrix(d));
  EXPECT_TRUE(result.ok()) << result.status();
  return std::move(result->booster);
}

std::vector<float> PredictAll(const Booster& booster, const Dataset& d) {
  std::vector<float> out(d.rows * booster.scores_per_row());
  const absl::Status s =
      booster.Predict(d.x.data(), d.rows, kFeatures, out.data());
  EXPECT_TRUE(s.ok()) << s;
  return out;
}

int ArgMax(const float* scores, int n) {
  return static_cast<int>(std::max_element(scores, scores + n) - scores);
}

bool BitIdentical(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() &&
         std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

TEST(BoosterTest, TrainedModelPredictsTheRightClasses) {
  std::unique_ptr<Booster> booster = TrainThreeClass();
  EXPECT_EQ(booster->num_features(), kFeatures);
  EXPECT_EQ(booster->num_class(), kClasses);
  EXPECT_EQ(booster->scores_per_row(), kClasses);
  EXPECT_EQ(*booster->BoostedRounds(), 20);

  const Dataset test = ThreeClassData(300, 2);
  const std::vector<float> scores = PredictAll(*booster, test);
  int correct = 0;
  for (int r = 0; r < test.rows; ++r) {
    const float* row = &scores[r * kClasses];
    EXPECT_NEAR(row[0] + row[1] + row[2], 1.0f, 1e-5f);
    correct += ArgMax(row, kClasses) == static_cast<int>(test.y[r]);
  }
  EXPECT_GE(correct, 294) << "accuracy on a separable problem";
}

TEST(BoosterTest, SaveLoadRoundTripPredictsBitForBit) {
  std::unique_ptr<Booster> trained = TrainThreeClass();
  auto model = trained->SaveToBuffer();
  ASSERT_TRUE(model.ok()) << model.status();
  ASSERT_FALSE(model->empty());
  EXPECT_EQ(model->front(), '{') << "UBJ starts with an object marker";

  auto loaded = Booster::LoadFromBuffer(*model);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ((*loaded)->num_features(), kFeatures);
  EXPECT_EQ((*loaded)->num_class(), kClasses);
  EXPECT_EQ(*(*loaded)->BoostedRounds(), 20);
  const Dataset test = ThreeClassData(200, 3);
  EXPECT_TRUE(
      BitIdentical(PredictAll(*trained, test), PredictAll(**loaded, test)));
  EXPECT_EQ(*(*loaded)->SaveToBuffer(), *model);
}

TEST(BoosterTest, PredictsWithMissingValues) {
  std::unique_ptr<Booster> booster = TrainThreeClass();
  // x0 decides the class; the noise features are missing.
  const std::vector<float> rows = {0.5f, kNaN, kNaN, kNaN,  //
                                   1.5f, kNaN, 1.0f, kNaN,  //
                                   2.5f, kNaN, kNaN, 2.0f,  //
                                   kNaN, kNaN, kNaN, kNaN};
  std::vector<float> scores(4 * kClasses);
  ASSERT_TRUE(booster->Predict(rows.data(), 4, kFeatures, scores.data()).ok());
  EXPECT_EQ(ArgMax(&scores[0], kClasses), 0);
  EXPECT_EQ(ArgMax(&scores[3], kClasses), 1);
  EXPECT_EQ(ArgMax(&scores[6], kClasses), 2);
  const float* all_missing = &scores[9];
  EXPECT_NEAR(all_missing[0] + all_missing[1] + all_missing[2], 1.0f, 1e-5f);
}

TEST(BoosterTest, PredictChecksTheFeatureCount) {
  std::unique_ptr<Booster> booster = TrainThreeClass(2);
  std::vector<float> rows(kFeatures + 1, 1.0f), out(kClasses);
  const absl::Status status =
      booster->Predict(rows.data(), 1, kFeatures + 1, out.data());
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("expects 4"));
  EXPECT_TRUE(booster->Predict(nullptr, 0, kFeatures, nullptr).ok());
}

// For every row and class: bias + the contributions = the margin of an
// independent in-place prediction (output_margin), and softmax(margins) =
// Predict's probabilities.
TEST(BoosterTest, ContributionsSumToTheMargin) {
  std::unique_ptr<Booster> booster = TrainThreeClass();
  const Dataset d = ThreeClassData(12, 7);  // row 0, 5, 10 miss x3
  ASSERT_EQ(booster->contributions_per_row(), kClasses * (kFeatures + 1));
  std::vector<float> contributions(d.rows * booster->contributions_per_row());
  ASSERT_TRUE(booster
                  ->PredictContributions(d.x.data(), d.rows, kFeatures,
                                         contributions.data())
                  .ok());
  std::vector<float> margins(d.rows * kClasses);
  ASSERT_TRUE(
      booster->PredictMargin(d.x.data(), d.rows, kFeatures, margins.data())
          .ok());
  const std::vector<float> probabilities = PredictAll(*booster, d);
  for (int r = 0; r < d.rows; ++r) {
    double exp_sum = 0;
    for (int c = 0; c < kClasses; ++c)
      exp_sum += std::exp(margins[r * kClasses + c]);
    for (int c = 0; c < kClasses; ++c) {
      const float* row = &contributions[(r * kClasses + c) * (kFeatures + 1)];
      double sum = 0;
      for (int f = 0; f <= kFeatures; ++f) sum += row[f];  // bias last
      EXPECT_NEAR(sum, margins[r * kClasses + c], 1e-4)
          << "row " << r << " class " << c;
      EXPECT_NEAR(std::exp(margins[r * kClasses + c]) / exp_sum,
                  probabilities[r * kClasses + c], 1e-5);
    }
  }
  // x0 decides the class: it moves the margins more than the noise does.
  double x0 = 0, noise = 0;
  for (int r = 0; r < d.rows; ++r) {
    for (int c = 0; c < kClasses; ++c) {
      const float* row = &contributions[(r * kClasses + c) * (kFeatures + 1)];
      x0 += std::fabs(row[0]);
      noise += std::fabs(row[1]) + std::fabs(row[2]) + std::fabs(row[3]);
    }
  }
  EXPECT_GT(x0, noise);
}

TEST(BoosterTest, ContributionsCheckTheFeatureCount) {
  std::unique_ptr<Booster> booster = TrainThreeClass(3);
  std::vector<float> x(kFeatures + 1, 1.0f);
  std::vector<float> out(booster->contributions_per_row() * 2);
  const absl::Status s =
      booster->PredictContributions(x.data(), 1, kFeatures + 1, out.data());
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("model expects 4"));
  EXPECT_TRUE(
      booster->PredictContributions(x.data(), 0, kFeatures, out.data()).ok());
}

TEST(BoosterTest, SliceKeepsTheFirstRounds) {
  std::unique_ptr<Booster> booster = TrainThreeClass(20);
  auto sliced = booster->Slice(5);
  ASSERT_TRUE(sliced.ok()) << sliced.status();
  EXPECT_EQ(*(*sliced)->BoostedRounds(), 5);
  EXPECT_EQ((*sliced)->num_class(), kClasses);
  // Training is deterministic, so 5 rounds trained directly are the slice.
  std::unique_ptr<Booster> five = TrainThreeClass(5);
  const Dataset test = ThreeClassData(100, 4);
  EXPECT_TRUE(
      BitIdentical(PredictAll(**sliced, test), PredictAll(*five, test)));
  EXPECT_FALSE(
      BitIdentical(PredictAll(**sliced, test), PredictAll(*booster, test)));

  EXPECT_EQ(booster->Slice(0).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(booster->Slice(21).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(BoosterTest, EarlyStoppingStopsWhenValidationStopsImproving) {
  // Random labels: the validation loss gets worse after a few rounds.
  const Dataset train = ThreeClassData(400, 5, /*random_labels=*/true);
  const Dataset valid = ThreeClassData(400, 6, /*random_labels=*/true);
  TrainOptions options = ThreeClassOptions(200);
  options.params["max_depth"] = "6";
  options.early_stopping_rounds = 5;
  int log_calls = 0;
  options.log = [&](int round, std::optional<double> metric,
                    absl::string_view line) {
    EXPECT_EQ(round, log_calls++);
    EXPECT_TRUE(metric.has_value());
    EXPECT_THAT(std::string(line), HasSubstr("valid-mlogloss:"));
  };
  auto result = Train(options, *Matrix(train), Matrix(valid).get());
  ASSERT_TRUE(result.ok()) << result.status();

  EXPECT_EQ(result->metric_name, "mlogloss");
  const int trained = static_cast<int>(result->validation_history.size());
  EXPECT_LT(trained, 200);
  EXPECT_EQ(trained, result->best_iteration + 1 + 5);
  EXPECT_EQ(log_calls, trained);
  const auto& h = result->validation_history;
  EXPECT_EQ(*std::min_element(h.begin(), h.end()), h[result->best_iteration]);
  EXPECT_EQ(*result->booster->BoostedRounds(), result->best_iteration + 1);
  EXPECT_EQ(*result->booster->GetAttr("best_iteration"),
            std::to_string(result->best_iteration));

  options.keep_best_rounds_only = false;
  options.log = nullptr;
  auto all = Train(options, *Matrix(train), Matrix(valid).get());
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(*all->booster->BoostedRounds(), trained);
}

TEST(BoosterTest, TrainingIsDeterministicWithSeveralThreads) {
  const Dataset d = ThreeClassData(2000, 8, /*random_labels=*/true);
  TrainOptions options = ThreeClassOptions(6);
  options.params["max_depth"] = "4";
  options.params["subsample"] = "0.8";
  options.params["colsample_bytree"] = "0.8";
  options.params["seed"] = "42";
  options.params["nthread"] = "2";
  auto first = Train(options, *Matrix(d));
  auto second = Train(options, *Matrix(d));
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(*first->booster->SaveToBuffer(), *second->booster->SaveToBuffer());

  options.params["seed"] = "43";
  auto other_seed = Train(options, *Matrix(d));
  ASSERT_TRUE(other_seed.ok());
  EXPECT_NE(*first->booster->SaveToBuffer(),
            *other_seed->booster->SaveToBuffer());
}

TEST(BoosterTest, ConcurrentPredictionsMatchSingleThreaded) {
  auto loaded = Booster::LoadFromBuffer(*TrainThreeClass()->SaveToBuffer());
  ASSERT_TRUE(loaded.ok());
  Booster& booster = **loaded;
  ASSERT_TRUE(booster.SetParam("nthread", "1").ok());
  ASSERT_TRUE(booster.Warmup().ok());
  const Dataset test = ThreeClassData(256, 9);
  const std::vector<float> expected = PredictAll(booster, test);

  std::atomic<int> mismatches{0}, failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      const int block = t == 0 ? 1 : 16 * t;  // 1, 16, 32, 48 rows per call.
      std::vector<float> out(block * kClasses);
      for (int pass = 0; pass < 30; ++pass) {
        for (int64_t r = 0; r + block <= test.rows; r += block) {
          if (!booster
                   .Predict(&test.x[r * kFeatures], block, kFeatures,
                            out.data())
                   .ok()) {
            ++failures;
          }
          if (std::memcmp(out.data(), &expected[r * kClasses],
                          out.size() * sizeof(float)) != 0) {
            ++mismatches;
          }
        }
      }
    });
  }
  // The other const methods are read-only too: run them alongside.
  const std::string model = *booster.SaveToBuffer();
  threads.emplace_back([&] {
    for (int pass = 0; pass < 20; ++pass) {
      absl::StatusOr<std::string> saved = booster.SaveToBuffer();
      if (!saved.ok() || !booster.SaveConfig().ok() ||
          !booster.GetAttr("best_iteration").ok() ||
          !booster.BoostedRounds().ok()) {
        ++failures;
      } else if (*saved != model) {
        ++mismatches;
      }
    }
  });
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(mismatches, 0);
}

TEST(BoosterTest, BadParametersAreErrorsNotCrashes) {
  const Dataset d = ThreeClassData(100, 10);
  TrainOptions options = ThreeClassOptions(2);
  options.params["objective"] = "no:such_objective";
  auto result = Train(options, *Matrix(d));
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(result.status().message(), HasSubstr("no:such_objective"));

  options = ThreeClassOptions(2);
  options.params["num_class"] = "2";  // Labels go up to 2.
  EXPECT_FALSE(Train(options, *Matrix(d)).ok());
}

TEST(BoosterTest, DMatrixChecksSizes) {
  const std::vector<float> x(8, 1.0f);
  EXPECT_EQ(
      DMatrix::Create(x.data(), 2, 4, std::vector<float>{0.0f}).status().code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(DMatrix::Create(x.data(), 2, 4, std::vector<float>{0.0f, 1.0f},
                            std::vector<float>{1.0f, 1.0f, 1.0f})
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  auto ok = DMatrix::Create(x.data(), 2, 4, std::vector<float>{0.0f, 1.0f},
                            std::vector<float>{1.0f, 2.0f});
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ((*ok)->num_rows(), 2);
  EXPECT_EQ((*ok)->num_features(), 4);
}

TEST(BoosterTest, ZeroWeightsRemoveAClass) {
  const Dataset d = ThreeClassData(600, 11);
  std::vector<float> weights;
  for (float y : d.y) weights.push_back(y == 2.0f ? 0.0f : 1.0f);
  auto matrix = DMatrix::Create(d.x.data(), d.rows, kFeatures, d.y, weights);
  ASSERT_TRUE(matrix.ok());
  auto result = Train(ThreeClassOptions(10), **matrix);
  ASSERT_TRUE(result.ok()) << result.status();
  const Dataset test = ThreeClassData(100, 12);
  const std::vector<float> scores = PredictAll(*result->booster, test);
  for (int r = 0; r < test.rows; ++r) {
    EXPECT_NE(ArgMax(&scores[r * kClasses], kClasses), 2) << "row " << r;
  }
}

TEST(BoosterTest, AttributesAreSavedWithTheModel) {
  std::unique_ptr<Booster> booster = TrainThreeClass(2);
  ASSERT_TRUE(booster->SetAttr("feature_spec_hash", "abc123").ok());
  auto loaded = Booster::LoadFromBuffer(*booster->SaveToBuffer());
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(*(*loaded)->GetAttr("feature_spec_hash"), "abc123");
  EXPECT_EQ(*(*loaded)->GetAttr("best_iteration"), "1");
  EXPECT_EQ(*(*loaded)->GetAttr("no_such_key"), std::nullopt);
}

}  // namespace
}  // namespace recsys
