// The one place where an absl::Status becomes a grpc::Status.
//
//   absl::StatusOr<DecodedRequest> decoded = DecodeRecommendRequest(request);
//   if (!decoded.ok()) return reactor->Finish(ToGrpcStatus(decoded.status()));
#ifndef RECSYS_SERVER_STATUS_CONVERT_H_
#define RECSYS_SERVER_STATUS_CONVERT_H_

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace recsys {

// Returns a grpc::Status with the same canonical code (absl and gRPC share the
// google.rpc.Code numbering) and the same message. OK maps to grpc::Status::OK.
grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace recsys

#endif  // RECSYS_SERVER_STATUS_CONVERT_H_
