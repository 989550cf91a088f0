// Synthetic Santander data in the exact raw format of the Kaggle files.
//
// The real files cannot be downloaded here. GenerateDataset writes
//   DIR/train_ver2.csv  (17 monthly snapshots, 2015-01-28 .. 2016-05-28),
//   DIR/test_ver2.csv   (2016-06-28, the 24 demographic columns only),
//   DIR/test_truth.csv  (ncodpers,products owned in the test month and the
//                        products added versus 2016-05-28; Kaggle never
//                        published this, it lets a submission be scored),
// deterministically for a seed, streaming to disk.
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

namespace recsys {

struct GeneratorOptions {
  // Customers in the first month (later months add and lose some). Default
  // 20000; 950000 gives about the real size (13.6M train rows).
  int64_t customers = 20000;
  uint64_t seed = 1;  // Default 1.
  std::string out_dir = "data";  // Created if missing. Default "data".
  // Shift some feature distributions in the test month (age, renta,
  // canal_entrada, segmento) to exercise drift monitoring. Default false.
  bool drift = false;
};

// Writes the three files. Returns the I/O error if a file cannot be written.
absl::Status GenerateDataset(const GeneratorOptions& options);

}  // namespace recsys

#endif  // RECSYS_TRAINING_GENERATOR_H_
