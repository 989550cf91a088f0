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
};

// Reads all of `path` into `*report`. Returns the error when the file cannot
// be opened or read, or its header is not a Santander header; row errors are
// not failures (they are in report->errors).
absl::Status InspectFile(const std::string& path, InspectReport* report);

// Prints a readable summary: rows, months, customers, per-column missing and
// invalid counts, then every row error as "line N, column C: message: \"v\"".
void PrintInspectReport(const InspectReport& report, std::ostream& out);

}  // namespace recsys

#endif  // RECSYS_COMMON_INSPECT_H_
