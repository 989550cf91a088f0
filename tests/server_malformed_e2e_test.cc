// What the server does with requests that do not parse, and with more calls
// than it answers at once (issue 10, items 1, 2 and 6). Requests are sent as
// raw bytes through gRPC's generic stub, as a client in another language
// (or a broken one) would.
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#include "absl/strings/str_replace.h"
#include "proto/api.h"
#include "server/metrics_testing.h"
#include "server/request_parsing.h"
#include "tests/server_e2e_util.h"

namespace recsys::testing {
namespace {

constexpr char kRecommend[] = "/santander.recsys.v1.Recommender/Recommend";
constexpr char kStream[] = "/santander.recsys.v1.Recommender/RecommendStream";
constexpr char kModelInfo[] = "/santander.recsys.v1.Recommender/GetModelInfo";
constexpr char kCustomer[] = "/santander.recsys.v1.Recommender/GetCustomer";

grpc::ByteBuffer Bytes(const std::string& bytes) {
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

void* Tag(intptr_t i) { return reinterpret_cast<void*>(i); }

// Waits for the next completion; returns its ok.
bool Next(grpc::CompletionQueue* cq) {
  void* tag = nullptr;
  bool ok = false;
  EXPECT_TRUE(cq->Next(&tag, &ok));
  return ok;
}

struct RawOutcome {
  grpc::Status status;
  std::vector<std::string> responses;
};

RawOutcome RawUnary(std::shared_ptr<grpc::Channel> channel,
                    const std::string& method, const std::string& request) {
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(30));
  grpc::CompletionQueue cq;
  grpc::ByteBuffer request_bytes = Bytes(request);
  std::unique_ptr<grpc::GenericClientAsyncResponseReader> call =
      stub.PrepareUnaryCall(&context, method, request_bytes, &cq);
  call->StartCall();
  grpc::ByteBuffer response;
  RawOutcome out;
  call->Finish(&response, &out.status, Tag(1));
  Next(&cq);
  if (out.status.ok()) out.responses.push_back(FlattenByteBuffer(response));
  return out;
}

// Sends every message of `requests` on one RecommendStream, half-closes, and
// reads every answer until the status.
RawOutcome RawStream(std::shared_ptr<grpc::Channel> channel,
                     const std::vector<std::string>& requests) {
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(30));
  grpc::CompletionQueue cq;
  std::unique_ptr<grpc::GenericClientAsyncReaderWriter> call =
      stub.PrepareCall(&context, kStream, &cq);
  call->StartCall(Tag(1));
  RawOutcome out;
  bool open = Next(&cq);
  for (const std::string& request : requests) {
    if (!open) break;
    call->Write(Bytes(request), Tag(2));
    open = Next(&cq);
  }
  if (open) {
    call->WritesDone(Tag(3));
    Next(&cq);
  }
  while (true) {
    grpc::ByteBuffer response;
    call->Read(&response, Tag(4));
    if (!Next(&cq)) break;
    out.responses.push_back(FlattenByteBuffer(response));
  }
  call->Finish(&out.status, Tag(5));
  Next(&cq);
  return out;
}

class MalformedTest : public ::testing::Test {
 protected:
  void SetUp() override { Start({}); }

  void Start(std::function<void(RecsysServerOptions*)> adjust) {
    HarnessOptions options;
    options.real_metrics = true;
    options.adjust = std::move(adjust);
    h_ = ServerHarness::Start(options);
    ASSERT_NE(h_, nullptr);
    records_ = ReadRecords(h_->fixture().test_csv, 8);
    ASSERT_FALSE(records_.empty());
  }

  // A stream message with one row of a test customer.
  std::string RowMessage(uint64_t row_id, const std::string& nomprov = "") {
    v1::RecommendStreamRequest request;
    v1::ScoreRow row = RowFor(records_.at(0), row_id);
    if (!nomprov.empty()) row.mutable_customer()->set_nomprov(nomprov);
    *request.add_rows() = row;
    return request.SerializeAsString();
  }

  std::string UnaryRequest(const std::string& nomprov = "") {
    v1::RecommendRequest request = RequestFor(records_.at(0));
    if (!nomprov.empty()) request.mutable_customer()->set_nomprov(nomprov);
    return request.SerializeAsString();
  }

  // `bytes` with the marker "QQQQ" replaced by four bytes that are not UTF-8
  // (what a Latin-1 "Málaga" looks like to a UTF-8 reader).
  static std::string BreakUtf8(const std::string& bytes) {
    return absl::StrReplaceAll(bytes, {{"QQQQ", "\xE1\xE1\xE1\xE1"}});
  }

