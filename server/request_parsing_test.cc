#include "server/request_parsing.h"

#include <gtest/gtest.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_replace.h"
#include "proto/api.h"

namespace recsys {
namespace {

std::string StreamWithRows(int rows, const std::string& nomprov = "Madrid") {
  v1::RecommendStreamRequest request;
  request.set_k(7);
  for (int i = 0; i < rows; ++i) {
    v1::ScoreRow* row = request.add_rows();
    row->set_row_id(100 + i);
    row->mutable_customer()->set_ncodpers(15889 + i);
    row->mutable_customer()->set_nomprov(nomprov);
  }
  return request.SerializeAsString();
}

TEST(ParseRequestBytesTest, ParsesAValidMessage) {
  v1::RecommendStreamRequest parsed;
  ASSERT_TRUE(ParseRequestBytes(StreamWithRows(3), &parsed, "request").ok());
  EXPECT_EQ(parsed.rows_size(), 3);
  EXPECT_EQ(parsed.rows(2).customer().nomprov(), "Madrid");
}

TEST(ParseRequestBytesTest, NamesTheFieldRowAndBytesOfInvalidUtf8) {
  std::string bytes = absl::StrReplaceAll(StreamWithRows(3, "MQlaga"),
                                          {{"MQlaga", "M\xE1laga"}});
  v1::RecommendStreamRequest parsed;
  absl::Status status = ParseRequestBytes(bytes, &parsed, "request message 4");
  ASSERT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(),
            "request message 4 is not a valid "
            "santander.recsys.v1.RecommendStreamRequest: rows[0] (row_id "
            "100).customer.nomprov is not valid UTF-8: \"M\\xe1laga\" (text "
            "fields must be UTF-8)");
}

TEST(ParseRequestBytesTest, GarbageSaysItDoesNotParse) {
  v1::RecommendRequest parsed;
  absl::Status status = ParseRequestBytes("\xff\xff\xff", &parsed, "request");
  ASSERT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("its 3 bytes do not parse"),
            std::string::npos)
      << status;
}

TEST(ParseRequestBytesTest, OverlongAndSurrogateEncodingsAreNotUtf8) {
  for (const std::string& bad :
       {std::string("\xC0\xAF"), std::string("\xED\xA0\x80"),
        std::string("\xF4\x90\x80\x80"), std::string("ab\xE2\x82")}) {
    // A marker of the same length keeps the length prefixes right.
    const std::string marker(bad.size(), 'Z');
    std::string bytes =
        absl::StrReplaceAll(StreamWithRows(1, marker), {{marker, bad}});
    v1::RecommendStreamRequest parsed;
    EXPECT_FALSE(ParseRequestBytes(bytes, &parsed, "request").ok())
        << absl::CHexEscape(bad);
  }
  // Valid multi-byte text parses.
  v1::RecommendStreamRequest parsed;
  EXPECT_TRUE(ParseRequestBytes(StreamWithRows(1, "Málaga €𝄞"), &parsed,
                                "request")
                  .ok());
}

TEST(CountTopLevelFieldTest, CountsRowsWithoutParsing) {
  EXPECT_EQ(*CountTopLevelField(StreamWithRows(0), 1), 0);
  EXPECT_EQ(*CountTopLevelField(StreamWithRows(5), 1), 5);
  EXPECT_EQ(*CountTopLevelField(StreamWithRows(5), 2), 0);
}

TEST(CountTopLevelFieldTest, RefusesMalformedWire) {
  std::string bytes = StreamWithRows(2);
  bytes.resize(bytes.size() - 3);  // the last row is cut short
  absl::StatusOr<int64_t> count = CountTopLevelField(bytes, 1);
  ASSERT_FALSE(count.ok());
  EXPECT_NE(count.status().message().find("not a well-formed"),
            std::string::npos);
}

TEST(SerializeToByteBufferTest, RoundTrips) {
  v1::RecommendStreamRequest request;
  ASSERT_TRUE(request.ParseFromString(StreamWithRows(2)));
  grpc::ByteBuffer buffer;
  ASSERT_TRUE(SerializeToByteBuffer(request, &buffer).ok());
  EXPECT_EQ(FlattenByteBuffer(buffer), request.SerializeAsString());
}

}  // namespace
}  // namespace recsys
