// `recsys-data inspect`: a summary of raw Santander files and every row error.
//
//   InspectReport report;
//   RECSYS_RETURN_IF_ERROR(InspectFile("train_ver2.csv", &report));
//   PrintInspectReport(report, std::cout);
//   return report.errors.empty() ? 0 : 1;
#ifndef RECSYS_COMMON_INSPECT_H_
#define RECSYS_COMMON_INSPECT_H_

#include <cstdint>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/raw_reader.h"

namespace recsys {

struct InspectReport {
  std::string path;
  FileLayout layout = FileLayout::kTest;
  int64_t rows = 0;
  std::map<std::string, int64_t> rows_per_month;  // "2015-01-28" -> rows
  int64_t customers = 0;                          // distinct ncodpers
  // Per column (header order): how many rows had it missing / invalid.
  std::vector<std::string> columns;
  std::vector<int64_t> missing;
  std::vector<int64_t> invalid;
  std::vector<RowError> errors;  // every row error, in file order
  // Rows of a customer already seen in the same month (a Kaggle submission
  // has one line per customer; `recsys score` scores the first row and lists
  // the later ones as errors). Found within each run of rows of one month
  // (the files are in month order), so memory is one month's customers in an
  // absl::flat_hash_map<int64_t, int64_t>: 34 MiB measured for 950,000.
  struct Duplicate {
    int64_t line = 0;        // the later row
    int64_t first_line = 0;  // the customer's first row that month
    int64_t ncodpers = 0;
  };
  int64_t duplicate_rows = 0;
  std::vector<Duplicate> duplicates;  // the first kMaxDuplicatesListed
  static constexpr size_t kMaxDuplicatesListed = 100;
};

// Reads all of `path` into `*report`. Returns the error when the file cannot
// be opened or read, or its header is not a Santander header; row errors are
// not failures (they are in report->errors).
absl::Status InspectFile(const std::string& path, InspectReport* report);

// Prints a readable summary: rows, months, customers, per-column missing and
// invalid counts, every row error as "line N, column C: message: \"v\"",
// then the duplicate customers.
void PrintInspectReport(const InspectReport& report, std::ostream& out);

}  // namespace recsys

#endif  // RECSYS_COMMON_INSPECT_H_
