// Helpers shared by the records tests: temporary folders, small raw files
// made from the real rows, and a digest of a database's whole contents.
#ifndef RECSYS_RECORDS_RECORDS_TEST_UTIL_H_
#define RECSYS_RECORDS_RECORDS_TEST_UTIL_H_

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "common/fnv.h"
#include "gtest/gtest.h"
#include "records/records_db.h"

namespace recsys::testing {

inline const std::string kRealTrain =
    RECSYS_SHARED_DIR "/data/real/train_ver2_first999.csv";
inline const std::string kRealTest =
    RECSYS_SHARED_DIR "/data/real/test_ver2_first38171_excel.csv";

// A fresh folder under the test's temporary directory, removed at the end.
class TempDir {
 public:
  TempDir() {
    std::string pattern = ::testing::TempDir() + "records_test_XXXXXX";
    path_ = mkdtemp(pattern.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string File(absl::string_view name) const {
    return absl::StrCat(path_, "/", name);
  }

 private:
  std::string path_;
};

inline std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

inline void WriteText(const std::string& path, absl::string_view text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

// The real train excerpt's header line and its 999 data lines.
inline std::vector<std::string> RealTrainLines() {
  std::vector<std::string> lines =
      absl::StrSplit(ReadText(kRealTrain), '\n', absl::SkipEmpty());
  return lines;
}

// Writes a train-layout file: the real header, then `lines` (data lines).
inline void WriteTrainFile(const std::string& path,
                           const std::vector<std::string>& lines) {
  std::string text = RealTrainLines()[0] + "\n";
  for (const std::string& line : lines) text += line + "\n";
  WriteText(path, text);
}

// `lines` (data lines of 2015-01-28) moved to `date` ("2015-02-28").
inline std::vector<std::string> InMonth(std::vector<std::string> lines,
                                        absl::string_view date) {
  for (std::string& l : lines) l = absl::StrReplaceAll(l, {{"2015-01-28,", std::string(date) + ","}});
  return lines;
}

// A digest of every row of every table except `files` (which logs each
// ingest): equal digests mean equal contents.
inline uint64_t ContentDigest(RecordsDb* db) {
  uint64_t hash = kFnv1a64Offset;
  for (const char* sql :
       {"SELECT * FROM records ORDER BY id",
        "SELECT month, month_index, layout, rows, customers, products_added, "
        "rows_refused, rows_with_field_errors FROM months ORDER BY month",
        "SELECT * FROM row_errors ORDER BY month, line, column_name, reason"}) {
    auto query = db->sqlite()->Prepare(sql);
    EXPECT_TRUE(query.ok()) << query.status();
    if (!query.ok()) return 0;
    const int columns = query->ColumnCount();
    while (*query->Step()) {
      for (int c = 0; c < columns; ++c) {
        hash = Fnv1a64(query->ColumnIsNull(c) ? "\x01NULL" : query->ColumnText(c), hash);
        hash = Fnv1a64("\x1f", hash);
      }
    }
  }
  return hash;
}

}  // namespace recsys::testing

#endif  // RECSYS_RECORDS_RECORDS_TEST_UTIL_H_
