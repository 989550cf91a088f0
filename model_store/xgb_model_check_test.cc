// CheckXgbModel and Booster::LoadFromBuffer on broken model bytes: every
// case here crashes XGBoost 1.7.4 (or could) when it reads them unchecked.
#include "model_store/xgb_model_check.h"

#include <cmath>
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

constexpr int kFeatures = 3;

// 60 rows whose class (0..2) is floor(x0); a few rounds of small trees.
struct Data {
  std::vector<float> x, y;
};
Data Rows() {
  Data d;
  for (int r = 0; r < 60; ++r) {
    const float x0 = (r % 30) / 10.0f;
    d.x.insert(d.x.end(), {x0, static_cast<float>(r % 7), NAN});
    d.y.push_back(std::floor(x0));
  }
  return d;
}

std::unique_ptr<Booster> TrainModel(const std::string& booster = "gbtree") {
  const Data d = Rows();
  auto matrix = DMatrix::Create(d.x.data(), 60, kFeatures, d.y);
  TrainOptions options;
  options.params = {{"objective", "multi:softprob"},
                    {"num_class", "3"},
                    {"max_depth", "3"},
                    {"nthread", "1"},
                    {"booster", booster}};
  options.max_rounds = 3;
  auto result = Train(options, **matrix);
  EXPECT_TRUE(result.ok()) << result.status();
  return std::move(result->booster);
}

std::string ModelBytes() { return *TrainModel()->SaveToBuffer(); }

// The model as a JSON document, edited by `edit`, back to UBJ.
template <typename Edit>
std::string Edited(Edit edit) {
  nlohmann::json doc = nlohmann::json::from_ubjson(ModelBytes());
  edit(doc["learner"]["gradient_booster"]["model"]);
  const std::vector<uint8_t> ubj = nlohmann::json::to_ubjson(doc);
  return std::string(ubj.begin(), ubj.end());
}

TEST(XgbModelCheckTest, AcceptsWhatXgboostWrites) {
  EXPECT_TRUE(CheckXgbModel(ModelBytes()).ok());
}

TEST(XgbModelCheckTest, TruncatedModelIsAnErrorNotACrash) {
  // XGBoost itself segfaults on this model cut after 22 bytes.
  const std::string model = ModelBytes();
  for (size_t cut = 0; cut < model.size(); cut += 1 + model.size() / 97) {
    auto loaded = Booster::LoadFromBuffer(model.substr(0, cut));
    EXPECT_EQ(loaded.status().code(), absl::StatusCode::kInvalidArgument)
        << "cut at " << cut << " of " << model.size();
  }
  EXPECT_FALSE(Booster::LoadFromBuffer(model.substr(0, model.size() - 1)).ok());
}

TEST(XgbModelCheckTest, GarbageIsAnErrorNotACrash) {
  std::mt19937 rng(7);
  std::string random_bytes(4096, '\0');
  for (char& c : random_bytes) c = static_cast<char>(rng());
  for (const std::string& garbage :
       {std::string(), std::string("hello"), random_bytes, "{" + random_bytes,
        std::string("{not json"), std::string(R"({"learner": 1})"),
        std::string(R"({"a": [1, 2, 3]})")}) {
    auto loaded = Booster::LoadFromBuffer(garbage);
    EXPECT_EQ(loaded.status().code(), absl::StatusCode::kInvalidArgument)
        << garbage.substr(0, 20);
  }
}

