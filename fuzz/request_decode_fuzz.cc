// Fuzz target: server/record_codec — arbitrary bytes as the body of a
// Recommend call and of a RecommendStream message, parsed by protobuf as the
// server's gRPC layer does, then decoded into records. Every error must carry
// a message; a decoded record must hold what the codec promises (a positive
// ncodpers, k in 1..24, history months in 1..12 ascending).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "absl/status/statusor.h"
#include "google/protobuf/stubs/logging.h"
#include "proto/api.h"
#include "server/record_codec.h"

namespace {

void Check(bool condition) {
  if (!condition) std::abort();
}

void CheckDecoded(const absl::StatusOr<recsys::DecodedRequest>& decoded) {
  if (!decoded.ok()) {
    Check(!decoded.status().message().empty());
    recsys::FieldPathOf(decoded.status());
    return;
  }
  Check(decoded->k >= 1 && decoded->k <= recsys::kMaxTopK);
  Check(decoded->record.ncodpers.value > 0);
  if (decoded->history.has_value()) {
    int last = 0;
    for (const auto& [months_ago, products] : *decoded->history) {
      Check(months_ago > last && months_ago <= recsys::kMaxHistoryMonths);
      last = months_ago;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // protobuf logs an ERROR line for each string field that is not UTF-8;
  // millions of them would drown the fuzzer's own output.
  static const bool kQuiet =
      (google::protobuf::SetLogHandler(
           [](google::protobuf::LogLevel, const char*, int,
              const std::string&) {}),
       true);
  (void)kQuiet;
  recsys::v1::RecommendRequest request;
  if (request.ParseFromArray(data, static_cast<int>(size))) {
    CheckDecoded(recsys::DecodeRecommendRequest(request));
  }
  recsys::v1::RecommendStreamRequest stream;
  if (stream.ParseFromArray(data, static_cast<int>(size))) {
    absl::StatusOr<int> k = recsys::DecodeTopK(stream.k());
    if (k.ok()) {
      for (const recsys::v1::ScoreRow& row : stream.rows()) {
        CheckDecoded(recsys::DecodeScoreRow(row, *k));
      }
    }
  }
  return 0;
}
