// Fuzz target: model_store/xgb_model_check — the structural check that stands
// between a model file and XGBoost 1.7.4, which crashes on some malformed
// models. The input is a model file (UBJ or JSON). Whatever CheckXgbModel()
// accepts is then loaded by XGBoost and asked for predictions, so a model
// that passes the check but crashes XGBoost is found here.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "absl/strings/string_view.h"
#include "model_store/booster.h"
#include "model_store/xgb_model_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view model(reinterpret_cast<const char*>(data), size);
  const absl::Status checked = recsys::CheckXgbModel(model);
  if (!checked.ok()) {
    if (checked.message().empty()) std::abort();
    return 0;
  }
  auto booster = recsys::Booster::LoadFromBuffer(model);
  if (!booster.ok()) return 0;
  recsys::Booster& b = **booster;
  if (!b.SetParam("nthread", "1").ok()) return 0;
  const int64_t features = b.num_features();
  if (features <= 0 || features > 4096) return 0;
  // Two rows: all missing, then all zero.
  std::vector<float> rows(2 * features, NAN);
  std::fill(rows.begin() + features, rows.end(), 0.0f);
  std::vector<float> scores(2 * static_cast<size_t>(b.scores_per_row()));
  b.Predict(rows.data(), 2, features, scores.data()).IgnoreError();
  return 0;
}