TEST(XgbModelCheckTest, CorruptedBytesAreRejectedOrHarmless) {
  // Without the check, about 1 in 10 single-byte corruptions that still
  // parse as UBJ segfault XGBoost (mostly child / parent / split indices).
  const std::string model = ModelBytes();
  const Data d = Rows();
  int rejected = 0;
  for (size_t at = 0; at < model.size(); at += 13) {
    for (char value : {'\x00', '\xff'}) {
      std::string corrupt = model;
      corrupt[at] = value;
      auto loaded = Booster::LoadFromBuffer(corrupt);
      if (!loaded.ok()) {
        EXPECT_EQ(loaded.status().code(), absl::StatusCode::kInvalidArgument);
        ++rejected;
        continue;
      }
      // Accepted: a float or a string changed; the model must still work.
      ASSERT_TRUE((*loaded)->SetParam("nthread", "1").ok());
      std::vector<float> out(60 * (*loaded)->scores_per_row());
      EXPECT_TRUE(
          (*loaded)
              ->Predict(d.x.data(), 60, (*loaded)->num_features(), out.data())
              .ok())
          << "byte " << at;
    }
  }
  EXPECT_GT(rejected, 0);
}

TEST(XgbModelCheckTest, RejectsAChildPointingBackUp) {
  const std::string bad = Edited(
      [](nlohmann::json& model) { model["trees"][1]["left_children"][0] = 0; });
  EXPECT_THAT(CheckXgbModel(bad).message(),
              HasSubstr("tree 1: node 0 has a bad child 0"));
  EXPECT_FALSE(Booster::LoadFromBuffer(bad).ok());
}

TEST(XgbModelCheckTest, RejectsAChildOutOfRange) {
  const std::string bad = Edited([](nlohmann::json& model) {
    model["trees"][0]["right_children"][0] = 100000;
  });
  EXPECT_THAT(CheckXgbModel(bad).message(), HasSubstr("bad child 100000"));
}

TEST(XgbModelCheckTest, RejectsASplitOnAMissingFeature) {
  const std::string bad = Edited([](nlohmann::json& model) {
    model["trees"][0]["split_indices"][0] = kFeatures;
  });
  EXPECT_THAT(CheckXgbModel(bad).message(),
              HasSubstr("split on feature 3 but only 3 features"));
}

TEST(XgbModelCheckTest, RejectsArraysOfTheWrongLength) {
  const std::string bad = Edited([](nlohmann::json& model) {
    model["trees"][2]["split_conditions"].push_back(0.5);
  });
  EXPECT_THAT(CheckXgbModel(bad).message(), HasSubstr("tree 2: per-node"));
}

TEST(XgbModelCheckTest, RejectsTreeInfoOutOfRange) {
  const std::string bad =
      Edited([](nlohmann::json& model) { model["tree_info"][0] = 3; });
  EXPECT_THAT(CheckXgbModel(bad).message(),
              HasSubstr("tree_info names output group 3 of 3"));
}

TEST(XgbModelCheckTest, RejectsATreeCountMismatch) {
  const std::string bad =
      Edited([](nlohmann::json& model) { model["trees"].erase(8); });
  EXPECT_THAT(CheckXgbModel(bad).message(), HasSubstr("num_trees is 9"));
}

TEST(XgbModelCheckTest, RejectsBoostersOtherThanGbtree) {
  const absl::Status status =
      CheckXgbModel(*TrainModel("gblinear")->SaveToBuffer());
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("'gblinear' is not supported"));
}

TEST(XgbModelCheckTest, LoadsXgboostJsonText) {
  std::unique_ptr<Booster> trained = TrainModel();
  const std::string json =
      nlohmann::json::from_ubjson(*trained->SaveToBuffer()).dump();
  ASSERT_EQ(json.substr(0, 2), "{\"");
  auto loaded = Booster::LoadFromBuffer(json);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  const Data d = Rows();
  std::vector<float> expected(60 * 3), got(60 * 3);
  ASSERT_TRUE(
      trained->Predict(d.x.data(), 60, kFeatures, expected.data()).ok());
  ASSERT_TRUE((*loaded)->Predict(d.x.data(), 60, kFeatures, got.data()).ok());
  EXPECT_EQ(got, expected);
  EXPECT_FALSE(Booster::LoadFromBuffer(json.substr(0, json.size() / 2)).ok());
}

}  // namespace
}  // namespace recsys
