// ReusedMessage: one protobuf message reused for every request (or every
// answer) of a stream, without allocating per field.
//
// On a protobuf arena whose first block (1 MB, owned here) is kept across
// messages, building or parsing a message allocates nothing once the block
// is large enough; Fresh() resets the arena, so the previous message is gone.
// Without arenas it is one heap message, cleared each time (what the batch
// client did before; kept to measure the difference).
//
//   ReusedMessage<v1::RecommendStreamResponse> responses(/*use_arena=*/true);
//   while (true) {
//     v1::RecommendStreamResponse* response = responses.Fresh();
//     if (!stream->Read(response)) break;
//     Use(*response);
//   }
//
// Not thread-safe: one per thread.
#ifndef RECSYS_CLIENT_REUSED_MESSAGE_H_
#define RECSYS_CLIENT_REUSED_MESSAGE_H_

#include <google/protobuf/arena.h>

#include <cstddef>
#include <memory>
#include <optional>
#include <vector>

namespace recsys {

template <typename Message>
class ReusedMessage {
 public:
  explicit ReusedMessage(bool use_arena) {
    if (!use_arena) {
      heap_ = std::make_unique<Message>();
      return;
    }
    block_.resize(kArenaBlockBytes);
    google::protobuf::ArenaOptions options;
    options.initial_block = block_.data();
    options.initial_block_size = block_.size();
    arena_.emplace(options);
  }

  ReusedMessage(const ReusedMessage&) = delete;
  ReusedMessage& operator=(const ReusedMessage&) = delete;

  // An empty message, owned by this object; the one returned before is gone.
  Message* Fresh() {
    if (heap_ != nullptr) {
      heap_->Clear();
      return heap_.get();
    }
    arena_->Reset();
    return google::protobuf::Arena::CreateMessage<Message>(&*arena_);
  }

 private:
  // A 256-row answer takes about 300 KB; larger ones add blocks.
  static constexpr size_t kArenaBlockBytes = 1 << 20;
  std::vector<char> block_;
  std::optional<google::protobuf::Arena> arena_;
  std::unique_ptr<Message> heap_;
};

}  // namespace recsys

#endif  // RECSYS_CLIENT_REUSED_MESSAGE_H_
