// Request parsing for the services that take their requests as raw bytes
// (gRPC "raw" callback methods), so that a message that does not parse is
// the caller's INVALID_ARGUMENT, named, counted and answered, instead of
// gRPC's silent UNIMPLEMENTED (unary) or a stream that ends OK with rows
// missing (a failed read looks like the client's half-close).
//
//   absl::Status parsed = ParseRequest(*bytes, &request, "request");
//   if (!parsed.ok()) return call->FinishWith(parsed);
//
// Proto3 `string` fields must hold UTF-8; a message that breaks only that
// rule is re-read against a copy of its schema whose strings are bytes, so
// the error names the field path, the row id when there is one, and the
// bytes: `rows[2] (row_id 17).customer.nomprov is not valid UTF-8: "M\xE1laga"`.
//
// Thread-safe.
#ifndef RECSYS_SERVER_REQUEST_PARSING_H_
#define RECSYS_SERVER_REQUEST_PARSING_H_

#include <google/protobuf/message.h>
#include <grpcpp/support/byte_buffer.h>

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace recsys {

// Parses `buffer` into `*message` (cleared first). INVALID_ARGUMENT starting
// with `what` ("request", "request message 3 of the stream") and saying why
// the bytes are not a valid message of that type.
absl::Status ParseRequest(const grpc::ByteBuffer& buffer,
                          google::protobuf::Message* message,
                          absl::string_view what);

// Same for bytes already in one string (tests, fuzzing).
absl::Status ParseRequestBytes(absl::string_view bytes,
                               google::protobuf::Message* message,
                               absl::string_view what);

// How many times field `field_number` (length-delimited) occurs at the top
// level of the serialized message `bytes`, read without parsing the message:
// the rows of a stream message are counted (and a message over the row limit
// refused) before any memory is spent on them. INVALID_ARGUMENT when the
// bytes are not a well-formed protobuf wire stream.
absl::StatusOr<int64_t> CountTopLevelField(absl::string_view bytes,
                                           int field_number);

// Serializes `message` into `*buffer` (replacing its contents). INTERNAL if
// protobuf cannot.
absl::Status SerializeToByteBuffer(const google::protobuf::Message& message,
                                   grpc::ByteBuffer* buffer);

// The bytes of a ByteBuffer in one string (one copy).
std::string FlattenByteBuffer(const grpc::ByteBuffer& buffer);

}  // namespace recsys

#endif  // RECSYS_SERVER_REQUEST_PARSING_H_
