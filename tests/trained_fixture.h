// Test fixtures with a real model: synthetic Santander files
// (training/generator.h) and a bundle trained on them by the real pipeline
// (training/trainer.h), made once and reused.
//
//   absl::StatusOr<TrainedFixture> fixture = GetTrainedFixture();
//   ASSERT_TRUE(fixture.ok()) << fixture.status();
//   std::string store = NewTempDir("store");
//   ASSERT_TRUE(InstallBundle(fixture->bundle_dir, store, "santander",
//   1).ok());
//
// Making the fixture takes seconds (3000 customers, a few boosting rounds on
// 2 threads). ctest runs each TEST as its own process, and several test
// binaries use it, so the result is cached on disk under the build tree,
// keyed by the options and by the size and modification time of the
// libraries that make it (rebuilding the generator, featurizer, trainer or
// bundle code makes a new one); a file lock lets concurrent test processes
// make it once. The cached files are read-only by convention: copy the
// bundle with InstallBundle.
//
// RECSYS_FIXTURE_LOG=1 in the environment prints the training log.
//
// Thread-compatible; GetTrainedFixture is safe to call from one thread at a
// time per process.
#ifndef RECSYS_TESTS_TRAINED_FIXTURE_H_
#define RECSYS_TESTS_TRAINED_FIXTURE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/raw_record.h"
#include "model_store/model_version.h"
#include "nlohmann/json.hpp"

namespace recsys::testing {

struct FixtureOptions {
  // Distinct synthetic customers. Default 3000.
  int64_t customers = 3000;
  // Generator and training seed. Default 1.
  uint64_t seed = 1;
  // Boosting rounds (upper bound; early stopping may use fewer). Default 8.
  int max_rounds = 8;
};

struct TrainedFixture {
  std::string data_dir;   // holds the three files below
  std::string train_csv;  // train_ver2.csv: 17 months, 2015-01-28 .. 2016-05-28
  std::string test_csv;   // test_ver2.csv: 2016-06-28, demographics only
  std::string truth_csv;  // test_truth.csv
  std::string bundle_dir;  // the trained bundle (version 1 of "santander")
  // Another model on the same data (other seed, shallower trees): different
  // scores, same feature spec.
  std::string alt_bundle_dir;
  std::string model_name;  // "santander"
};

// The fixture for `options`, made on first use (see the file comment).
absl::StatusOr<TrainedFixture> GetTrainedFixture(
    const FixtureOptions& options = {});

// A new empty directory under $TEST_TMPDIR / $TMPDIR / /tmp whose name starts
// with `prefix`. Aborts the test program when it cannot be made.
std::string NewTempDir(absl::string_view prefix);

// Copies the bundle in `bundle_dir` into <store_dir>/<model>/<version>/, with
// the manifest's version rewritten and then `edit` applied to the manifest
// JSON (may be empty). The copy is staged beside the versions and renamed
// into place, so a watching store never sees half a bundle. Returns the new
// bundle directory; INTERNAL on I/O errors, ALREADY_EXISTS when the version
// exists.
absl::StatusOr<std::string> InstallBundle(
    const std::string& bundle_dir, const std::string& store_dir,
    const std::string& model, int64_t version,
    const std::function<void(nlohmann::json*)>& edit = nullptr);

// Same, but `mutate_dir` may change the staged copy's files (e.g. truncate
// model.ubj) before it is renamed into place.
absl::StatusOr<std::string> InstallBundleWith(
    const std::string& bundle_dir, const std::string& store_dir,
    const std::string& model, int64_t version,
    const std::function<void(nlohmann::json*)>& edit,
    const std::function<absl::Status(const std::string& staged_dir)>&
        mutate_dir);

// Installs the fixture's bundle as version 1 of its model in `store_dir` and
// loads it as the server does (LoadModelVersion): the model most tests score
// with.
absl::StatusOr<std::shared_ptr<const ModelVersion>> InstallAndLoadBundle(
    const TrainedFixture& fixture, const std::string& store_dir);

// The clean rows of the raw file `path` (rows the reader reports no error
// for) that `keep` accepts (all when empty), at most `limit`; the reader's
// error when the file cannot be opened or read.
absl::StatusOr<std::vector<RawRecord>> ReadCleanRecords(
    const std::string& path, size_t limit,
    const std::function<bool(const RawRecord&)>& keep = nullptr);

}  // namespace recsys::testing

#endif  // RECSYS_TESTS_TRAINED_FIXTURE_H_
