#include "tests/hostile.h"

#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/channel_arguments.h>
#include <netdb.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "client/record_codec.h"
#include "common/raw_reader.h"

namespace recsys::testing {
namespace {

constexpr char kStreamMethod[] =
    "/santander.recsys.v1.Recommender/RecommendStream";

const char* CodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return "OK";
    case grpc::StatusCode::CANCELLED:
      return "CANCELLED";
    case grpc::StatusCode::UNKNOWN:
      return "UNKNOWN";
    case grpc::StatusCode::INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND:
      return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS:
      return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED:
      return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION:
      return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED:
      return "ABORTED";
    case grpc::StatusCode::OUT_OF_RANGE:
      return "OUT_OF_RANGE";
    case grpc::StatusCode::UNIMPLEMENTED:
      return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL:
      return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE:
      return "UNAVAILABLE";
    case grpc::StatusCode::DATA_LOSS:
      return "DATA_LOSS";
    case grpc::StatusCode::UNAUTHENTICATED:
      return "UNAUTHENTICATED";
    default:
      return "?";
  }
}

std::shared_ptr<grpc::Channel> UnlimitedChannel(const std::string& address) {
  grpc::ChannelArguments args;
  args.SetMaxSendMessageSize(-1);
  args.SetMaxReceiveMessageSize(-1);
  return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(),
                                   args);
}

std::chrono::system_clock::time_point DeadlineIn(absl::Duration d) {
  return absl::ToChronoTime(absl::Now() + d);
}

// Waits for the next event of `cq`; false when the call's deadline plus a
// margin passed with none (the caller then cancels).
bool NextEvent(grpc::CompletionQueue* cq, absl::Time give_up, bool* ok) {
  void* tag = nullptr;
  const grpc::CompletionQueue::NextStatus next =
      cq->AsyncNext(&tag, ok, absl::ToChronoTime(give_up));
  return next == grpc::CompletionQueue::GOT_EVENT;
}

// ---- HTTP/2 framing ----

constexpr uint8_t kFrameHeaders = 0x1;
constexpr uint8_t kFrameRstStream = 0x3;
constexpr uint8_t kFrameSettings = 0x4;
constexpr uint8_t kFramePing = 0x6;
constexpr uint8_t kFrameGoaway = 0x7;
constexpr uint8_t kFlagAck = 0x1;
constexpr uint8_t kFlagEndHeaders = 0x4;
constexpr uint32_t kErrorCancel = 0x8;

void AppendFrame(uint8_t type, uint8_t flags, uint32_t stream,
                 absl::string_view payload, std::string* out) {
  const uint32_t length = static_cast<uint32_t>(payload.size());
  out->push_back(static_cast<char>((length >> 16) & 0xff));
  out->push_back(static_cast<char>((length >> 8) & 0xff));
  out->push_back(static_cast<char>(length & 0xff));
  out->push_back(static_cast<char>(type));
  out->push_back(static_cast<char>(flags));
  for (int shift : {24, 16, 8, 0})
    out->push_back(
        static_cast<char>((stream >> shift) & (shift == 24 ? 0x7f : 0xff)));
  out->append(payload.data(), payload.size());
}

uint32_t ReadU32(const unsigned char* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) |
         (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

std::string U32(uint32_t v) {
  std::string out;
  for (int shift : {24, 16, 8, 0})
    out.push_back(static_cast<char>((v >> shift) & 0xff));
  return out;
}

// A connected TCP socket to "host:port", or -1.
int Connect(const std::string& address, std::string* error) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos) {
    *error = absl::StrCat("address \"", address, "\" has no :PORT");
    return -1;
  }
  std::string host = address.substr(0, colon);
  if (host.size() > 1 && host.front() == '[')
    host = host.substr(1, host.size() - 2);
  const std::string port = address.substr(colon + 1);
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &found);
      rc != 0) {
    *error = absl::StrCat("cannot resolve ", address, ": ", gai_strerror(rc));
    return -1;
  }
  int fd = -1;
  for (addrinfo* a = found; a != nullptr && fd < 0; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype, a->ai_protocol);
    if (fd >= 0 && ::connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
      *error = absl::StrCat("cannot connect to ", address, ": ",
                            std::strerror(errno));
      ::close(fd);
      fd = -1;
    }
  }
  ::freeaddrinfo(found);
  return fd;
}

