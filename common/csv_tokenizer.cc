#include "common/csv_tokenizer.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"

namespace recsys {

absl::StatusOr<size_t> IstreamByteSource::Read(char* dst, size_t n) {
  // A stream that failed before its end (e.g. a file that did not open) is
  // an error, not an empty input.
  if (in_->bad() || (in_->fail() && !in_->eof())) {
    return absl::DataLossError(absl::StrCat("cannot read ", name_));
  }
  if (in_->eof()) return 0;
  in_->read(dst, static_cast<std::streamsize>(n));
  if (in_->bad()) {
    return absl::DataLossError(absl::StrCat("cannot read ", name_));
  }
  return static_cast<size_t>(in_->gcount());
}

absl::StatusOr<size_t> StringByteSource::Read(char* dst, size_t n) {
  const size_t got = std::min(n, data_.size() - pos_);
  std::memcpy(dst, data_.data() + pos_, got);
  pos_ += got;
  return got;
}

absl::StatusOr<std::unique_ptr<FileByteSource>> FileByteSource::Open(
    const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("cannot open ", path, ": ", std::strerror(errno)));
  }
  // The tokenizer reads in large chunks: stdio's own buffer would only copy.
  std::setvbuf(file, nullptr, _IONBF, 0);
  return std::unique_ptr<FileByteSource>(new FileByteSource(file, path));
}

FileByteSource::~FileByteSource() { std::fclose(file_); }

absl::StatusOr<size_t> FileByteSource::Read(char* dst, size_t n) {
  const size_t got = std::fread(dst, 1, n, file_);
  if (got < n && std::ferror(file_)) {
    return absl::DataLossError(
        absl::StrCat("cannot read ", path_, ": ", std::strerror(errno)));
  }
  return got;
}

CsvTokenizer::CsvTokenizer(std::unique_ptr<ByteSource> source,
                           CsvTokenizerOptions options)
    : source_(std::move(source)), options_(options) {
  options_.chunk_bytes = std::max<size_t>(options_.chunk_bytes, 16);
  options_.max_record_bytes = std::max<size_t>(options_.max_record_bytes, 16);
}

bool CsvTokenizer::Refill() {
  if (pos_ > 0) {
    std::memmove(buffer_.data(), buffer_.data() + pos_, end_ - pos_);
    end_ -= pos_;
    pos_ = 0;
  }
  if (buffer_.size() - end_ < options_.chunk_bytes / 2) {
    const size_t limit = options_.max_record_bytes + options_.chunk_bytes;
    buffer_.resize(
        std::min(limit, std::max(options_.chunk_bytes, 2 * buffer_.size())));
  }
  absl::StatusOr<size_t> got =
      source_->Read(buffer_.data() + end_, buffer_.size() - end_);
  if (!got.ok()) {
    SetReadError(got.status());
    return false;
  }
  if (*got == 0) {
    eof_ = true;
    return false;
  }
  end_ += *got;
  return true;
}

bool CsvTokenizer::Next(CsvRecord* record) {
  if (!started_) {
    started_ = true;
    Refill();
    static constexpr char kBom[] = "\xEF\xBB\xBF";
    if (end_ - pos_ >= 3 && std::memcmp(buffer_.data() + pos_, kBom, 3) == 0) {
      pos_ += 3;
      bytes_consumed_ += 3;
    }
  }
  while (status_.ok()) {
    if (pos_ == end_) {
      if (eof_) return false;
      Refill();
      continue;
    }
    size_t length = 0;
    int64_t newlines = 0;
    Scan scan = ScanRecord(/*line_mode=*/false, record, &length, &newlines);
    // The limit is applied to the record's length, never to how much of it
    // the buffer happens to hold, so that chunking cannot change the records:
    // more bytes are read until the record ends or is over the limit.
    if (scan == Scan::kNeedMore && end_ - pos_ <= options_.max_record_bytes) {
      Refill();
      continue;
    }
    const bool too_long =
        scan == Scan::kNeedMore ||
        (scan == Scan::kComplete && length > options_.max_record_bytes);
    if (too_long || scan == Scan::kUnterminated) {
      // Too long for one record, or a quote that was most likely never
      // closed: the record is its first physical line (ScanRecord marks the
      // open quote), unless that line is over the limit itself.
      scan = ScanRecord(/*line_mode=*/true, record, &length, &newlines);
      if (scan != Scan::kComplete &&
          end_ - pos_ <= options_.max_record_bytes) {
        Refill();
        continue;
      }
      if (scan != Scan::kComplete || length > options_.max_record_bytes) {
        return SkipLongLine(record);
      }
    }
    record->line = line_;
    line_ += newlines;
    pos_ += length;
    bytes_consumed_ += static_cast<int64_t>(length);
    if (record->text.empty()) continue;  // blank line
    if (!escaped_fields_.empty()) UnescapeFields(record);
    return true;
  }
  return false;
}

