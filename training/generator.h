// Synthetic Santander data in the exact raw format of the Kaggle files.
//
// The real files cannot be downloaded here. GenerateDataset writes
//   DIR/train_ver2.csv  (17 monthly snapshots, 2015-01-28 .. 2016-05-28),
//   DIR/test_ver2.csv   (2016-06-28, the 24 demographic columns only),
//   DIR/test_truth.csv  (header ncodpers,added_products,owned_products; per
//                        test customer the products added versus 2016-05-28
//                        (all owned ones when absent then) and the products
//                        owned, column names separated by spaces; Kaggle
//                        never published this, it lets a submission be scored),
// and with options.extra_months = N also the N months from the test month on
// in the train layout, with products, one file each:
//   DIR/train_2016-06.csv  (the test month's rows -- the same customers and
//                           demographic values as test_ver2.csv -- and the
//                           products they own: what the bank's next extract
//                           says; the products added versus train_ver2.csv's
//                           2016-05 are exactly test_truth.csv's),
//   DIR/train_2016-07.csv ... (the months after: the customers of the test
//                           month stay, nobody joins or leaves, products
//                           keep evolving by the same dynamics),
// so that the monthly cycle can ingest each month's actual records. Extra
// months never write "NA" products. train_ver2.csv, test_ver2.csv and
// test_truth.csv are the same bytes whatever extra_months is.
// Everything is deterministic for a seed (the same options give the same bytes),
// streaming to disk. The format, value sets and product dynamics are
// described in gen_customer.h and gen_products.h; the text form of a row in
// raw_writer.h.
//
// --drift (options.drift) changes only the test month's rows, and only these
// columns, each for an independent share of customers: age (redrawn in 65..90
// for 35%), renta (x5 for 40% of those with one), canal_entrada ("KHO", otherwise
// rare, for 30%), segmento ("02 - PARTICULARES" becomes "01 - TOP" for 30%).
// train_ver2.csv and test_truth.csv are identical with and without drift.
//
//   GeneratorOptions options;
//   options.customers = 20000;
//   options.out_dir = "data";
//   RECSYS_RETURN_IF_ERROR(GenerateDataset(options));
#ifndef RECSYS_TRAINING_GENERATOR_H_
#define RECSYS_TRAINING_GENERATOR_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "common/progress.h"

namespace recsys {

inline constexpr absl::string_view kTrainFileName = "train_ver2.csv";
inline constexpr absl::string_view kTestFileName = "test_ver2.csv";
inline constexpr absl::string_view kTruthFileName = "test_truth.csv";
inline constexpr int64_t kMaxGeneratedCustomers = 20'000'000;

struct GeneratorOptions {
  // Distinct customers over all 18 months, 1..kMaxGeneratedCustomers. About
  // 65% are in the first month; others join later (most in July 2015, as in
  // the real file), a few leave. Default 20000; 950000 gives about the real
  // size (13.6M train rows, 0.93M test rows).
  int64_t customers = 20000;
  uint64_t seed = 1;             // Default 1.
  std::string out_dir = "data";  // Created if missing. Default "data".
  // Shift some feature distributions in the test month (age, renta,
  // canal_entrada, segmento) to exercise drift monitoring. Default false.
  bool drift = false;
  // The generation as the progress phase "generate" (customer-months done
  // of customers x 18). Borrowed. Default none.
  Progress* progress = nullptr;
  // Months from the test month on also written in the train layout (see
  // above), 0..kMaxExtraMonths. Default 0.
  int extra_months = 0;
};

inline constexpr int kMaxExtraMonths = 12;

// "train_2016-06.csv": the file of extra month `month_index`
// (Date::MonthIndex).
std::string ExtraMonthFileName(int month_index);

// What GenerateDataset wrote.
struct GeneratorSummary {
  int64_t train_rows = 0;  // data rows of train_ver2.csv
  int64_t test_rows = 0;   // data rows of test_ver2.csv (= of test_truth.csv)
  int64_t test_customers_adding = 0;  // test customers with an added product
  int64_t extra_rows = 0;  // data rows of the extra months' files, together
};

// Writes the files, replacing existing ones, and fills `*summary`
// when it is not null. Returns INVALID_ARGUMENT
// for bad options, PERMISSION_DENIED when the directory or a file cannot be
// created, DATA_LOSS when writing fails.
absl::Status GenerateDataset(const GeneratorOptions& options,
                             GeneratorSummary* summary = nullptr);

}  // namespace recsys

#endif  // RECSYS_TRAINING_GENERATOR_H_