bool SendAll(int fd, absl::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

bool RecvAll(int fd, unsigned char* out, size_t size) {
  while (size > 0) {
    const ssize_t n = ::recv(fd, out, size, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    out += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

std::string FormatStatusCounts(const StatusCounts& counts) {
  std::vector<std::string> parts;
  for (const auto& [code, n] : counts)
    parts.push_back(absl::StrCat(CodeName(code), "=", n));
  return parts.empty() ? "none" : absl::StrJoin(parts, " ");
}

absl::StatusOr<v1::ScoreRow> FirstCleanRow(const std::string& csv_path) {
  absl::StatusOr<std::unique_ptr<RawReader>> reader = RawReader::Open(csv_path);
  if (!reader.ok()) return reader.status();
  RawRecord record;
  std::vector<RowError> errors;
  while ((*reader)->Next(&record, &errors)) {
    if (!errors.empty()) {
      errors.clear();
      continue;
    }
    absl::StatusOr<v1::CustomerRecord> customer = EncodeCustomer(record);
    if (!customer.ok()) continue;
    v1::ScoreRow row;
    *row.mutable_customer() = *std::move(customer);
    return row;
  }
  return absl::InvalidArgumentError(
      absl::StrCat(csv_path, ": no row reads without errors"));
}

// ---- (1) ----

FloodResult FloodWithUnreadStreams(const std::string& address,
                                   const FloodOptions& options) {
  v1::RecommendStreamRequest message;
  const int64_t row_size = static_cast<int64_t>(options.row.ByteSizeLong());
  const int64_t per_row = options.rows_per_message > 0
                              ? options.message_bytes / options.rows_per_message
                              : 0;
  // Tag + length of the unknown field take a few bytes of the padding.
  const int64_t pad = std::max<int64_t>(0, per_row - row_size - 8);
  const std::string padding(static_cast<size_t>(pad), 'x');
  for (int i = 0; i < options.rows_per_message; ++i) {
    v1::ScoreRow* row = message.add_rows();
    *row = options.row;
    row->set_row_id(static_cast<uint64_t>(i));
    if (pad > 0)
      row->GetReflection()->MutableUnknownFields(row)->AddLengthDelimited(
          1000, padding);
  }
  FloodResult result;
  result.message_size = static_cast<int64_t>(message.ByteSizeLong());

  auto channel = UnlimitedChannel(address);
  auto stub = v1::Recommender::NewStub(channel);
  const int n = std::max(0, options.streams);
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
  for (int i = 0; i < n; ++i) {
    contexts.push_back(std::make_unique<grpc::ClientContext>());
    // Bounded even if cancelling did not end it.
    contexts.back()->set_deadline(
        DeadlineIn(options.duration + absl::Seconds(30)));
  }
  std::atomic<int64_t> sent{0};
  std::atomic<int> finished{0};
  absl::Mutex mu;
  StatusCounts statuses;
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i) {
    threads.emplace_back([&, i] {
      auto stream = stub->RecommendStream(contexts[i].get());
      while (stream->Write(message)) sent.fetch_add(1);
      const grpc::Status status = stream->Finish();
      absl::MutexLock lock(&mu);
      ++statuses[status.error_code()];
      finished.fetch_add(1);
    });
  }
  const absl::Time end = absl::Now() + options.duration;
  while (absl::Now() < end) {
    absl::SleepFor(std::min(absl::Milliseconds(100), end - absl::Now()));
    if (options.on_tick) options.on_tick();
  }
  for (auto& context : contexts) context->TryCancel();
  // Each stream must end within 10 s of its cancellation.
  const absl::Time give_up = absl::Now() + absl::Seconds(10);
  while (finished.load() < n && absl::Now() < give_up)
    absl::SleepFor(absl::Milliseconds(10));
  result.no_status = n - finished.load();
  for (std::thread& t : threads) t.join();  // the deadlines end any hang
  result.messages_sent = sent.load();
  result.bytes_sent = result.messages_sent * result.message_size;
  result.statuses = statuses;
  return result;
}

// ---- (2) ----

std::string HpackInteger(uint64_t value, int prefix_bits,
                         uint8_t first_byte_flags) {
  std::string out;
  const uint64_t max_prefix = (uint64_t{1} << prefix_bits) - 1;
  if (value < max_prefix) {
    out.push_back(static_cast<char>(first_byte_flags | value));
    return out;
  }
  out.push_back(static_cast<char>(first_byte_flags | max_prefix));
  value -= max_prefix;
  while (value >= 128) {
    out.push_back(static_cast<char>((value % 128) + 128));
    value /= 128;
  }
  out.push_back(static_cast<char>(value));
  return out;
}

std::string HpackLiteral(absl::string_view name, absl::string_view value) {
  // 0000 0000: literal without indexing, new name; then H=0 + 7-bit lengths.
  std::string out(1, '\0');
  absl::StrAppend(&out, HpackInteger(name.size(), 7, 0), name,
                  HpackInteger(value.size(), 7, 0), value);
  return out;
}

absl::StatusOr<RapidResetResult> RapidReset(const std::string& address,
                                            const RapidResetOptions& options) {
  std::string error;
  const int fd = Connect(address, &error);
  if (fd < 0) return absl::UnavailableError(error);

  RapidResetResult result;
  std::mutex write_mu;  // the sender and the reader's ACKs
  absl::Mutex mu;       // guards result's received fields and `closed`
  bool closed = false;

  std::string start = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
  AppendFrame(kFrameSettings, 0, 0, "", &start);
  if (!SendAll(fd, start)) {
    ::close(fd);
    return absl::UnavailableError(absl::StrCat("cannot write to ", address));
  }

  std::thread reader([&] {
    unsigned char header[9];
    std::string payload;
    while (RecvAll(fd, header, sizeof(header))) {
      const uint32_t length =
          (uint32_t{header[0]} << 16) | (uint32_t{header[1]} << 8) | header[2];
      const uint8_t type = header[3];
      const uint8_t flags = header[4];
      payload.resize(length);
      if (length > 0 &&
          !RecvAll(fd, reinterpret_cast<unsigned char*>(payload.data()),
                   length)) {
        break;
      }
      std::string reply;
      if (type == kFrameSettings && !(flags & kFlagAck)) {
        AppendFrame(kFrameSettings, kFlagAck, 0, "", &reply);
      } else if (type == kFramePing && !(flags & kFlagAck)) {
        AppendFrame(kFramePing, kFlagAck, 0, payload, &reply);
      }
      if (!reply.empty()) {
        std::lock_guard<std::mutex> lock(write_mu);
        SendAll(fd, reply);
      }
      absl::MutexLock lock(&mu);
      ++result.frames_received;
      if (type == kFrameRstStream) ++result.rst_received;
      if (type == kFrameHeaders) ++result.headers_received;
      if (type == kFrameGoaway && length >= 8) {
        const auto* p = reinterpret_cast<const unsigned char*>(payload.data());
        result.goaway = true;
        result.goaway_last_stream = ReadU32(p) & 0x7fffffff;
        result.goaway_error = ReadU32(p + 4);
        result.goaway_debug = payload.substr(8);
      }
    }
    absl::MutexLock lock(&mu);
    closed = true;
  });

  // The header block is the same for every stream (no dynamic table use).
  std::string block;
  absl::StrAppend(
      &block, HpackLiteral(":method", "POST"), HpackLiteral(":scheme", "http"),
      HpackLiteral(":path", options.path), HpackLiteral(":authority", address),
      HpackLiteral("content-type", "application/grpc"),
      HpackLiteral("te", "trailers"));
  const std::string cancel = U32(kErrorCancel);
  constexpr int kPairsPerWrite = 100;
  uint32_t stream = 1;
  bool write_failed = false;
  for (int done = 0; done < options.pairs && !write_failed;) {
    std::string batch;
    const int count = std::min(kPairsPerWrite, options.pairs - done);
    for (int i = 0; i < count; ++i, stream += 2) {
      AppendFrame(kFrameHeaders, kFlagEndHeaders, stream, block, &batch);
      AppendFrame(kFrameRstStream, 0, stream, cancel, &batch);
    }
    std::lock_guard<std::mutex> lock(write_mu);
    if (!SendAll(fd, batch)) {
      write_failed = true;
    } else {
      done += count;
      result.pairs_sent = done;
    }
  }
  bool closed_by_server = write_failed;
  {
    absl::MutexLock lock(&mu);
    auto over = [&] { return closed || result.goaway; };
    mu.AwaitWithTimeout(absl::Condition(&over), options.linger);
    // Only a reader that ended before our own shutdown below (which also
    // ends it) says the server closed.
    closed_by_server = closed_by_server || closed;
  }
  ::shutdown(fd, SHUT_RDWR);
  reader.join();
  ::close(fd);
  absl::MutexLock lock(&mu);
  result.closed_by_server = closed_by_server;
  return result;
}

// ---- (3) ----

std::string StreamMessageBytes(const v1::ScoreRow& row, uint64_t row_id) {
  v1::RecommendStreamRequest message;
  *message.add_rows() = row;
  message.mutable_rows(0)->set_row_id(row_id);
  return message.SerializeAsString();
}

std::string InvalidUtf8StreamMessage(const v1::ScoreRow& row, uint64_t row_id) {
  // Serialized with a valid placeholder of the same length, then the bytes
  // are swapped, so that protobuf's own UTF-8 check is not involved here.
  const std::string placeholder = "MADRID\xc3\xa9";  // valid, 8 bytes
  const std::string invalid = "MADRID\xff\xfe";      // invalid, 8 bytes
  v1::ScoreRow bad = row;
  bad.mutable_customer()->set_nomprov(placeholder);
  std::string bytes = StreamMessageBytes(bad, row_id);
  const size_t at = bytes.find(placeholder);
  if (at != std::string::npos) bytes.replace(at, invalid.size(), invalid);
  return bytes;
}

std::vector<uint64_t> RawStreamResult::AnsweredRowIds() const {
  std::vector<uint64_t> ids;
  for (const v1::RecommendStreamResponse& response : responses)
    for (const v1::RowResult& result : response.results())
      ids.push_back(result.row_id());
  return ids;
}

RawStreamResult RawStream(const std::string& address,
                          const std::vector<std::string>& messages,
                          absl::Duration deadline) {
  RawStreamResult result;
  auto channel = UnlimitedChannel(address);
  grpc::GenericStub stub(channel);
  grpc::CompletionQueue cq;
  grpc::ClientContext context;
  context.set_deadline(DeadlineIn(deadline));
  const absl::Time give_up = absl::Now() + deadline + absl::Seconds(10);
  auto call = stub.PrepareCall(&context, kStreamMethod, &cq);
  bool ok = false;
  // One operation at a time: each waits for its completion.
  auto step = [&]() {
    if (!NextEvent(&cq, give_up, &ok)) {
      context.TryCancel();
      return false;
    }
    return true;
  };
  bool alive = call != nullptr;
  if (alive) {
    call->StartCall(nullptr);
    alive = step() && ok;
  }
  for (const std::string& bytes : messages) {
    if (!alive) break;
    grpc::Slice slice(bytes);
    grpc::ByteBuffer buffer(&slice, 1);
    call->Write(buffer, nullptr);
    alive = step() && ok;
  }
  if (alive) {
    call->WritesDone(nullptr);
    alive = step();
  }
  while (call != nullptr) {
    grpc::ByteBuffer in;
    call->Read(&in, nullptr);
    if (!step() || !ok) break;
    std::vector<grpc::Slice> slices;
    std::string bytes;
    if (in.Dump(&slices).ok())
      for (const grpc::Slice& s : slices)
        bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
    v1::RecommendStreamResponse response;
    if (response.ParseFromString(bytes)) {
      result.responses.push_back(std::move(response));
    } else {
      ++result.unparseable_responses;
    }
  }
  if (call != nullptr) {
    call->Finish(&result.status, nullptr);
    result.got_status = step();
  }
  cq.Shutdown();
  void* tag;
  while (cq.Next(&tag, &ok)) {
  }
  return result;
}

RawUnaryResult RawUnaryCalls(const std::string& address,
                             const std::string& method,
                             const std::string& bytes, int calls, int parallel,
                             absl::Duration deadline) {
  RawUnaryResult result;
  auto channel = UnlimitedChannel(address);
  grpc::GenericStub stub(channel);
  absl::Mutex mu;
  std::set<std::string> messages;
  std::atomic<int> next{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < std::max(1, parallel); ++t) {
    threads.emplace_back([&] {
      grpc::CompletionQueue cq;
      while (next.fetch_add(1) < calls) {
        grpc::ClientContext context;
        context.set_deadline(DeadlineIn(deadline));
        grpc::Slice slice(bytes);
        grpc::ByteBuffer request(&slice, 1);
        grpc::ByteBuffer response;
        grpc::Status status;
        auto rpc = stub.PrepareUnaryCall(&context, method, request, &cq);
        rpc->StartCall();
        rpc->Finish(&response, &status, nullptr);
        bool ok = false;
        const bool got =
            NextEvent(&cq, absl::Now() + deadline + absl::Seconds(10), &ok);
        if (!got) {
          context.TryCancel();
          void* tag;
          cq.Next(&tag, &ok);
        }
        absl::MutexLock lock(&mu);
        if (!got) {
          ++result.no_status;
          continue;
        }
        ++result.statuses[status.error_code()];
        if (!status.ok() && messages.size() < 5)
          messages.insert(status.error_message());
      }
      cq.Shutdown();
      void* tag;
      bool ok;
      while (cq.Next(&tag, &ok)) {
      }
    });
  }
  for (std::thread& t : threads) t.join();
  result.messages.assign(messages.begin(), messages.end());
  return result;
}

std::string GarbageBytes() {
  // Field 1 with wire type 7 (there is no such type), then noise.
  static const char kBytes[] = "\x0f\xff\xff\xff garbage \x00\x01";
  return std::string(kBytes, sizeof(kBytes) - 1);
}

}  // namespace recsys::testing
