// The reader on hand-made input: header forms, layouts, quoting, field forms.
#include "common/raw_reader.h"

#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "common/raw_reader_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace recsys {
namespace {

using ::recsys::testing::kFirstTestRow;
using ::recsys::testing::kFirstTrainRow;
using ::recsys::testing::ReadCsvFile;
using ::recsys::testing::ReadCsvText;
using ::recsys::testing::ReadResult;
using ::recsys::testing::RowText;
using ::recsys::testing::SantanderHeader;
using ::recsys::testing::TestHeader;
using ::recsys::testing::TrainHeader;
using ::testing::HasSubstr;

// Reads a train file made of the header and `rows`, expecting no row error.
RawRecord ReadOneTrainRow(const std::string& row, bool quoted_header = true) {
  ReadResult r =
      ReadCsvText(SantanderHeader(true, quoted_header) + "\n" + row + "\n");
  EXPECT_TRUE(r.open_status.ok()) << r.open_status;
  EXPECT_TRUE(r.errors.empty()) << r.errors[0].ToString();
  EXPECT_EQ(r.records.size(), 1u);
  return r.records.empty() ? RawRecord() : r.records[0];
}

TEST(RawReader, QuotedTrainHeaderGivesTrainLayoutWithBareNames) {
  ReadResult r = ReadCsvText(TrainHeader() + "\n" + kFirstTrainRow + "\n");
  ASSERT_TRUE(r.open_status.ok()) << r.open_status;
  EXPECT_EQ(r.layout, FileLayout::kTrain);
  ASSERT_EQ(r.header.size(), 48u);
  EXPECT_EQ(r.header[0], "fecha_dato");
  EXPECT_EQ(r.header[47], "ind_recibo_ult1");
}

TEST(RawReader, UnquotedHeaderReadsTheSameValues) {
  RawRecord quoted = ReadOneTrainRow(kFirstTrainRow, /*quoted_header=*/true);
  RawRecord bare = ReadOneTrainRow(kFirstTrainRow, /*quoted_header=*/false);
  EXPECT_EQ(bare.ncodpers.value, 1375586);
  EXPECT_EQ(bare.age.value, quoted.age.value);
  EXPECT_EQ(bare.nomprov.value, quoted.nomprov.value);
  EXPECT_EQ(bare.products, quoted.products);
}

TEST(RawReader, SkipsByteOrderMarkBeforeHeader) {
  ReadResult r = ReadCsvText("\xEF\xBB\xBF" + TrainHeader() + "\n" +
                             kFirstTrainRow + "\n");
  ASSERT_TRUE(r.open_status.ok()) << r.open_status;
  EXPECT_EQ(r.header[0], "fecha_dato");
  ASSERT_EQ(r.records.size(), 1u);
  EXPECT_TRUE(r.errors.empty());
  EXPECT_EQ(r.records[0].fecha_dato.value.ToString(), "2015-01-28");
}

TEST(RawReader, DemographicHeaderGivesTestLayoutWithoutProducts) {
  ReadResult r = ReadCsvText(TestHeader() + "\r\n" + kFirstTestRow + "\r\n");
  ASSERT_TRUE(r.open_status.ok()) << r.open_status;
  EXPECT_EQ(r.layout, FileLayout::kTest);
  ASSERT_EQ(r.records.size(), 1u);
  EXPECT_TRUE(r.errors.empty());
  EXPECT_FALSE(r.records[0].has_products);
  EXPECT_EQ(r.records[0].segmento.value, "01 - TOP");  // no stray CR
}

TEST(RawReader, SpreadsheetDatesParseToIsoDates) {
  ReadResult r = ReadCsvText(TestHeader() + "\r\n" + kFirstTestRow + "\r\n");
  ASSERT_EQ(r.records.size(), 1u);
  EXPECT_EQ(r.records[0].fecha_dato.value.ToString(), "2016-06-28");
  EXPECT_EQ(r.records[0].fecha_alta.value.ToString(), "1995-01-16");
}

TEST(RawReader, FindsColumnsByNameInAnyOrderAndIgnoresUnknownOnes) {
  const std::string header = absl::StrReplaceAll(
      TestHeader(), {{"fecha_dato,ncodpers", "ncodpers,extra,fecha_dato"}});
  const std::string row = absl::StrReplaceAll(
      kFirstTestRow, {{"6/28/2016,15889", "15889,x,6/28/2016"}});
  ReadResult r = ReadCsvText(header + "\n" + row + "\n");
  ASSERT_TRUE(r.open_status.ok()) << r.open_status;
  ASSERT_EQ(r.records.size(), 1u);
  EXPECT_TRUE(r.errors.empty());
  EXPECT_EQ(r.records[0].ncodpers.value, 15889);
  EXPECT_EQ(r.records[0].fecha_dato.value.ToString(), "2016-06-28");
}

TEST(RawReader, HeaderWithoutRequiredColumnIsInvalidArgumentNamingIt) {
  const std::string header =
      absl::StrReplaceAll(TestHeader(), {{",age,", ",edad,"}});
  ReadResult r = ReadCsvText(header + "\n");
  EXPECT_EQ(r.open_status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.open_status.message()), HasSubstr("\"age\""));
}