  // grpc_server_handled_total of Recommender's `method` with `code`.
  double Handled(const std::string& method, const std::string& code) {
    absl::StatusOr<std::string> text =
        metrics_testing::HttpGet(h_->metrics()->port(), "/metrics");
    EXPECT_TRUE(text.ok()) << text.status();
    if (!text.ok()) return -1;
    return metrics_testing::ParseExposition(*text).Sum(
        "grpc_server_handled_total",
        {{"grpc_method", method}, {"grpc_code", code}});
  }

  std::unique_ptr<ServerHarness> h_;
  std::vector<RawRecord> records_;
};

std::vector<uint64_t> RowIds(const RawOutcome& outcome) {
  std::vector<uint64_t> ids;
  for (const std::string& bytes : outcome.responses) {
    v1::RecommendStreamResponse response;
    EXPECT_TRUE(response.ParseFromString(bytes));
    for (const v1::RowResult& result : response.results())
      ids.push_back(result.row_id());
  }
  return ids;
}

// Row `answered` came back once and row `missing` (of the failed message)
// not at all. Rows of later messages may or may not have been answered:
// messages are scored concurrently, and the status tells the client where the
// stream failed.
void ExpectAnsweredOnceWithout(const std::vector<uint64_t>& ids,
                               uint64_t answered, uint64_t missing) {
  EXPECT_EQ(std::count(ids.begin(), ids.end(), answered), 1);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), missing), 0);
  std::vector<uint64_t> sorted = ids;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(std::adjacent_find(sorted.begin(), sorted.end()), sorted.end())
      << "a row answered twice";
}

