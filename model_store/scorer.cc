#include "model_store/scorer.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "common/date.h"
#include "common/elapsed.h"
#include "common/status_macros.h"

namespace recsys {
namespace {

}  // namespace

absl::Status ScoreBatch(const ModelVersion& model,
                        absl::Span<const ScoreInput> rows, int k,
                        ScoreScratch* scratch, absl::Span<RowScore> out,
                        ScoreTimings* timings,
                        const BeforePredict& before_predict) {
  return ScoreBatch(model, model.history(), rows, k, scratch, out, timings,
                    before_predict);
}

absl::Status ScoreBatch(const ModelVersion& model,
                        const ProductHistorySnapshot& history,
                        absl::Span<const ScoreInput> rows, int k,
                        ScoreScratch* scratch, absl::Span<RowScore> out,
                        ScoreTimings* timings,
                        const BeforePredict& before_predict) {
  if (out.size() != rows.size()) {
    return absl::InvalidArgumentError(
        "ScoreBatch: output size differs from input size");
  }
  if (k < 1 || k > kNumProducts) {
    return absl::InvalidArgumentError(
        absl::StrCat("k must be between 1 and 24, got ", k));
  }
  const int nf = model.num_features();
  const Featurizer& featurizer = model.featurizer();
  scratch->features.resize(rows.size() * static_cast<size_t>(nf));
  scratch->feature_row.assign(rows.size(), -1);
  std::vector<ProductMask>& owned_last = scratch->owned_last;
  owned_last.clear();

  auto t0 = std::chrono::steady_clock::now();
  int n = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    const RawRecord& record = *rows[i].record;
    RowScore& result = out[i];
    result.status = absl::OkStatus();
    result.error_field = absl::string_view();
    result.top.size = 0;
    result.target_month = record.fecha_dato.present()
                              ? record.fecha_dato.value.MonthIndex()
                              : history.target_month();
    HistoryView view;
    if (rows[i].history != nullptr) {
      view = *rows[i].history;
      result.history = HistorySourceKind::kRequest;
      ++timings->history_from_request;
    } else {
      absl::StatusOr<HistoryView> found =
          history.Lookup(record.ncodpers.present() ? record.ncodpers.value : -1,
                         result.target_month);
      if (!found.ok()) {
        result.status = absl::OutOfRangeError(absl::StrCat(
            "fecha_dato ", MonthName(result.target_month), " is before ",
            MonthName(history.target_month()),
            ", the first month the product history can serve"));
        result.error_field = "fecha_dato";
        continue;
      }
      view = *found;
      result.history =
          view.found ? HistorySourceKind::kStore : HistorySourceKind::kNotFound;
      ++(view.found ? timings->history_hits : timings->history_misses);
    }
    featurizer.Featurize(record, view,
                         &scratch->features[static_cast<size_t>(n) * nf]);
    owned_last.push_back(view.Owned(1));
    scratch->feature_row[i] = n++;
  }
  scratch->features.resize(static_cast<size_t>(n) * nf);
  timings->featurize_seconds += SecondsSince(t0);
  if (before_predict) RECSYS_RETURN_IF_ERROR(before_predict());

  t0 = std::chrono::steady_clock::now();
  scratch->scores.resize(static_cast<size_t>(n) * kNumProducts);
  RECSYS_RETURN_IF_ERROR(
      model.Predict(scratch->features.data(), n, scratch->scores.data()));
  timings->predict_seconds += SecondsSince(t0);

  t0 = std::chrono::steady_clock::now();
  for (size_t i = 0; i < rows.size(); ++i) {
    const int r = scratch->feature_row[i];
    if (r < 0) continue;
    out[i].top = TopK(&scratch->scores[static_cast<size_t>(r) * kNumProducts],
                      owned_last[r], k);
  }
  timings->rank_seconds += SecondsSince(t0);
  return absl::OkStatus();
}

}  // namespace recsys
