// Test helpers for the synthetic data: raw field texts, their textual
// "shapes", and generated files read back through RawReader.
#ifndef RECSYS_TRAINING_GEN_TEST_UTIL_H_
#define RECSYS_TRAINING_GEN_TEST_UTIL_H_

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "common/raw_reader.h"
#include "common/raw_record.h"

namespace recsys::gen::testing {

// The raw texts of the fields of one CSV line, quotes kept
// ("\"CORUÑA, A\"" stays one field with its quotes).
std::vector<std::string> SplitRawFields(absl::string_view line);

// The textual shape of a raw field: digits become '9', letters (and UTF-8
// bytes) 'A', other characters stay; in the variable-length columns
// (ncodpers, renta and the text columns) runs of '9' or 'A' shrink to one.
// So age " 35" -> " 99", "  8" -> "  9", " NA" -> " AA"; renta
// "122179.11000000002" -> "9.9"; nomprov "\"CORUÑA, A\"" -> "\"A, A\"".
std::string ShapeOf(absl::string_view column, absl::string_view text);

// For each column (by header name) of the CSV file at `path`, the shapes of
// its data fields. Empty when the file cannot be read.
std::map<std::string, std::set<std::string>> ColumnShapes(
    const std::string& path);

// The whole file, or "" when it cannot be read.
std::string ReadFileBytes(const std::string& path);

// Every record of a raw file and how many row errors it had.
struct ReadBack {
  absl::Status status;  // open or I/O error
  FileLayout layout = FileLayout::kTest;
  std::vector<RawRecord> records;
  std::vector<RowError> errors;
};
ReadBack ReadRawFile(const std::string& path);

// A train file as products per month (0 = 2015-01-28) and customer.
using MonthlyProducts = std::map<int, std::map<int64_t, ProductMask>>;
MonthlyProducts ProductsByMonth(const std::vector<RawRecord>& train);

// test_truth.csv rows in file order.
struct TruthRow {
  int64_t ncodpers = 0;
  ProductMask added = 0;
  ProductMask owned = 0;
};
std::vector<TruthRow> ReadTruth(const std::string& path);

// Month indices (0 = 2015-01-28) and product indices the tests refer to.
inline constexpr int kJune2015 = 5;
inline constexpr int kJuly2015 = 6;  // a wave of existing customers appears
inline constexpr int kLastTrainMonth = 16;
inline constexpr int kCtju = 5, kReca = 17, kNomina = 21;

inline constexpr char kRealTrain[] =
    RECSYS_SHARED_DIR "/data/real/train_ver2_first999.csv";
inline constexpr char kRealTest[] =
    RECSYS_SHARED_DIR "/data/real/test_ver2_first38171_excel.csv";

// Customers in every generated test data set.
inline constexpr int64_t kTestCustomers = 4000;

// The directory of a data set of kTestCustomers customers, generated on first
// use under the test temp directory and removed when the test binary exits.
// REQUIRES: the same seed and drift for every call with the same name.
std::string GeneratedDir(const std::string& name, uint64_t seed, bool drift);

// "dir/file".
std::string PathIn(absl::string_view dir, absl::string_view file);

// The seed-1 data set, generated once and read back through RawReader.
struct GeneratedData {
  std::string dir;
  ReadBack train;
  ReadBack test;
  MonthlyProducts months;
};
const GeneratedData& SeedOneData();

// Customers present in both `month` - 1 and `month`, and how many of them
// added `product` (any product when -1).
struct Additions {
  int64_t customers = 0;
  int64_t adding = 0;
  double rate() const {
    return customers ? static_cast<double>(adding) / customers : 0;
  }
};
Additions CountAdditions(const MonthlyProducts& months, int month,
                         int product = -1);

}  // namespace recsys::gen::testing

#endif  // RECSYS_TRAINING_GEN_TEST_UTIL_H_
