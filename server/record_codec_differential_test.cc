// Train/serve parity of the field rules: a customer row means the same thing
// whether it arrives as a line of a raw file (RawRowParser, what training
// reads) or as a CustomerRecord over gRPC (DecodeCustomer, what the server
// scores).
//
// Each case is 24 cell texts. The file side parses them as a test_ver2.csv
// line; the gRPC side copies them into a CustomerRecord the way a caller that
// forwards a file's cells would: string fields verbatim, integer and double
// fields converted by this test (not by our client codec) from the cell text.
// The two must agree: the same error column, or the same cleaned record.
//
// The server refuses some values the files may hold (age 151, a negative
// renta, ncodpers 0: the API's documented ranges); for those the test
// requires that the file side's cleaning treats the value as missing too, so
// the model never sees a value online that it would not see offline.
#include <cmath>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "common/csv_tokenizer.h"
#include "common/field_parse.h"
#include "common/raw_columns.h"
#include "common/raw_reader.h"
#include "featurizer/cleaning.h"
#include "gtest/gtest.h"
#include "server/record_codec.h"

namespace recsys {
namespace {

using Cells = std::vector<std::string>;  // kNumDemographicColumns texts
using google::protobuf::FieldDescriptor;

const std::string& TestHeader() {
  static const std::string* const kHeader = [] {
    std::vector<absl::string_view> names;
    for (int c = 0; c < kNumDemographicColumns; ++c)
      names.push_back(RawColumnName(c));
    return new std::string(absl::StrJoin(names, ","));
  }();
  return *kHeader;
}

std::string CsvCell(const std::string& text) {
  if (text.find_first_of(",\"") == std::string::npos) return text;
  return absl::StrCat("\"", absl::StrReplaceAll(text, {{"\"", "\"\""}}), "\"");
}

std::string CsvLine(const Cells& cells) {
  std::vector<std::string> quoted;
  for (const std::string& cell : cells) quoted.push_back(CsvCell(cell));
  return absl::StrJoin(quoted, ",");
}

// What a caller that forwards file cells to a typed field sends: nothing for
// "", "NA" or blanks; otherwise the number the text spells. False when the
// text spells no number of the field's type (the caller could not send it).
bool CallerNumber(const std::string& text, bool* set, int64_t* i, double* d,
                  bool integer) {
  absl::string_view s = absl::StripAsciiWhitespace(text);
  *set = !(s.empty() || s == "NA");
  if (!*set) return true;
  if (s[0] == '+') return false;  // the files never write a plus sign
  if (!integer) return absl::SimpleAtod(s, d);
  // "35.0": the files write some integers with a zero fraction.
  const size_t dot = s.find('.');
  if (dot != absl::string_view::npos) {
    absl::string_view fraction = s.substr(dot + 1);
    if (fraction.empty() ||
        fraction.find_first_not_of('0') != absl::string_view::npos)
      return false;
    s = s.substr(0, dot);
  }
  return absl::SimpleAtoi(s, i);
}

// The CustomerRecord a caller builds from `cells`, field by field through
// protobuf reflection (no codec of ours). False when a numeric cell cannot be
// sent (see CallerNumber).
bool CallerMessage(const Cells& cells, v1::CustomerRecord* out) {
  const google::protobuf::Descriptor* d = out->GetDescriptor();
  const google::protobuf::Reflection* r = out->GetReflection();
  for (int c = 0; c < kNumDemographicColumns; ++c) {
    const FieldDescriptor* f =
        d->FindFieldByName(std::string(RawColumnName(c)));
    EXPECT_NE(f, nullptr) << RawColumnName(c);
    if (f == nullptr) return false;
    const std::string& text = cells[c];
    bool set = false;
    int64_t i = 0;
    double x = 0;
    switch (f->cpp_type()) {
      case FieldDescriptor::CPPTYPE_STRING:
        r->SetString(out, f, text);
        break;
      case FieldDescriptor::CPPTYPE_INT32:
        if (!CallerNumber(text, &set, &i, &x, true)) return false;
        if (i < INT32_MIN || i > INT32_MAX) return false;
        if (set) r->SetInt32(out, f, static_cast<int32_t>(i));
        break;
      case FieldDescriptor::CPPTYPE_INT64:
        if (!CallerNumber(text, &set, &i, &x, true)) return false;
        if (set) r->SetInt64(out, f, i);
        break;
      case FieldDescriptor::CPPTYPE_DOUBLE:
        if (!CallerNumber(text, &set, &i, &x, false)) return false;
        if (set) r->SetDouble(out, f, x);
        break;
      default:
        ADD_FAILURE() << "unexpected field type of " << f->name();
        return false;
    }
  }
  return true;
}

// A cleaned number or category as text, for comparison ("NaN(reason)" when
// not a value).
std::string Show(const Cleaned& c) {
  if (!c.ok())
    return absl::StrCat("not a value (", static_cast<int>(c.outcome), ")");
  return absl::StrCat(c.value);
}
std::string Show(const CleanedText& c) {
  if (!c.ok())
    return absl::StrCat("not a value (", static_cast<int>(c.outcome), ")");
  return absl::StrCat("\"", c.text, "\"");
}

// What the featurizer makes of `r`, column by column: the field state, the
// cleaned value, and the date features.
std::map<std::string, std::string> CleanedView(const RawRecord& r) {
  std::map<std::string, std::string> view;
  for (int c = 0; c < kNumDemographicColumns; ++c) {
    std::string& v = view[std::string(RawColumnName(c))];
    v = absl::StrCat("state ", static_cast<int>(RawColumnState(r, c)));
    if (IsNumericColumn(c)) absl::StrAppend(&v, ", ", Show(CleanNumeric(r, c)));
    if (IsCategoricalColumn(c))
      absl::StrAppend(&v, ", ", Show(CleanCategorical(r, c)));
  }
  for (int f = 0; f < kNumDateFeatures; ++f) {
    const auto feature = static_cast<DateFeature>(f);
    view[std::string(DateFeatureName(feature))] =
        Show(CleanDateFeature(r, feature));
  }
  for (const auto& [name, field] :
       {std::pair{"fecha_dato", &r.fecha_dato},
        std::pair{"fecha_alta", &r.fecha_alta},
        std::pair{"ult_fec_cli_1t", &r.ult_fec_cli_1t}}) {
    if (field->present())
      absl::StrAppend(&view[name], ", ", field->value.ToString());
  }
  const std::optional<uint32_t> id = CleanCustomerId(r.ncodpers);
  absl::StrAppend(&view["ncodpers"], ", id ", id ? absl::StrCat(*id) : "none");
  return view;
}

// Outcome counts, so that a test can check it covered what it meant to.
struct Tally {
  int same_record = 0;
  int same_error = 0;
  int refused_non_value = 0;  // the API refuses what cleaning drops anyway
  int not_sendable = 0;       // a numeric text a typed field cannot carry
  std::vector<std::string> failures;
};

// Sends `cells` both ways and records whether they agree.
void Compare(const Cells& cells, Tally* tally) {
  v1::CustomerRecord message;
  if (!CallerMessage(cells, &message)) {
    ++tally->not_sendable;
    return;
  }
  std::vector<RowError> row_errors;
  absl::StatusOr<RawRecord> file =
      ParseRawLine(TestHeader(), CsvLine(cells), &row_errors);
  ASSERT_TRUE(file.ok()) << file.status();
  // The first column whose text the file side refuses. A missing fecha_dato
  // is a file-only rule (a request without one is scored for the model's next
  // month); a missing ncodpers is refused by both.
  int file_error = -1;
  for (const RowError& e : row_errors) {
    std::optional<int> column = FindRawColumn(e.column);
    ASSERT_TRUE(column.has_value()) << e.ToString();
    if (*column == kFechaDato && file->fecha_dato.missing()) continue;
    if (file_error < 0 || *column < file_error) file_error = *column;
  }
  absl::StatusOr<RawRecord> served = DecodeCustomer(message);
  const std::string line = CsvLine(cells);
  auto fail = [&](const std::string& what) {
    tally->failures.push_back(absl::StrCat(what, "\n    line: ", line));
  };
  if (!served.ok()) {
    const std::string path = FieldPathOf(served.status());
    std::optional<int> column =
        FindRawColumn(absl::StripPrefix(path, "customer."));
    if (!column)
      return fail(
          absl::StrCat("error without a column: ", served.status().ToString()));
    if (*column == file_error) {
      ++tally->same_error;
      return;
    }
    // Refused over gRPC but not (or later) in the file: only acceptable for a
    // value the file side parses and cleaning turns into "not a value".
    const bool file_parsed = file_error < 0 || *column < file_error;
    const bool cleaned_away =
        file_parsed && RawColumnState(*file, *column) == FieldState::kPresent &&
        ColumnOutcome(*file, *column) != CleanOutcome::kValue;
    const bool ncodpers_not_positive =
        *column == kNcodpers && file_parsed && file->ncodpers.present() &&
        file->ncodpers.value <= 0;  // the API's customer key must be positive
    if (cleaned_away || ncodpers_not_positive) {
      ++tally->refused_non_value;
      return;
    }
    return fail(absl::StrCat(
        "gRPC refuses ", path, " (", served.status().message(),
        ") but the file ",
        file_error < 0
            ? "accepts the row"
            : absl::StrCat("refuses column ", RawColumnName(file_error))));
  }
  if (file_error >= 0) {
    return fail(absl::StrCat("the file refuses ", RawColumnName(file_error),
                             " (\"", cells[file_error],
                             "\") but gRPC accepts it"));
  }
  const auto want = CleanedView(*file);
  const auto got = CleanedView(*served);
  if (want != got) {
    std::string diff;
    for (const auto& [name, text] : want) {
      if (got.at(name) != text)
        absl::StrAppend(&diff, " ", name, ": file {", text, "} gRPC {",
                        got.at(name), "}");
    }
    return fail(absl::StrCat("different cleaned records:", diff));
  }
  ++tally->same_record;
}

void ExpectNoFailures(const Tally& tally) {
  constexpr size_t kShown = 25;
  for (size_t i = 0; i < tally.failures.size() && i < kShown; ++i)
    ADD_FAILURE() << tally.failures[i];
  EXPECT_EQ(tally.failures.size(), 0u)
      << "cases where a file row and a gRPC record differ (first " << kShown
      << " shown above)";
}

// Every distinct text of every demographic column in the real rows.
std::vector<std::set<std::string>> RealValues() {
  std::vector<std::set<std::string>> values(kNumDemographicColumns);
  for (const char* path :
       {RECSYS_SHARED_DIR "/data/real/train_ver2_first999.csv",
        RECSYS_SHARED_DIR "/data/real/test_ver2_first38171_excel.csv"}) {
    absl::StatusOr<std::unique_ptr<FileByteSource>> source =
        FileByteSource::Open(path);
    if (!source.ok()) continue;
    CsvTokenizer tokenizer(std::move(*source));
    CsvRecord record;
    std::vector<int> column_of;
    while (tokenizer.Next(&record)) {
      if (column_of.empty()) {
        for (absl::string_view name : record.fields)
          column_of.push_back(FindRawColumn(TrimSpaces(name)).value_or(-1));
        continue;
      }
      for (size_t i = 0; i < record.fields.size() && i < column_of.size();
           ++i) {
        if (column_of[i] >= 0 && column_of[i] < kNumDemographicColumns)
          values[column_of[i]].emplace(record.fields[i]);
      }
    }
  }
  return values;
}

// The first row of the real test file (spreadsheet spelling).
Cells BaseRow() {
  return {"6/28/2016", "15889", "F",      "ES", "V",        "56",
          "1/16/1995", "0",     "256",    "1",  "",         "1",
          "A",         "S",     "N",      "N",  "KAT",      "N",
          "1",         "28",    "MADRID", "1",  "326124.9", "01 - TOP"};
}

// Odd and invalid texts per kind of column: padding, the files' missing
// markers, spreadsheet spellings, and texts that are not values.
std::vector<std::string> OddTexts(int column) {
  std::vector<std::string> common = {"", " ", "NA", "  NA", " NA ", "\t"};
  std::vector<std::string> more;
  switch (column) {
    case kFechaDato:
    case kFechaAlta:
    case kUltFecCli1t:
      more = {"2015-01-28", " 2015-01-28 ",     "1/28/2015",
              " 1/28/2015", "12/31/2015",       "2016-02-29",
              "2015-02-29", "2015-02-30",       "2015-13-01",
              "13/1/2015",  "2015-1-28",        "28/01/2015",
              "1/28/15",    "2015-01-28T00:00", "last june",
              "1899-12-31", "2101-01-01",       "na",
              "N/A",        "0/0/2015"};
      break;
    case kIndrel1mes:
      more = {"1",     "2",     "3",   "4",  "P",   "1.0", "1.00", "2.000",
              " 3.0 ", "4.0",   " P ", "p",  "5",   "0",   "1.5",  "1.",
              "01",    "1.0.0", "-1",  "+1", "P.0", "na",  "NaN"};
      break;
    case kNcodpers:
    case kAge:
    case kIndNuevo:
    case kAntiguedad:
    case kIndrel:
    case kTipodom:
    case kCodProv:
    case kIndActividadCliente:
      more = {"0",   "1",    " 1",   "1.0",     " 1.00", "2",          "99",
              " 35", "35.0", "-1",   "-999999", "120",   "121",        "150",
              "151", "1200", "1201", "52",      "53",    "2147483647", "3x",
              "1.5", "+3",   "0x10", "1e2"};
      break;
    case kRenta:
      more = {"87218.1",     "122179.11000000002",
              " 1202.73",    "1202.73 ",
              "         NA", "0",
              "0.0",         "-5",
              "-0.0",        "1e5",
              "1E5",         ".5",
              "inf",         "nan",
              "12,5",        "1e",
              "28894395.51"};
      break;
    default:  // categorical text
      more = {"ES",
              " ES",
              "ES ",
              "N",
              "S",
              "X",
              "na",
              "Na",
              "N A",
              "NA NA",
              "CORUÑA, A",
              "\"QUOTED\"",
              "02 - PARTICULARES",
              " 02 - PARTICULARES ",
              "M\xE1LAGA",
              "\xC3",
              "1.0",
              "0"};
      break;
  }
  common.insert(common.end(), more.begin(), more.end());
  return common;
}

TEST(RecordCodecDifferentialTest,
     EveryRealValueMeansTheSameInAFileAndOverGrpc) {
  const std::vector<std::set<std::string>> real = RealValues();
  if (real[kAge].empty()) GTEST_SKIP() << "no real rows in " RECSYS_SHARED_DIR;
  Tally tally;
  int cases = 0;
  for (int c = 0; c < kNumDemographicColumns; ++c) {
    for (const std::string& text : real[c]) {
      Cells cells = BaseRow();
      cells[c] = text;
      Compare(cells, &tally);
      ++cases;
    }
  }
  ExpectNoFailures(tally);
  EXPECT_GT(cases, 40000);  // ncodpers and renta alone are nearly all unique
  EXPECT_GT(tally.same_record, cases * 9 / 10);
}

TEST(RecordCodecDifferentialTest,
     OddAndInvalidTextsMeanTheSameInAFileAndOverGrpc) {
  Tally tally;
  for (int c = 0; c < kNumDemographicColumns; ++c) {
    for (const std::string& text : OddTexts(c)) {
      Cells cells = BaseRow();
      cells[c] = text;
      Compare(cells, &tally);
    }
  }
  ExpectNoFailures(tally);
  EXPECT_GT(tally.same_record, 200);
  EXPECT_GT(tally.same_error, 40);
  EXPECT_GT(tally.refused_non_value, 10);
}

TEST(RecordCodecDifferentialTest, RandomRowsMeanTheSameInAFileAndOverGrpc) {
  const std::vector<std::set<std::string>> real = RealValues();
  std::vector<std::vector<std::string>> pool(kNumDemographicColumns);
  for (int c = 0; c < kNumDemographicColumns; ++c) {
    pool[c] = OddTexts(c);
    // A sample of the real texts (all of them for the small columns).
    int taken = 0;
    for (const std::string& text : real[c]) {
      if (++taken > 300) break;
      pool[c].push_back(text);
    }
  }
  std::mt19937 rng(20260611);
  Tally tally;
  for (int row = 0; row < 20000; ++row) {
    Cells cells = BaseRow();
    for (int c = 0; c < kNumDemographicColumns; ++c) {
      // Mostly the base row's value, so that errors do not hide each other.
      if (rng() % 4 != 0) continue;
      cells[c] = pool[c][rng() % pool[c].size()];
    }
    Compare(cells, &tally);
  }
  ExpectNoFailures(tally);
  EXPECT_GT(tally.same_record, 1000);
  EXPECT_GT(tally.same_error, 1000);
}

TEST(RecordCodecDifferentialTest, IntegerRangesMeanTheSameInAFileAndOverGrpc) {
  Tally tally;
  for (int c : {kNcodpers, kAge, kIndNuevo, kAntiguedad, kIndrel, kTipodom,
                kCodProv, kIndActividadCliente}) {
    for (int64_t v = -1300; v <= 1300; ++v) {
      Cells cells = BaseRow();
      cells[c] = absl::StrCat(v);
      Compare(cells, &tally);
    }
  }
  ExpectNoFailures(tally);
  EXPECT_GT(tally.refused_non_value, 1000);
}

}  // namespace
}  // namespace recsys