TEST(RawReader, HeaderWithSomeProductColumnsIsInvalidArgument) {
  ReadResult r = ReadCsvText(TestHeader() + ",ind_ahor_fin_ult1\n");
  EXPECT_EQ(r.open_status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.open_status.message()),
              HasSubstr("ind_aval_fin_ult1"));
}

TEST(RawReader, EmptyInputIsInvalidArgument) {
  EXPECT_EQ(ReadCsvText("").open_status.code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(RawReader, StreamThatFailedBeforeItsEndIsAnError) {
  std::ifstream in("/nonexistent/train_ver2.csv");
  absl::StatusOr<std::unique_ptr<RawReader>> reader =
      RawReader::FromStream(&in, "train_ver2.csv");
  EXPECT_EQ(reader.status().code(), absl::StatusCode::kDataLoss);
}

TEST(RawReader, MissingFileIsNotFound) {
  EXPECT_EQ(ReadCsvFile("/nonexistent/train_ver2.csv").open_status.code(),
            absl::StatusCode::kNotFound);
}

TEST(RawReader, QuotedProvinceKeepsEmbeddedCommaAndUtf8) {
  RawRecord r =
      ReadOneTrainRow(RowText().Set("nomprov", "\"CORUÑA, A\"").str());
  EXPECT_EQ(r.nomprov.value, "CORUÑA, A");
  EXPECT_EQ(r.ind_actividad_cliente.value, 1);  // the column after it
}

// Issue 10 item 3: a Latin-1 byte (a spreadsheet's save of "MÁLAGA") was
// read as text, and the server then refused the whole message. It is that
// row's error, naming line, column and the byte; the other rows are read.
TEST(RawReader, TextThatIsNotUtf8IsAnErrorOfItsRowNamingTheByte) {
  ReadResult r = ReadCsvText(
      TrainHeader() + "\n" + kFirstTrainRow + "\n" +
      RowText().Set("nomprov", "M\xC1LAGA").str() + "\n" + kFirstTrainRow +
      "\n");
  ASSERT_EQ(r.records.size(), 3u);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].ToString(),
            "line 3, column nomprov: not valid UTF-8 text (save the file as "
            "UTF-8; a byte shown as \\xHH is not UTF-8): \"M\\xC1LAGA\"");
  EXPECT_EQ(r.records[1].nomprov.state, FieldState::kInvalid);
  EXPECT_EQ(r.records[2].nomprov.value, "MALAGA");
}

// Issue 10 item 4: a line over the reader's 4 MiB limit stopped reading.
TEST(RawReader, LineOverTheLimitIsOneErrorAndTheNextRowsAreRead) {
  const std::string huge =
      RowText().Set("nomprov", std::string(5 << 20, 'A')).str();
  ReadResult r = ReadCsvText(TrainHeader() + "\n" + kFirstTrainRow + "\n" +
                             huge + "\n" + kFirstTrainRow + "\n");
  EXPECT_TRUE(r.status.ok()) << r.status;
  ASSERT_EQ(r.records.size(), 3u);
  EXPECT_EQ(r.records[1].line, 3);
  EXPECT_EQ(r.records[1].ncodpers.state, FieldState::kMissing);
  EXPECT_EQ(r.records[2].line, 4);
  EXPECT_EQ(r.records[2].ncodpers.value, 1375586);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].line, 3);
  EXPECT_THAT(r.errors[0].message,
              HasSubstr("line longer than 4194304 bytes"));
}

TEST(RawReader, TrimsTextFieldsButKeepsInnerSpaces) {
  RawRecord r =
      ReadOneTrainRow(RowText().Set("segmento", " 02 - PARTICULARES ").str());
  EXPECT_EQ(r.segmento.value, "02 - PARTICULARES");
}

TEST(RawReader, CustomerTypeFormsParseToCanonicalText) {
  EXPECT_EQ(ReadOneTrainRow(RowText().Set("indrel_1mes", "1.0").str())
                .indrel_1mes.value,
            "1");
  EXPECT_EQ(ReadOneTrainRow(RowText().Set("indrel_1mes", "2.0").str())
                .indrel_1mes.value,
            "2");
  EXPECT_EQ(ReadOneTrainRow(RowText().Set("indrel_1mes", "P").str())
                .indrel_1mes.value,
            "P");
  EXPECT_TRUE(ReadOneTrainRow(RowText().Set("indrel_1mes", "").str())
                  .indrel_1mes.missing());
}

