#include "common/csv_tokenizer.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace recsys {
namespace {

using ::testing::ElementsAre;

struct Row {
  int64_t line;
  std::vector<std::string> fields;
  CsvProblem problem;
  int problem_field;
};

// Every record of `csv`, read with the given chunk size.
std::vector<Row> Records(const std::string& csv,
                         size_t chunk_bytes = size_t{1} << 20) {
  CsvTokenizerOptions options;
  options.chunk_bytes = chunk_bytes;
  CsvTokenizer tokenizer(std::make_unique<StringByteSource>(csv), options);
  std::vector<Row> rows;
  CsvRecord record;
  while (tokenizer.Next(&record)) {
    rows.push_back(
        {record.line,
         std::vector<std::string>(record.fields.begin(), record.fields.end()),
         record.problem, record.problem_field});
  }
  EXPECT_TRUE(tokenizer.status().ok()) << tokenizer.status();
  return rows;
}

std::vector<std::vector<std::string>> Fields(const std::vector<Row>& rows) {
  std::vector<std::vector<std::string>> fields;
  for (const Row& r : rows) fields.push_back(r.fields);
  return fields;
}

std::vector<int64_t> Lines(const std::vector<Row>& rows) {
  std::vector<int64_t> lines;
  for (const Row& r : rows) lines.push_back(r.line);
  return lines;
}

TEST(CsvTokenizer, SplitsUnquotedFieldsAtCommas) {
  EXPECT_THAT(
      Fields(Records("a,b,c\n1, 35,\n")),
      ElementsAre(ElementsAre("a", "b", "c"), ElementsAre("1", " 35", "")));
}

TEST(CsvTokenizer, QuotedFieldKeepsCommasAndUnescapesDoubledQuotes) {
  EXPECT_THAT(Fields(Records("\"CORUÑA, A\",\"say \"\"hi\"\"\",\"\"\n")),
              ElementsAre(ElementsAre("CORUÑA, A", "say \"hi\"", "")));
}

TEST(CsvTokenizer, QuotedFieldMaySpanLinesAndLinesStayPhysical) {
  std::vector<Row> rows = Records("h\n\"two\nlines\",x\nnext\n");
  EXPECT_THAT(Fields(rows),
              ElementsAre(ElementsAre("h"), ElementsAre("two\nlines", "x"),
                          ElementsAre("next")));
  EXPECT_THAT(Lines(rows), ElementsAre(1, 2, 4));
}

TEST(CsvTokenizer, CrlfLineEndsDropTheCarriageReturn) {
  EXPECT_THAT(Fields(Records("a,\"b\"\r\nc,d\r\n")),
              ElementsAre(ElementsAre("a", "b"), ElementsAre("c", "d")));
}

TEST(CsvTokenizer, SkipsUtf8ByteOrderMark) {
  EXPECT_THAT(Fields(Records("\xEF\xBB\xBF\"fecha_dato\",x\n")),
              ElementsAre(ElementsAre("fecha_dato", "x")));
}

TEST(CsvTokenizer, SkipsBlankLinesButCountsThem) {
  std::vector<Row> rows = Records("a\n\n\r\nb\n");
  EXPECT_THAT(Fields(rows), ElementsAre(ElementsAre("a"), ElementsAre("b")));
  EXPECT_THAT(Lines(rows), ElementsAre(1, 4));
}

TEST(CsvTokenizer, ReadsLastRecordWithoutLineEnd) {
  EXPECT_THAT(Fields(Records("a,b\nc,\"d\"")),
              ElementsAre(ElementsAre("a", "b"), ElementsAre("c", "d")));
}

TEST(CsvTokenizer, SmallChunksGiveTheSameRecords) {
  const std::string csv =
      "\xEF\xBB\xBF\"h1\",\"h2\"\r\n"
      "2015-01-28,\"CORUÑA, A\"\r\n"
      "x,\"multi\r\nline \"\"quoted\"\" text\"\r\n"
      "\r\n"
      "last,row";
  const std::vector<Row> expected = Records(csv);
  ASSERT_EQ(expected.size(), 4u);
  for (size_t chunk = 16; chunk <= 40; ++chunk) {
    std::vector<Row> rows = Records(csv, chunk);
    EXPECT_EQ(Fields(rows), Fields(expected)) << "chunk " << chunk;
    EXPECT_EQ(Lines(rows), Lines(expected)) << "chunk " << chunk;
  }
}

TEST(CsvTokenizer, TextAfterClosingQuoteIsKeptRawAndReported) {
  std::vector<Row> rows = Records("a,\"bc\"d,e\n");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_THAT(rows[0].fields, ElementsAre("a", "\"bc\"d", "e"));
  EXPECT_EQ(rows[0].problem, CsvProblem::kTextAfterQuote);
  EXPECT_EQ(rows[0].problem_field, 1);
}

TEST(CsvTokenizer, UnterminatedQuoteEndsAtLineEndAndReadingGoesOn) {
  std::vector<Row> rows = Records("a,\"open\nb,c\nd,e\n");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_THAT(rows[0].fields, ElementsAre("a", "open"));
  EXPECT_EQ(rows[0].problem, CsvProblem::kUnterminatedQuote);
  EXPECT_EQ(rows[0].problem_field, 1);
  EXPECT_THAT(rows[1].fields, ElementsAre("b", "c"));
  EXPECT_EQ(rows[1].problem, CsvProblem::kNone);
  EXPECT_THAT(Lines(rows), ElementsAre(1, 2, 3));
}

TEST(CsvTokenizer, UnclosedQuoteIsNotClosedByTheNextFieldsOpeningQuote) {
  std::vector<Row> rows = Records("a,\"open,x\nb,\"c\",d\n");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_THAT(rows[0].fields, ElementsAre("a", "open,x"));
  EXPECT_EQ(rows[0].problem, CsvProblem::kUnterminatedQuote);
  EXPECT_THAT(rows[1].fields, ElementsAre("b", "c", "d"));
  EXPECT_EQ(rows[1].problem, CsvProblem::kNone);
}

TEST(CsvTokenizer, QuoteOpenLongerThanTheRecordLimitIsUnterminated) {
  CsvTokenizerOptions options;
  options.chunk_bytes = 16;
  options.max_record_bytes = 64;
  std::string csv = "a,\"open\n";
  for (int i = 0; i < 20; ++i) csv += "row,ok\n";
  CsvTokenizer tokenizer(std::make_unique<StringByteSource>(csv), options);
  CsvRecord record;
  ASSERT_TRUE(tokenizer.Next(&record));
  EXPECT_EQ(record.problem, CsvProblem::kUnterminatedQuote);
  int rows = 0;
  while (tokenizer.Next(&record)) ++rows;
  EXPECT_EQ(rows, 20);
  EXPECT_TRUE(tokenizer.status().ok()) << tokenizer.status();
}

// Issue 10 item 4: a line over the limit stopped reading, and every later row
// was lost without an error. It is one record, and reading goes on.
TEST(CsvTokenizer, PhysicalLineLongerThanTheLimitIsOneRecordAndReadingGoesOn) {
  CsvTokenizerOptions options;
  options.chunk_bytes = 16;
  options.max_record_bytes = 64;
  const std::string csv =
      "a\n" + std::string(200, 'x') + ",\"q\nb\r\nc,d\n" + std::string(300, 'y');
  CsvTokenizer tokenizer(std::make_unique<StringByteSource>(csv), options);
  CsvRecord record;
  ASSERT_TRUE(tokenizer.Next(&record));
  EXPECT_EQ(record.line, 1);
  ASSERT_TRUE(tokenizer.Next(&record));
  EXPECT_EQ(record.line, 2);
  EXPECT_EQ(record.problem, CsvProblem::kLineTooLong);
  EXPECT_EQ(record.max_line_bytes, 64u);
  EXPECT_TRUE(record.fields.empty());
  EXPECT_EQ(record.text, std::string(64, 'x'));
  ASSERT_TRUE(tokenizer.Next(&record));
  EXPECT_EQ(record.line, 3);
  EXPECT_THAT(std::vector<std::string>(record.fields.begin(),
                                       record.fields.end()),
              ElementsAre("b"));
  ASSERT_TRUE(tokenizer.Next(&record));
  EXPECT_EQ(record.line, 4);
  EXPECT_EQ(record.problem, CsvProblem::kNone);
  // A too-long last line without a line end is a record too.
  ASSERT_TRUE(tokenizer.Next(&record));
  EXPECT_EQ(record.line, 5);
  EXPECT_EQ(record.problem, CsvProblem::kLineTooLong);
  EXPECT_FALSE(tokenizer.Next(&record));
  EXPECT_TRUE(tokenizer.status().ok()) << tokenizer.status();
  EXPECT_EQ(tokenizer.bytes_consumed(), static_cast<int64_t>(csv.size()));
}

// A source that fails after giving `good` bytes.
class FailingSource : public ByteSource {
 public:
  explicit FailingSource(std::string good) : good_(std::move(good)) {}
  absl::StatusOr<size_t> Read(char* dst, size_t n) override {
    if (pos_ == good_.size()) return absl::DataLossError("disk on fire");
    const size_t got = std::min(n, good_.size() - pos_);
    std::memcpy(dst, good_.data() + pos_, got);
    pos_ += got;
    return got;
  }

