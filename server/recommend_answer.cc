#include "server/recommend_answer.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/date.h"
#include "common/raw_columns.h"
#include "server/proto_encode.h"

namespace recsys {
namespace {

// `why`, with the features named after `schema` and the raw values taken
// from `record` (the contract is v1::FeatureContribution's comment).
void EncodeExplanation(const ProductExplanation& why,
                       const FeatureSchema& schema, const RawRecord& record,
                       v1::Explanation* out) {
  out->set_margin(why.margin);
  out->set_bias(why.bias);
  out->set_others_contribution(why.others_contribution);
  for (const FeatureShare& share : why.features) {
    const FeatureInfo& info = schema.features[share.feature];
    v1::FeatureContribution* f = out->add_features();
    f->set_feature(info.name);
    if (!FeatureSchema::IsMissing(share.value)) f->set_value(share.value);
    if (info.raw_column >= 0) {
      f->set_raw_column(std::string(RawColumnName(info.raw_column)));
      f->set_raw_value(RawColumnText(record, info.raw_column));
    }
    f->set_contribution(share.contribution);
  }
}

}  // namespace

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
  if (!scored->explanations.empty() && !scored->explanations[0].empty()) {
    const std::vector<ProductExplanation>& why = scored->explanations[0];
    for (int i = 0; i < response.recommendations_size() &&
                    i < static_cast<int>(why.size());
         ++i) {
      EncodeExplanation(
          why[i], model.featurizer().schema(), scored->requests[0].record,
          response.mutable_recommendations(i)->mutable_explanation());
    }
  }
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

absl::Status RequestTooLarge(int64_t bytes, int64_t limit) {
  return absl::ResourceExhaustedError(
      absl::StrCat("request: ", bytes, " bytes; at most ", limit,
                   " (--max-unary-message-bytes)"));
}

absl::Status UnaryRequestTooLarge(int64_t bytes, int64_t limit) {
  return absl::ResourceExhaustedError(absl::StrCat(
      "request: ", bytes, " bytes; a unary Recommend accepts at most ", limit,
      " (--max-unary-message-bytes); send batches over RecommendStream"));
}

}  // namespace recsys
