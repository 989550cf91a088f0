#include "server/recommend_answer.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "common/date.h"
#include "server/proto_encode.h"

namespace recsys {

absl::StatusOr<v1::RecommendResponse> RecommendAnswer(
    const absl::StatusOr<ScoredRows>& scored) {
  if (!scored.ok()) return scored.status();
  const RowScore& row = scored->scores[0];
  if (!row.status.ok()) return RowScoreStatus(row);
  v1::RecommendResponse response;
  EncodeScoredRow(scored->requests[0].record, row, &response);
  // The version that answered this customer: the champion, or the
  // challenger for a customer in its share.
  const ModelVersion& model = scored->ModelOf(0);
  response.set_model_name(model.name());
  response.set_model_version(absl::StrCat(model.version()));
  response.set_history_month(std::string(scored->HistoryMonthOf(0)));
  return response;
}

void DescribeServingHistory(const ScoringEngine& engine,
                            const ModelVersion& serving, v1::ModelInfo* info) {
  std::shared_ptr<const HistoryVersion> hold;
  const HistoryChoice history = engine.HistoryFor(serving, &hold);
  info->set_serving_history_month(MonthName(history.month));
  info->set_serving_history_source(history.from_store ? "store" : "bundle");
  info->set_history_load_error(engine.HistoryLoadError());
}

absl::Status UnaryRequestTooLarge(int64_t bytes, int64_t limit) {
  return absl::ResourceExhaustedError(absl::StrCat(
      "request: ", bytes, " bytes; a unary Recommend accepts at most ", limit,
      " (--max-unary-message-bytes); send batches over RecommendStream"));
}

}  // namespace recsys