TEST(RawReader, SeniorityMinus999999IsAValue) {
  RawRecord r = ReadOneTrainRow(RowText().Set("antiguedad", "-999999").str());
  EXPECT_EQ(r.antiguedad.value, -999999);
}

TEST(RawReader, ProductNaIsMissingNotOwned) {
  RawRecord r = ReadOneTrainRow(RowText().Set("ind_nomina_ult1", "NA").str());
  const ProductMask nomina = ProductBit(*FindProduct("ind_nomina_ult1"));
  EXPECT_EQ(r.products_missing, nomina);
  EXPECT_EQ(r.products & nomina, 0u);
  EXPECT_EQ(r.products_invalid, 0u);
}

TEST(RawReader, PaddedIncomeNaIsMissing) {
  RawRecord r = ReadOneTrainRow(RowText().Set("renta", "         NA").str());
  EXPECT_TRUE(r.renta.missing());
}

TEST(RawReader, NextOverwritesEveryFieldOfTheRecord) {
  const std::string empty_row =
      "2015-01-28,1050741,,,, NA,,NA,     "
      "NA,NA,,,,,,,,,NA,NA,\"\",NA,,,0,0,1,0,0,0,0,0,0,0,0,0,"
      "0,0,0,0,0,0,0,0,0, 0, 0,0";
  std::istringstream in(TrainHeader() + "\n" + kFirstTrainRow + "\n" +
                        empty_row + "\n");
  auto reader = RawReader::FromStream(&in, "in");
  ASSERT_TRUE(reader.ok()) << reader.status();
  RawRecord record;
  std::vector<RowError> errors;
  ASSERT_TRUE((*reader)->Next(&record, &errors));
  ASSERT_TRUE((*reader)->Next(&record, &errors));
  EXPECT_EQ(record.ncodpers.value, 1050741);
  EXPECT_TRUE(record.age.missing());
  EXPECT_TRUE(record.nomprov.missing());
  EXPECT_EQ(record.nomprov.value, "");
  EXPECT_TRUE(record.segmento.missing());
  EXPECT_TRUE(record.renta.missing());
  EXPECT_EQ(record.line, 3);
  EXPECT_FALSE((*reader)->Next(&record, &errors));
  EXPECT_TRUE((*reader)->status().ok());
}

TEST(RawReader, CountsBytesRead) {
  const std::string csv = TrainHeader() + "\n" + kFirstTrainRow + "\n";
  std::istringstream in(csv);
  auto reader = RawReader::FromStream(&in, "in");
  ASSERT_TRUE(reader.ok()) << reader.status();
  RawRecord record;
  std::vector<RowError> errors;
  ASSERT_TRUE((*reader)->Next(&record, &errors));
  EXPECT_EQ((*reader)->bytes_read(), static_cast<int64_t>(csv.size()));
}

TEST(ParseRawLine, ParsesOneRowGivenItsHeader) {
  std::vector<RowError> errors;
  absl::StatusOr<RawRecord> r =
      ParseRawLine(TestHeader(), kFirstTestRow, &errors);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(errors.empty());
  EXPECT_EQ(r->ncodpers.value, 15889);
  EXPECT_EQ(r->renta.value, 326124.9);
  EXPECT_EQ(r->line, 0);
}

TEST(ParseRawLine, ReportsFieldErrorsAsLineOne) {
  std::vector<RowError> errors;
  absl::StatusOr<RawRecord> r =
      ParseRawLine(TrainHeader(), RowText().Set("age", "3x").str(), &errors);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].ToString(), "line 1, column age: not an integer: \"3x\"");
  EXPECT_TRUE(r->age.invalid());
}

TEST(ParseRawLine, BadHeaderIsInvalidArgument) {
  std::vector<RowError> errors;
  EXPECT_EQ(ParseRawLine("a,b,c", "1,2,3", &errors).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ParseRawLine, EmptyLineIsInvalidArgument) {
  std::vector<RowError> errors;
  EXPECT_EQ(ParseRawLine(TestHeader(), "", &errors).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(RowError, ToStringNamesLineColumnMessageAndValue) {
  RowError e{17, "age", "3x", "not an integer"};
  EXPECT_EQ(e.ToString(), "line 17, column age: not an integer: \"3x\"");
  RowError row{4, "", "a,b", "expected 48 fields, found 2"};
  EXPECT_EQ(row.ToString(), "line 4: expected 48 fields, found 2: \"a,b\"");
}

}  // namespace
}  // namespace recsys