CsvTokenizer::Scan CsvTokenizer::ScanRecord(bool line_mode, CsvRecord* record,
                                            size_t* length, int64_t* newlines) {
  const char* const begin = buffer_.data() + pos_;
  const char* const end = buffer_.data() + end_;
  record->fields.clear();
  record->problem = CsvProblem::kNone;
  record->problem_field = -1;
  escaped_fields_.clear();
  int64_t lines = 0;
  const char* p = begin;
  while (true) {
    const char* const field_start = p;
    if (p < end && *p == '"') {
      // Quoted field: find the closing quote, skipping "" pairs.
      const char* q = p + 1;
      bool escaped = false;
      const char* close = nullptr;
      while (true) {
        const char* quote;
        if (line_mode) {
          quote = q;
          while (quote < end && *quote != '"' && *quote != '\n') ++quote;
        } else {
          quote = static_cast<const char*>(std::memchr(q, '"', end - q));
          if (quote == nullptr) quote = end;
        }
        if (quote == end) {
          if (!eof_) return Scan::kNeedMore;
          if (!line_mode) return Scan::kUnterminated;
        }
        if (quote == end || *quote == '\n') {
          // Line mode: the quote is not closed on this line.
          const char* text_end = quote;
          if (text_end > field_start && text_end[-1] == '\r') --text_end;
          record->problem = CsvProblem::kUnterminatedQuote;
          record->problem_field = static_cast<int>(record->fields.size());
          record->fields.emplace_back(p + 1,
                                      std::max(text_end, p + 1) - (p + 1));
          record->text = absl::string_view(begin, text_end - begin);
          *length = (quote == end ? end : quote + 1) - begin;
          *newlines = quote == end ? 0 : 1;
          return Scan::kComplete;
        }
        if (quote + 1 == end && !eof_) return Scan::kNeedMore;
        if (quote + 1 < end && quote[1] == '"') {
          escaped = true;
          q = quote + 2;
          continue;
        }
        close = quote;
        break;
      }
      const int64_t inner_lines =
          line_mode ? 0 : std::count(p + 1, close, '\n');
      p = close + 1;
      const bool at_delimiter = p == end || *p == ',' || *p == '\n' ||
                                (*p == '\r' && (p + 1 == end || p[1] == '\n'));
      // A field that runs over lines and is then followed by text was most
      // likely never closed: its "closing" quote opens a field further down.
      if (!at_delimiter && inner_lines > 0) return Scan::kUnterminated;
      lines += inner_lines;
      if (at_delimiter) {
        if (p + 1 == end && *p == '\r' && !eof_) return Scan::kNeedMore;
        if (escaped)
          escaped_fields_.push_back(static_cast<int>(record->fields.size()));
        record->fields.emplace_back(field_start + 1, close - (field_start + 1));
        if (p < end && *p == ',') {
          ++p;
          continue;
        }
        record->text = absl::string_view(begin, p - begin);
        if (p < end && *p == '\r') ++p;
        if (p < end) {
          ++p;  // the LF
          ++lines;
        }
        *length = p - begin;
        *newlines = lines;
        return Scan::kComplete;
      }
      // Text after the closing quote: keep the raw field text.
      if (record->problem == CsvProblem::kNone) {
        record->problem = CsvProblem::kTextAfterQuote;
        record->problem_field = static_cast<int>(record->fields.size());
      }
    }
    // Unquoted field (or the rest of a malformed quoted one).
    const char* q = p;
    while (q < end && *q != ',' && *q != '\n') ++q;
    if (q == end && !eof_) return Scan::kNeedMore;
    if (q < end && *q == ',') {
      record->fields.emplace_back(field_start, q - field_start);
      p = q + 1;
      continue;
    }
    const char* text_end = q;
    if (text_end > field_start && text_end[-1] == '\r') --text_end;
    record->fields.emplace_back(field_start, text_end - field_start);
    record->text = absl::string_view(begin, text_end - begin);
    if (q < end) {
      ++q;
      ++lines;
    }
    *length = q - begin;
    *newlines = lines;
    return Scan::kComplete;
  }
}

bool CsvTokenizer::SkipLongLine(CsvRecord* record) {
  // The record's text is the line's first bytes, kept in scratch_ because the
  // buffer is about to be overwritten.
  constexpr size_t kShownBytes = 64;
  scratch_.assign(buffer_.data() + pos_,
                  std::min(kShownBytes, end_ - pos_));
  record->fields.clear();
  escaped_fields_.clear();
  record->text = scratch_;
  record->line = line_;
  record->problem = CsvProblem::kLineTooLong;
  record->problem_field = -1;
  record->max_line_bytes = options_.max_record_bytes;
  while (true) {
    const char* const begin = buffer_.data() + pos_;
    const void* lf = std::memchr(begin, '\n', end_ - pos_);
    if (lf != nullptr) {
      const size_t length = static_cast<const char*>(lf) + 1 - begin;
      pos_ += length;
      bytes_consumed_ += static_cast<int64_t>(length);
      ++line_;
      return true;
    }
    bytes_consumed_ += static_cast<int64_t>(end_ - pos_);
    pos_ = end_;
    if (!Refill()) return status_.ok();  // the file ends inside the line
  }
}

void CsvTokenizer::SetReadError(const absl::Status& error) {
  status_ = absl::Status(error.code(), absl::StrCat("line ", line_, ": ",
                                                    error.message()));
}

void CsvTokenizer::UnescapeFields(CsvRecord* record) {
  if (scratch_.size() < record->text.size())
    scratch_.resize(record->text.size());
  size_t out = 0;
  for (int index : escaped_fields_) {
    absl::string_view field = record->fields[index];
    const size_t start = out;
    for (size_t i = 0; i < field.size(); ++i) {
      scratch_[out++] = field[i];
      if (field[i] == '"') ++i;  // the second quote of a "" pair
    }
    record->fields[index] =
        absl::string_view(scratch_.data() + start, out - start);
  }
}

}  // namespace recsys
