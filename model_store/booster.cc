#include "model_store/booster.h"

#include <xgboost/c_api.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/status_macros.h"
#include "model_store/xgb_model_check.h"
#include "nlohmann/json.hpp"

namespace recsys {
namespace {

// In 1.7.4 in-place prediction fails without "cache_id": 0.
constexpr char kPredictConfig[] =
    R"({"type": 0, "training": false, "iteration_begin": 0, )"
    R"("iteration_end": 0, "strict_shape": false, "cache_id": 0, )"
    R"("missing": NaN})";

// The same, margins before the softmax ("type": 1, output_margin).
constexpr char kMarginConfig[] =
    R"({"type": 1, "training": false, "iteration_begin": 0, )"
    R"("iteration_end": 0, "strict_shape": false, "cache_id": 0, )"
    R"("missing": NaN})";

// TreeSHAP contributions from a DMatrix; strict_shape gives rows x classes
// x (features + 1) for every objective.
constexpr char kContributionsConfig[] =
    R"({"type": 2, "training": false, "iteration_begin": 0, )"
    R"("iteration_end": 0, "strict_shape": true})";

constexpr char kUbjFormat[] = R"({"format": "ubj"})";

// Parses XGBoost's evaluation line "[3]\tvalid-merror:0.1\tvalid-mlogloss:0.4"
// for the set called `name`.
absl::StatusOr<std::vector<EvalMetric>> ParseEvalLine(absl::string_view line,
                                                      absl::string_view name) {
  std::vector<EvalMetric> metrics;
  const std::string prefix = absl::StrCat(name, "-");
  std::vector<absl::string_view> fields =
      absl::StrSplit(line, '\t', absl::SkipEmpty());
  for (size_t i = 1; i < fields.size(); ++i) {
    absl::string_view field = fields[i];
    const size_t colon = field.rfind(':');
    double value = 0;
    if (!absl::StartsWith(field, prefix) || colon == absl::string_view::npos ||
        colon < prefix.size() ||
        !absl::SimpleAtod(field.substr(colon + 1), &value)) {
      return absl::InternalError(
          absl::StrCat("cannot parse XGBoost evaluation '", line, "'"));
    }
    metrics.push_back(
        {std::string(field.substr(prefix.size(), colon - prefix.size())),
         value});
  }
  if (metrics.empty()) {
    return absl::InternalError(
        absl::StrCat("XGBoost evaluation has no metric: '", line, "'"));
  }
  return metrics;
}

// XGBoost's in-place prediction passes the rows through a "proxy" DMatrix.
// Without one it creates a proxy per call, and every proxy's constructor
// reads the cgroup CPU quota files (two open/read/close per call: about half
// the cost of a 1-row prediction). So each thread keeps one, created on its
// first prediction and freed when the thread exits. The proxy only carries
// the row pointer for the duration of a call; no booster caches it.
class ThreadProxy {
 public:
  ~ThreadProxy() {
    if (handle_ != nullptr) XGDMatrixFree(handle_);
  }
  absl::StatusOr<DMatrixHandle> Get() {
    if (handle_ == nullptr) {
      RECSYS_RETURN_IF_ERROR(
          XgbStatus(XGProxyDMatrixCreate(&handle_), "XGProxyDMatrixCreate"));
    }
    return handle_;
  }

