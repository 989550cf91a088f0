// Splits an RFC 4180 CSV byte stream into records of fields, reading the
// source in large chunks so that memory stays bounded whatever the file size.
//
// Rules: a field that starts with a double quote is quoted; inside it "" is a
// literal quote and commas, CR and LF are data. Records end at LF or CRLF (a
// CR just before the LF is dropped). A UTF-8 byte order mark at the very
// start is skipped. Blank lines are skipped. Bytes are passed through
// verbatim (UTF-8 stays UTF-8).
//
// Malformed quoting does not stop reading; the record says what went wrong:
//  - text after a closing quote ("ab"c): the field is its raw text up to the
//    next comma and the record's problem is kTextAfterQuote;
//  - a quote that is never closed, or whose field runs over lines and is
//    followed by text after its closing quote, or that would make one record
//    longer than max_record_bytes: the record is re-read as ending at the end
//    of its first physical line, the problem is kUnterminatedQuote, and
//    reading goes on with the next line.
//
//   CsvTokenizer tokenizer(std::make_unique<FileByteSource>(file));
//   CsvRecord record;
//   while (tokenizer.Next(&record)) Use(record.fields);
//   RECSYS_RETURN_IF_ERROR(tokenizer.status());
#ifndef RECSYS_COMMON_CSV_TOKENIZER_H_
#define RECSYS_COMMON_CSV_TOKENIZER_H_

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <istream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace recsys {

// Where the tokenizer's bytes come from. Not thread-safe.
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Reads up to `n` bytes into `dst`. Returns the number read (fewer than `n`
  // only at the end of the data, 0 once it is reached) or the I/O error.
  virtual absl::StatusOr<size_t> Read(char* dst, size_t n) = 0;
};

// Reads from a std::istream with istream::read; the stream is borrowed and
// must outlive the source.
class IstreamByteSource : public ByteSource {
 public:
  IstreamByteSource(std::istream* in, std::string name)
      : in_(in), name_(std::move(name)) {}
  absl::StatusOr<size_t> Read(char* dst, size_t n) override;

 private:
  std::istream* in_;
  std::string name_;
};

// Reads bytes held in memory.
class StringByteSource : public ByteSource {
 public:
  explicit StringByteSource(std::string data) : data_(std::move(data)) {}
  absl::StatusOr<size_t> Read(char* dst, size_t n) override;

 private:
  std::string data_;
  size_t pos_ = 0;
};

// Reads a file with fread (unbuffered by stdio: the tokenizer buffers).
class FileByteSource : public ByteSource {
 public:
  // Returns NOT_FOUND when `path` cannot be opened for reading.
  static absl::StatusOr<std::unique_ptr<FileByteSource>> Open(
      const std::string& path);
  ~FileByteSource() override;
  FileByteSource(const FileByteSource&) = delete;
  FileByteSource& operator=(const FileByteSource&) = delete;

  absl::StatusOr<size_t> Read(char* dst, size_t n) override;

 private:
  FileByteSource(std::FILE* file, std::string path)
      : file_(file), path_(std::move(path)) {}
  std::FILE* file_;
  std::string path_;
};

enum class CsvProblem : uint8_t {
  kNone,
  kTextAfterQuote,     // "ab"c
  kUnterminatedQuote,  // "ab... never closed
  kLineTooLong,        // a physical line longer than max_record_bytes
};

struct CsvRecord {
  // Field texts, unquoted and unescaped. They point into the tokenizer's
  // buffers and stay valid until the next call to Next().
  std::vector<absl::string_view> fields;
  // The record as it is in the file, without its line end (valid as long as
  // `fields`).
  absl::string_view text;
  int64_t line = 0;  // 1-based physical line where the record starts
  CsvProblem problem = CsvProblem::kNone;
  int problem_field = -1;  // index in `fields` of the malformed field
  // kLineTooLong: the limit the line exceeded, in bytes.
  size_t max_line_bytes = 0;
};

struct CsvTokenizerOptions {
  // Bytes read from the source at a time. Default 1 MiB.
  size_t chunk_bytes = size_t{1} << 20;
  // A record longer than this (in bytes, line end included) is malformed,
  // and a physical line longer than this is a kLineTooLong record (see the
  // file comment). The same records result whatever chunk_bytes is.
  // Default 4 MiB.
  size_t max_record_bytes = size_t{4} << 20;
};

// Not thread-safe.
class CsvTokenizer {
 public:
  explicit CsvTokenizer(std::unique_ptr<ByteSource> source,
                        CsvTokenizerOptions options = {});
  CsvTokenizer(const CsvTokenizer&) = delete;
  CsvTokenizer& operator=(const CsvTokenizer&) = delete;

  // Reads the next non-blank record into `*record`. Returns false at the end
  // of the data or when reading stopped on an error (see status()).
  bool Next(CsvRecord* record);

  // OK, or the error that stopped reading.
  const absl::Status& status() const { return status_; }

  // Bytes of the source consumed by the records returned so far (including
  // a byte order mark and skipped blank lines).
  int64_t bytes_consumed() const { return bytes_consumed_; }

 private:
  enum class Scan { kComplete, kNeedMore, kUnterminated };

  // Splits the record starting at pos_ into record->fields. On kComplete
  // sets *length to the bytes of the record including its line end and
  // *newlines to the physical line ends it contains. `line_mode` makes a line
  // end terminate the record even inside quotes.
  Scan ScanRecord(bool line_mode, CsvRecord* record, size_t* length,
                  int64_t* newlines);
  // Moves the unread bytes to the front, grows the buffer if it is full and
  // reads more. Returns false (setting eof_ or status_) when nothing was read.
  bool Refill();
  // Replaces the escaped quoted fields by their unescaped text in scratch_.
  void UnescapeFields(CsvRecord* record);
  // Makes `*record` the kLineTooLong record of the line at pos_ and skips
  // that line. Returns false on an I/O error.
  bool SkipLongLine(CsvRecord* record);
  // Sets status_ to `error` with the current line named.
  void SetReadError(const absl::Status& error);

  std::unique_ptr<ByteSource> source_;
  CsvTokenizerOptions options_;
  std::vector<char> buffer_;
  size_t pos_ = 0;  // start of the unread bytes in buffer_
  size_t end_ = 0;  // end of the valid bytes in buffer_
  bool eof_ = false;
  bool started_ = false;  // the byte order mark check is done
  int64_t line_ = 1;
  int64_t bytes_consumed_ = 0;
  absl::Status status_;
  std::vector<int> escaped_fields_;  // fields with "" inside, this record
  std::string scratch_;              // their unescaped text
};

}  // namespace recsys

#endif  // RECSYS_COMMON_CSV_TOKENIZER_H_
