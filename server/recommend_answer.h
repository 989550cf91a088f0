// The parts of a unary Recommend call that do not depend on the transport,
// shared by the gRPC service (recommender_service.cc) and the HTTP/JSON
// gateway (http_gateway.cc), so that both give the same answers and the same
// error texts.
//
//   if (bytes > limit) return Finish(UnaryRequestTooLarge(bytes, limit));
//   ... DecodeRecommendRequest(request), ScoringEngine::Recommend ...
//   absl::StatusOr<v1::RecommendResponse> answer = RecommendAnswer(scored);
//
// Pure functions; thread-safe.
#ifndef RECSYS_SERVER_RECOMMEND_ANSWER_H_
#define RECSYS_SERVER_RECOMMEND_ANSWER_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "proto/api.h"
#include "server/scoring_engine.h"

namespace recsys {

// The RecommendResponse for what the engine gave a unary call: the scored
// row, model name and version, history month and, when the request asked
// (explain), each recommendation's explanation; or the call's status (the
// engine's, or the row's own when the scorer could not score it, naming the
// field).
absl::StatusOr<v1::RecommendResponse> RecommendAnswer(
    const absl::StatusOr<ScoredRows>& scored);

// Fills the serving_history_* and history_load_error fields of `info`, the
// ModelInfo of `serving`, with the history `engine` scores it with now.
void DescribeServingHistory(const ScoringEngine& engine,
                            const ModelVersion& serving, v1::ModelInfo* info);

// RESOURCE_EXHAUSTED for a unary Recommend request of `bytes` bytes over
// `limit` (--max-unary-message-bytes), naming both and the flag.
absl::Status UnaryRequestTooLarge(int64_t bytes, int64_t limit);

// The same for the other unary methods (GetModelInfo, GetCustomer), without
// Recommend's advice to stream batches.
absl::Status RequestTooLarge(int64_t bytes, int64_t limit);

}  // namespace recsys

#endif  // RECSYS_SERVER_RECOMMEND_ANSWER_H_
