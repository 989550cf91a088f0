// Fuzz target: common/csv_tokenizer. The first byte picks a small chunk size
// (its low 6 bits) and the record limit (its top 2 bits: 128 .. 1024 bytes,
// small so that the limits are reached); the rest is the CSV text. The same bytes are tokenized twice, in small
// chunks and in one chunk, and the two must agree record for record (the
// header promises that chunking is invisible), besides each record being
// consistent (problem_field indexes a field, lines increase, bytes consumed
// stay within the input).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "common/csv_tokenizer.h"

namespace {

// One record, copied out of the tokenizer's buffers.
struct Record {
  std::vector<std::string> fields;
  std::string text;
  int64_t line;
  recsys::CsvProblem problem;
  int problem_field;
  bool operator==(const Record&) const = default;
};

struct Result {
  std::vector<Record> records;
  absl::StatusCode code;
};

void Check(bool condition) {
  if (!condition) std::abort();
}

Result Tokenize(const std::string& bytes, size_t chunk_bytes,
                size_t max_record_bytes) {
  recsys::CsvTokenizerOptions options;
  options.chunk_bytes = chunk_bytes;
  options.max_record_bytes = max_record_bytes;
  recsys::CsvTokenizer tokenizer(
      std::make_unique<recsys::StringByteSource>(bytes), options);
  Result result;
  recsys::CsvRecord record;
  int64_t last_line = 0;
  while (tokenizer.Next(&record)) {
    Check(!record.fields.empty());
    Check(record.line > last_line);
    last_line = record.line;
    if (record.problem == recsys::CsvProblem::kNone) {
      Check(record.problem_field == -1);
    } else {
      Check(record.problem_field >= 0 &&
            record.problem_field < static_cast<int>(record.fields.size()));
    }
    Check(tokenizer.bytes_consumed() <= static_cast<int64_t>(bytes.size()));
    Record copy{{}, std::string(record.text), record.line, record.problem,
                record.problem_field};
    for (absl::string_view field : record.fields) {
      copy.fields.emplace_back(field);
    }
    result.records.push_back(std::move(copy));
  }
  result.code = tokenizer.status().code();
  return result;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const size_t small_chunk = 16 + data[0] % 64;
  const size_t max_record = size_t{128} << (data[0] >> 6);
  const std::string bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  const Result small = Tokenize(bytes, small_chunk, max_record);
  // One chunk that holds everything (not the 1 MiB default: each run would
  // allocate it, and the fuzzer would spend its time there).
  const Result whole = Tokenize(bytes, bytes.size() + 16, max_record);
  Check(small.code == whole.code);
  Check(small.records.size() == whole.records.size());
  for (size_t i = 0; i < small.records.size(); ++i) {
    Check(small.records[i] == whole.records[i]);
  }
  return 0;
}