TEST_F(MalformedTest, StreamMessageWithBadUtf8FailsTheStreamNamingIt) {
  const std::string bad = BreakUtf8(RowMessage(2, "MQQQQlaga"));
  RawOutcome out = RawStream(h_->channel(),
                             {RowMessage(1), bad, RowMessage(3), RowMessage(4)});
  // Before the fix: status OK, row 1 answered, rows 2-4 silently missing.
  ASSERT_EQ(out.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
      << out.status.error_message();
  EXPECT_NE(out.status.error_message().find("request message 2 of the stream"),
            std::string::npos)
      << out.status.error_message();
  EXPECT_NE(out.status.error_message().find(
                "rows[0] (row_id 2).customer.nomprov is not valid UTF-8"),
            std::string::npos)
      << out.status.error_message();
  ExpectAnsweredOnceWithout(RowIds(out), 1, 2);
}

TEST_F(MalformedTest, StreamMessageOfGarbageFailsTheStream) {
  RawOutcome out =
      RawStream(h_->channel(), {RowMessage(1), "\xff\xff\xff\xff", RowMessage(3)});
  ASSERT_EQ(out.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(out.status.error_message().find("request message 2 of the stream"),
            std::string::npos)
      << out.status.error_message();
  ExpectAnsweredOnceWithout(RowIds(out), 1, 2);
}

TEST_F(MalformedTest, EveryGoodMessageOfAStreamIsStillAnswered) {
  RawOutcome out =
      RawStream(h_->channel(), {RowMessage(1), RowMessage(2), RowMessage(3)});
  ASSERT_TRUE(out.status.ok()) << out.status.error_message();
  std::vector<uint64_t> ids = RowIds(out);  // in any order
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(ids, (std::vector<uint64_t>{1, 2, 3}));
}

TEST_F(MalformedTest, UnaryGarbageIsInvalidArgumentAndCounted) {
  const double before = Handled("Recommend", "InvalidArgument");
  RawOutcome out = RawUnary(h_->channel(), kRecommend, "\xff\x01garbage");
  // Before the fix: UNIMPLEMENTED with an empty message, not in the metrics.
  EXPECT_EQ(out.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(out.status.error_message().find(
                "request is not a valid santander.recsys.v1.RecommendRequest"),
            std::string::npos)
      << out.status.error_message();
  EXPECT_EQ(Handled("Recommend", "InvalidArgument"), before + 1);
}

TEST_F(MalformedTest, UnaryBadUtf8NamesTheField) {
  RawOutcome out =
      RawUnary(h_->channel(), kRecommend, BreakUtf8(UnaryRequest("MQQQQlaga")));
  EXPECT_EQ(out.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(out.status.error_message().find(
                "customer.nomprov is not valid UTF-8: \"M\\xe1\\xe1\\xe1\\xe1laga\""),
            std::string::npos)
      << out.status.error_message();
}

TEST_F(MalformedTest, GetModelInfoGarbageIsInvalidArgument) {
  RawOutcome out = RawUnary(h_->channel(), kModelInfo, "\x0a\x05\xff");
  EXPECT_EQ(out.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
      << out.status.error_message();
}

TEST_F(MalformedTest, WellFormedRawUnaryIsAnswered) {
  RawOutcome out = RawUnary(h_->channel(), kRecommend, UnaryRequest());
  ASSERT_TRUE(out.status.ok()) << out.status.error_message();
  v1::RecommendResponse response;
  ASSERT_TRUE(response.ParseFromString(out.responses.at(0)));
  EXPECT_GT(response.recommendations_size(), 0);
}

TEST_F(MalformedTest, UnaryOverItsSizeLimitIsRefusedBeforeParsing) {
  std::string big = UnaryRequest(std::string(70 << 10, 'x'));
  RawOutcome out = RawUnary(h_->channel(), kRecommend, big);
  EXPECT_EQ(out.status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(out.status.error_message().find("--max-unary-message-bytes"),
            std::string::npos)
      << out.status.error_message();
}

// GetModelInfo and GetCustomer refuse a request over the unary size limit
// too, with a message about their own method (not Recommend's advice to
// stream batches).
TEST_F(MalformedTest, OtherUnaryMethodsOverTheSizeLimitAreRefused) {
  // Field 15 (unknown to both request messages), 70 KiB of bytes.
  const std::string payload(70 << 10, 'x');
  std::string big = "\x7a";
  uint64_t n = payload.size();  // its length, as a varint
  for (; n >= 0x80; n >>= 7) big.push_back(static_cast<char>((n & 0x7f) | 0x80));
  big.push_back(static_cast<char>(n));
  big += payload;
  for (const char* method : {kModelInfo, kCustomer}) {
    SCOPED_TRACE(method);
    RawOutcome out = RawUnary(h_->channel(), method, big);
    EXPECT_EQ(out.status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
    EXPECT_NE(out.status.error_message().find("--max-unary-message-bytes"),
              std::string::npos)
        << out.status.error_message();
    EXPECT_EQ(out.status.error_message().find("Recommend"), std::string::npos)
        << out.status.error_message();
  }
}

// A stream held open after its first answer.
struct OpenStream {
  grpc::ClientContext context;
  std::unique_ptr<grpc::ClientReaderWriterInterface<v1::RecommendStreamRequest,
                                           v1::RecommendStreamResponse>>
      stream;
};

TEST(CallCapsTest, StreamsBeyondTheCapAreRefusedAndSlotsComeBack) {
  HarnessOptions options;
  options.adjust = [](RecsysServerOptions* o) { o->max_concurrent_streams = 2; };
  std::unique_ptr<ServerHarness> h = ServerHarness::Start(options);
  ASSERT_NE(h, nullptr);
  std::vector<RawRecord> records = ReadRecords(h->fixture().test_csv, 1);
  ASSERT_FALSE(records.empty());
  v1::RecommendStreamRequest request;
  *request.add_rows() = RowFor(records[0], 1);

  std::vector<std::unique_ptr<OpenStream>> open;
  for (int i = 0; i < 2; ++i) {
    auto s = std::make_unique<OpenStream>();
    s->stream = h->stub()->RecommendStream(&s->context);
    ASSERT_TRUE(s->stream->Write(request));
    v1::RecommendStreamResponse response;
    ASSERT_TRUE(s->stream->Read(&response)) << "stream " << i;
    open.push_back(std::move(s));
  }
  // Before the fix: a third stream was answered like the others.
  {
    grpc::ClientContext context;
    auto third = h->stub()->RecommendStream(&context);
    third->Write(request);
    v1::RecommendStreamResponse response;
    EXPECT_FALSE(third->Read(&response));
    grpc::Status status = third->Finish();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
    EXPECT_NE(status.error_message().find("--max-concurrent-streams"),
              std::string::npos)
        << status.error_message();
  }
  // One stream ends: its slot is free again.
  open[0]->stream->WritesDone();
  EXPECT_TRUE(open[0]->stream->Finish().ok());
  grpc::ClientContext context;
  auto fourth = h->stub()->RecommendStream(&context);
  ASSERT_TRUE(fourth->Write(request));
  v1::RecommendStreamResponse response;
  EXPECT_TRUE(fourth->Read(&response));
  fourth->WritesDone();
  EXPECT_TRUE(fourth->Finish().ok());
  open[1]->stream->WritesDone();
  EXPECT_TRUE(open[1]->stream->Finish().ok());
}

}  // namespace
}  // namespace recsys::testing