 private:
  std::string good_;
  size_t pos_ = 0;
};

TEST(CsvTokenizer, ReadErrorNamesTheLine) {
  CsvTokenizerOptions options;
  options.chunk_bytes = 16;
  CsvTokenizer tokenizer(
      std::make_unique<FailingSource>("a\nb\nc\nd,e,f,g"), options);
  CsvRecord record;
  int rows = 0;
  while (tokenizer.Next(&record)) ++rows;
  EXPECT_EQ(rows, 3);
  EXPECT_EQ(tokenizer.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(tokenizer.status().message(), "line 4: disk on fire");
}

// Found by fuzz/csv_tokenizer_fuzz.cc: the limits held only while a record
// was still being read, so a long record that arrived in one chunk passed.
TEST(CsvTokenizer, LineOverTheLimitIsOneBadRecordWhateverTheChunkSize) {
  for (size_t chunk_bytes : {size_t{16}, size_t{1} << 20}) {
    CsvTokenizerOptions options;
    options.chunk_bytes = chunk_bytes;
    options.max_record_bytes = 64;
    CsvTokenizer tokenizer(
        std::make_unique<StringByteSource>("a\n" + std::string(100, 'x') +
                                           "\nb\n"),
        options);
    CsvRecord record;
    ASSERT_TRUE(tokenizer.Next(&record));
    ASSERT_TRUE(tokenizer.Next(&record)) << "chunk " << chunk_bytes;
    EXPECT_EQ(record.problem, CsvProblem::kLineTooLong) << "chunk " << chunk_bytes;
    EXPECT_EQ(record.line, 2);
    ASSERT_TRUE(tokenizer.Next(&record)) << "chunk " << chunk_bytes;
    EXPECT_EQ(record.text, "b");
    EXPECT_TRUE(tokenizer.status().ok());
  }
}

TEST(CsvTokenizer, RecordOverTheLimitIsCutWhateverTheChunkSize) {
  // One quoted field over 10 lines (110 bytes) and a limit of 64 bytes.
  std::string csv = "a,\"open\n";
  for (int i = 0; i < 9; ++i) csv += "inside,\n";
  csv += "close\",z\nb,c\n";
  for (size_t chunk_bytes : {size_t{16}, size_t{1} << 20}) {
    CsvTokenizerOptions options;
    options.chunk_bytes = chunk_bytes;
    options.max_record_bytes = 64;
    CsvTokenizer tokenizer(std::make_unique<StringByteSource>(csv), options);
    CsvRecord record;
    ASSERT_TRUE(tokenizer.Next(&record));
    EXPECT_THAT(std::vector<std::string>(record.fields.begin(),
                                         record.fields.end()),
                ElementsAre("a", "open"))
        << "chunk " << chunk_bytes;
    EXPECT_EQ(record.problem, CsvProblem::kUnterminatedQuote);
    EXPECT_TRUE(tokenizer.status().ok()) << tokenizer.status();
  }
}

TEST(CsvTokenizer, CountsConsumedBytes) {
  CsvTokenizer tokenizer(std::make_unique<StringByteSource>("ab,c\r\nd\n"));
  CsvRecord record;
  ASSERT_TRUE(tokenizer.Next(&record));
  EXPECT_EQ(tokenizer.bytes_consumed(), 6);
  ASSERT_TRUE(tokenizer.Next(&record));
  EXPECT_EQ(tokenizer.bytes_consumed(), 8);
}

TEST(FileByteSource, MissingFileIsNotFound) {
  EXPECT_EQ(FileByteSource::Open("/nonexistent/train_ver2.csv").status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace recsys