 private:
  DMatrixHandle handle_ = nullptr;
};

}  // namespace

std::string XgboostVersion() {
  int major = 0, minor = 0, patch = 0;
  XGBoostVersion(&major, &minor, &patch);
  return absl::StrCat(major, ".", minor, ".", patch);
}

absl::Status XgbStatus(int rc, absl::string_view what, absl::StatusCode code) {
  if (rc == 0) return absl::OkStatus();
  return absl::Status(code, absl::StrCat(what, ": ", XGBGetLastError()));
}

// ---------------------------------------------------------------- DMatrix

absl::StatusOr<std::unique_ptr<DMatrix>> DMatrix::Create(
    const float* rows, int64_t n_rows, int64_t n_features,
    absl::Span<const float> labels, absl::Span<const float> weights) {
  if (n_rows < 0 || n_features <= 0 || (rows == nullptr && n_rows > 0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad matrix shape ", n_rows, " x ", n_features));
  }
  if (!labels.empty() && static_cast<int64_t>(labels.size()) != n_rows) {
    return absl::InvalidArgumentError(absl::StrCat(
        labels.size(), " labels for ", n_rows, " rows (need one per row)"));
  }
  if (!weights.empty() && static_cast<int64_t>(weights.size()) != n_rows) {
    return absl::InvalidArgumentError(absl::StrCat(
        weights.size(), " weights for ", n_rows, " rows (need one per row)"));
  }
  DMatrixHandle handle = nullptr;
  RECSYS_RETURN_IF_ERROR(XgbStatus(
      XGDMatrixCreateFromMat(rows, n_rows, n_features,
                             std::numeric_limits<float>::quiet_NaN(), &handle),
      "XGDMatrixCreateFromMat", absl::StatusCode::kInvalidArgument));
  std::unique_ptr<DMatrix> matrix(new DMatrix(handle, n_rows, n_features));
  if (!labels.empty()) {
    RECSYS_RETURN_IF_ERROR(XgbStatus(
        XGDMatrixSetFloatInfo(handle, "label", labels.data(), labels.size()),
        "XGDMatrixSetFloatInfo(label)", absl::StatusCode::kInvalidArgument));
  }
  if (!weights.empty()) {
    RECSYS_RETURN_IF_ERROR(XgbStatus(
        XGDMatrixSetFloatInfo(handle, "weight", weights.data(), weights.size()),
        "XGDMatrixSetFloatInfo(weight)", absl::StatusCode::kInvalidArgument));
  }
  return matrix;
}

DMatrix::~DMatrix() { XGDMatrixFree(handle_); }

// ---------------------------------------------------------------- Booster

absl::StatusOr<std::unique_ptr<Booster>> Booster::CreateForTraining(
    absl::Span<const DMatrix* const> cache) {
  std::vector<DMatrixHandle> handles;
  handles.reserve(cache.size());
  for (const DMatrix* m : cache) handles.push_back(m->handle());
  BoosterHandle handle = nullptr;
  RECSYS_RETURN_IF_ERROR(
      XgbStatus(XGBoosterCreate(handles.data(), handles.size(), &handle),
                "XGBoosterCreate"));
  return std::unique_ptr<Booster>(new Booster(handle));
}

absl::StatusOr<std::unique_ptr<Booster>> Booster::LoadFromBuffer(
    absl::string_view model) {
  RECSYS_RETURN_IF_ERROR(CheckXgbModel(model));  // XGBoost would crash.
  BoosterHandle handle = nullptr;
  RECSYS_RETURN_IF_ERROR(
      XgbStatus(XGBoosterCreate(nullptr, 0, &handle), "XGBoosterCreate"));
  std::unique_ptr<Booster> booster(new Booster(handle));
  RECSYS_RETURN_IF_ERROR(XgbStatus(
      XGBoosterLoadModelFromBuffer(handle, model.data(), model.size()),
      "XGBoosterLoadModelFromBuffer", absl::StatusCode::kInvalidArgument));
  RECSYS_ASSIGN_OR_RETURN(int rounds, booster->BoostedRounds());
  if (rounds < 1) {
    return absl::InvalidArgumentError("model has no boosting rounds");
  }
  RECSYS_RETURN_IF_ERROR(booster->RefreshShape());
  return booster;
}

Booster::~Booster() { XGBoosterFree(handle_); }

absl::Status Booster::SetParam(absl::string_view name,
                               absl::string_view value) {
  const std::string n(name), v(value);
  return XgbStatus(XGBoosterSetParam(handle_, n.c_str(), v.c_str()),
                   absl::StrCat("XGBoosterSetParam(", name, "=", value, ")"),
                   absl::StatusCode::kInvalidArgument);
}

absl::Status Booster::UpdateOneIter(int iteration, const DMatrix& train) {
  RECSYS_RETURN_IF_ERROR(
      XgbStatus(XGBoosterUpdateOneIter(handle_, iteration, train.handle()),
                absl::StrCat("XGBoosterUpdateOneIter(", iteration, ")"),
                absl::StatusCode::kInvalidArgument));
  return RefreshShape();
}

absl::StatusOr<std::vector<EvalMetric>> Booster::EvalOneIter(
    int iteration, const DMatrix& data, absl::string_view name) {
  const std::string set_name(name);
  DMatrixHandle mats[1] = {data.handle()};
  const char* names[1] = {set_name.c_str()};
  const char* out = nullptr;
  RECSYS_RETURN_IF_ERROR(
      XgbStatus(XGBoosterEvalOneIter(handle_, iteration, mats, names, 1, &out),
                "XGBoosterEvalOneIter", absl::StatusCode::kInvalidArgument));
  return ParseEvalLine(out, name);
}

absl::StatusOr<int> Booster::BoostedRounds() const {
  int rounds = 0;
  RECSYS_RETURN_IF_ERROR(XgbStatus(XGBoosterBoostedRounds(handle_, &rounds),
                                   "XGBoosterBoostedRounds"));
  return rounds;
}

absl::StatusOr<std::unique_ptr<Booster>> Booster::Slice(int rounds) const {
  RECSYS_ASSIGN_OR_RETURN(int have, BoostedRounds());
  if (rounds < 1 || rounds > have) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot slice ", rounds, " rounds from a model of ", have));
  }
  BoosterHandle out = nullptr;
  const int rc = XGBoosterSlice(handle_, 0, rounds, 1, &out);
  if (rc == -2) {
    return absl::InvalidArgumentError(
        absl::StrCat("slice of ", rounds, " rounds is out of bounds"));
  }
  RECSYS_RETURN_IF_ERROR(XgbStatus(rc, "XGBoosterSlice"));
  std::unique_ptr<Booster> sliced(new Booster(out));
  RECSYS_RETURN_IF_ERROR(sliced->RefreshShape());
  return sliced;
}

absl::StatusOr<std::string> Booster::SaveToBuffer() const {
  bst_ulong len = 0;
  const char* data = nullptr;
  RECSYS_RETURN_IF_ERROR(
      XgbStatus(XGBoosterSaveModelToBuffer(handle_, kUbjFormat, &len, &data),
                "XGBoosterSaveModelToBuffer"));
  return std::string(data, len);  // XGBoost's buffer is reused: copy.
}

absl::StatusOr<std::string> Booster::SaveConfig() const {
  bst_ulong len = 0;
  const char* data = nullptr;
  RECSYS_RETURN_IF_ERROR(
      XgbStatus(XGBoosterSaveJsonConfig(handle_, &len, &data),
                "XGBoosterSaveJsonConfig"));
  return std::string(data, len);
}

absl::StatusOr<std::optional<std::string>> Booster::GetAttr(
    absl::string_view key) const {
  const std::string k(key);
  const char* out = nullptr;
  int success = 0;
  RECSYS_RETURN_IF_ERROR(
      XgbStatus(XGBoosterGetAttr(handle_, k.c_str(), &out, &success),
                "XGBoosterGetAttr"));
  if (!success || out == nullptr) return std::nullopt;
  return std::string(out);
}

absl::Status Booster::SetAttr(absl::string_view key, absl::string_view value) {
  const std::string k(key), v(value);
  return XgbStatus(XGBoosterSetAttr(handle_, k.c_str(), v.c_str()),
                   "XGBoosterSetAttr");
}

absl::Status Booster::RefreshShape() {
  bst_ulong features = 0;
  RECSYS_RETURN_IF_ERROR(XgbStatus(XGBoosterGetNumFeature(handle_, &features),
                                   "XGBoosterGetNumFeature"));
  RECSYS_ASSIGN_OR_RETURN(std::string config_text, SaveConfig());
  const nlohmann::json config =
      nlohmann::json::parse(config_text, nullptr, /*allow_exceptions=*/false);
  const nlohmann::json::json_pointer num_class_ptr(
      "/learner/learner_model_param/num_class");
  const nlohmann::json::json_pointer objective_ptr("/learner/objective/name");
  if (config.is_discarded() || !config.contains(num_class_ptr) ||
      !config[num_class_ptr].is_string() || !config.contains(objective_ptr) ||
      !config[objective_ptr].is_string()) {
    return absl::InternalError("XGBoost config lacks num_class or objective");
  }
  int num_class = 0;
  if (!absl::SimpleAtoi(config[num_class_ptr].get<std::string>(), &num_class) ||
      num_class < 0) {
    return absl::InternalError("XGBoost config has a bad num_class");
  }
  num_features_ = static_cast<int64_t>(features);
  num_class_ = num_class;
  scores_per_row_ =
      config[objective_ptr].get<std::string>() == "multi:softprob" &&
              num_class > 1
          ? num_class
          : 1;
  return absl::OkStatus();
}

absl::Status Booster::CheckInput(const float* rows, int64_t n_rows,
                                 int64_t n_features, const float* out) const {
  if (n_rows < 0 || (n_rows > 0 && (rows == nullptr || out == nullptr))) {
    return absl::InvalidArgumentError("bad prediction input");
  }
  if (n_features != num_features_) {
    return absl::InvalidArgumentError(
        absl::StrCat("rows have ", n_features, " features, the model expects ",
                     num_features_));
  }
  return absl::OkStatus();
}

absl::Status Booster::Predict(const float* rows, int64_t n_rows,
                              int64_t n_features, float* out) const {
  return PredictInPlace(kPredictConfig, rows, n_rows, n_features, out);
}

absl::Status Booster::PredictMargin(const float* rows, int64_t n_rows,
                                    int64_t n_features, float* out) const {
  return PredictInPlace(kMarginConfig, rows, n_rows, n_features, out);
}

absl::Status Booster::PredictInPlace(const char* config, const float* rows,
                                     int64_t n_rows, int64_t n_features,
                                     float* out) const {
  RECSYS_RETURN_IF_ERROR(CheckInput(rows, n_rows, n_features, out));
  if (n_rows == 0) return absl::OkStatus();
  const std::string array =
      absl::StrCat(R"({"data": [)", reinterpret_cast<uintptr_t>(rows),
                   R"(, true], "shape": [)", n_rows, ", ", n_features,
                   R"(], "typestr": "<f4", "version": 3})");
  thread_local ThreadProxy proxy;
  RECSYS_ASSIGN_OR_RETURN(DMatrixHandle proxy_handle, proxy.Get());
  const bst_ulong* shape = nullptr;
  bst_ulong dims = 0;
  const float* result = nullptr;
  RECSYS_RETURN_IF_ERROR(
      XgbStatus(XGBoosterPredictFromDense(handle_, array.c_str(), config,
                                          proxy_handle, &shape, &dims, &result),
                "XGBoosterPredictFromDense"));
  uint64_t total = 1;
  for (bst_ulong d = 0; d < dims; ++d) total *= shape[d];
  const uint64_t expected = static_cast<uint64_t>(n_rows) * scores_per_row_;
  if (dims == 0 || total != expected) {
    return absl::InternalError(absl::StrCat("XGBoost returned ", total,
                                            " scores, expected ", expected));
  }
  // The result is XGBoost's per-thread buffer, valid until the next call.
  std::memcpy(out, result, expected * sizeof(float));
  return absl::OkStatus();
}

absl::Status Booster::PredictContributions(const float* rows, int64_t n_rows,
                                           int64_t n_features,
                                           float* out) const {
  RECSYS_RETURN_IF_ERROR(CheckInput(rows, n_rows, n_features, out));
  if (n_rows == 0) return absl::OkStatus();
  // In-place prediction has no contributions in 1.7.4: a DMatrix it is.
  // Freed before returning, so no booster keeps it in its prediction cache.
  RECSYS_ASSIGN_OR_RETURN(std::unique_ptr<DMatrix> matrix,
                          DMatrix::Create(rows, n_rows, n_features, {}));
  const bst_ulong* shape = nullptr;
  bst_ulong dims = 0;
  const float* result = nullptr;
  RECSYS_RETURN_IF_ERROR(XgbStatus(
      XGBoosterPredictFromDMatrix(handle_, matrix->handle(),
                                  kContributionsConfig, &shape, &dims, &result),
      "XGBoosterPredictFromDMatrix(contributions)"));
  const uint64_t per_row = static_cast<uint64_t>(contributions_per_row());
  const uint64_t expected = static_cast<uint64_t>(n_rows) * per_row;
  if (dims != 3 || shape[0] != static_cast<bst_ulong>(n_rows) ||
      shape[1] != static_cast<bst_ulong>(scores_per_row_) ||
      shape[2] != static_cast<bst_ulong>(num_features_ + 1)) {
    uint64_t total = 1;
    for (bst_ulong d = 0; d < dims; ++d) total *= shape[d];
    return absl::InternalError(
        absl::StrCat("XGBoost returned ", total, " contributions in ", dims,
                     " dimensions, expected ", n_rows, " x ", scores_per_row_,
                     " x ", num_features_ + 1));
  }
  std::memcpy(out, result, expected * sizeof(float));
  return absl::OkStatus();
}

absl::Status Booster::Warmup() const {
  if (num_features_ <= 0) {
    return absl::FailedPreconditionError("booster has no trained model");
  }
  std::vector<float> row(num_features_,
                         std::numeric_limits<float>::quiet_NaN());
  std::vector<float> out(scores_per_row_);
  return Predict(row.data(), 1, num_features_, out.data());
}

}  // namespace recsys
