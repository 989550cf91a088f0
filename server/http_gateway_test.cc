#include "server/http_gateway.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>

#include "nlohmann/json.hpp"

namespace recsys {
namespace {

using ::testing::HasSubstr;

TEST(HttpStatusOfTest, FollowsTheGrpcHttpMapping) {
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kOk), 200);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kCancelled), 499);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kUnknown), 500);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kInvalidArgument), 400);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kDeadlineExceeded), 504);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kNotFound), 404);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kAlreadyExists), 409);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kPermissionDenied), 403);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kResourceExhausted), 429);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kFailedPrecondition), 400);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kAborted), 409);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kOutOfRange), 400);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kUnimplemented), 501);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kInternal), 500);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kUnavailable), 503);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kDataLoss), 500);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kUnauthenticated), 401);
}

TEST(JsonErrorBodyTest, IsAGoogleRpcStatus) {
  const nlohmann::json body = nlohmann::json::parse(JsonErrorBody(
      absl::InvalidArgumentError("customer.age: must be between 0 and 150")));
  EXPECT_EQ(body["code"], 3);
  EXPECT_EQ(body["message"], "customer.age: must be between 0 and 150");
  EXPECT_TRUE(body["details"].is_array());
}

TEST(JsonErrorBodyTest, BytesThatAreNotUtf8StillGiveJson) {
  const std::string text =
      JsonErrorBody(absl::InvalidArgumentError("nomprov: \"M\xE1laga\""));
  EXPECT_FALSE(nlohmann::json::parse(text, nullptr, false).is_discarded())
      << text;
}

TEST(ParseGrpcTimeoutTest, ReadsEveryUnit) {
  const auto now = std::chrono::system_clock::now();
  auto after = [&](absl::string_view value) {
    absl::StatusOr<std::chrono::system_clock::time_point> deadline =
        ParseGrpcTimeout(value, now);
    EXPECT_TRUE(deadline.ok()) << value << ": " << deadline.status();
    return deadline.ok() ? *deadline - now
                         : std::chrono::system_clock::duration::zero();
  };
  EXPECT_EQ(after("2H"), std::chrono::hours(2));
  EXPECT_EQ(after("3M"), std::chrono::minutes(3));
  EXPECT_EQ(after("30S"), std::chrono::seconds(30));
  EXPECT_EQ(after("250m"), std::chrono::milliseconds(250));
  EXPECT_EQ(after("7u"), std::chrono::microseconds(7));
  EXPECT_EQ(after("0n"), std::chrono::nanoseconds(0));
  EXPECT_EQ(after("99999999S"), std::chrono::seconds(99999999));
}

TEST(ParseGrpcTimeoutTest, RefusesWhatIsNotAGrpcTimeout) {
  const auto now = std::chrono::system_clock::now();
  for (const char* bad : {"", "m", "10", "10s", "-1S", "+1S", "1.5S",
                          "123456789S", " 1S"}) {
    absl::StatusOr<std::chrono::system_clock::time_point> deadline =
        ParseGrpcTimeout(bad, now);
    EXPECT_EQ(deadline.status().code(), absl::StatusCode::kInvalidArgument)
        << bad;
    EXPECT_THAT(std::string(deadline.status().message()),
                HasSubstr("grpc-timeout"));
  }
}

}  // namespace
}  // namespace recsys
