#include "tests/trained_fixture.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/file_util.h"
#include "common/raw_reader.h"
#include "common/status_macros.h"
#include "model_store/bundle.h"
#include "training/generator.h"
#include "training/trainer.h"

namespace recsys::testing {
namespace {

namespace fs = std::filesystem;

// Identifies the code that makes the fixture: the generator, featurizer,
// trainer and bundle writer live in these static libraries (paths from the
// build), so any rebuild of them changes a size or a modification time; and
// the feature spec it trains with.
std::string CodeStamp() {
  uint64_t h = 14695981039346656037ull;
  auto mix = [&h](uint64_t v) {
    for (int i = 0; i < 8; ++i) {
      h ^= (v >> (8 * i)) & 0xff;
      h *= 1099511628211ull;
    }
  };
  for (const char* path :
       {RECSYS_FIXTURE_LIB1, RECSYS_FIXTURE_LIB2, RECSYS_FIXTURE_LIB3,
        RECSYS_FIXTURE_LIB4, RECSYS_FIXTURE_LIB5,
        RECSYS_SOURCE_DIR "/config/feature_spec.json"}) {
    struct stat st {};
    if (::stat(path, &st) != 0) continue;
    mix(static_cast<uint64_t>(st.st_size));
    mix(static_cast<uint64_t>(st.st_mtim.tv_sec));
    mix(static_cast<uint64_t>(st.st_mtim.tv_nsec));
  }
  return absl::StrCat(absl::Hex(h, absl::kZeroPad16));
}

absl::Status Make(const FixtureOptions& options, const std::string& dir) {
  GeneratorOptions gen;
  gen.customers = options.customers;
  gen.seed = options.seed;
  gen.out_dir = absl::StrCat(dir, "/data");
  RECSYS_RETURN_IF_ERROR(GenerateDataset(gen));

  TrainRunOptions train;
  train.train_csv = absl::StrCat(gen.out_dir, "/", kTrainFileName);
  train.store_dir = absl::StrCat(dir, "/store");
  train.config.feature_spec = RECSYS_SOURCE_DIR "/config/feature_spec.json";
  train.config.max_rounds = options.max_rounds;
  train.config.early_stopping_rounds = options.max_rounds;
  train.config.retrain_on_all = false;
  train.config.reference_sample = 2000;
  train.config.golden_rows = 8;
  train.config.nthread = 1;  // OpenMP spinning stalls on a busy 2-core machine
  train.config.seed = options.seed;
  train.config.xgboost["seed"] = absl::StrCat(options.seed);
  if (std::getenv("RECSYS_FIXTURE_LOG") != nullptr) {
    train.log = [](const std::string& line) {
      std::fprintf(stderr, "fixture: %s\n", line.c_str());
    };
  }
  RECSYS_ASSIGN_OR_RETURN(TrainRunResult result, RunTraining(train));
  if (result.version != 1) {
    return absl::InternalError(
        absl::StrCat("expected version 1, got ", result.version));
  }
  train.store_dir = absl::StrCat(dir, "/alt_store");
  train.config.max_rounds = std::max(2, options.max_rounds / 2);
  train.config.early_stopping_rounds = train.config.max_rounds;
  train.config.xgboost["max_depth"] =
      absl::StrCat(4);  // (GCC 12 -Wrestrict on = "4")
  train.config.xgboost["seed"] = absl::StrCat(options.seed + 1);
  train.config.seed = options.seed + 1;
  RECSYS_ASSIGN_OR_RETURN(TrainRunResult alt, RunTraining(train));
  if (alt.version != 1) {
    return absl::InternalError(
        absl::StrCat("expected version 1, got ", alt.version));
  }
  return absl::OkStatus();
}

absl::Status CopyDir(const std::string& from, const std::string& to) {
  std::error_code ec;
  fs::copy(from, to, fs::copy_options::recursive, ec);
  if (ec)
    return absl::InternalError(
        absl::StrCat("copy ", from, " -> ", to, ": ", ec.message()));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<TrainedFixture> GetTrainedFixture(
    const FixtureOptions& options) {
  const std::string root = RECSYS_BIN_DIR "/../test_fixtures";
  std::error_code ec;
  fs::create_directories(root, ec);
  if (ec)
    return absl::InternalError(
        absl::StrCat("cannot create ", root, ": ", ec.message()));
  const std::string stamp = absl::StrCat("fixture-", CodeStamp());
  const std::string key = absl::StrCat(stamp, "-c", options.customers, "-s",
                                       options.seed, "-r", options.max_rounds);
  const std::string dir = absl::StrCat(root, "/", key);

  TrainedFixture fixture;
  fixture.data_dir = absl::StrCat(dir, "/data");
  fixture.train_csv = absl::StrCat(fixture.data_dir, "/", kTrainFileName);
  fixture.test_csv = absl::StrCat(fixture.data_dir, "/", kTestFileName);
  fixture.truth_csv = absl::StrCat(fixture.data_dir, "/", kTruthFileName);
  fixture.model_name = "santander";
  fixture.bundle_dir = absl::StrCat(dir, "/store/santander/1");
  fixture.alt_bundle_dir = absl::StrCat(dir, "/alt_store/santander/1");

  // One process makes it; the others wait on the lock, then find it done.
  const std::string lock_path = absl::StrCat(root, "/", key, ".lock");
  const int lock_fd =
      ::open(lock_path.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644);
  if (lock_fd < 0)
    return absl::InternalError(absl::StrCat("cannot open ", lock_path));
  ::flock(lock_fd, LOCK_EX);
  absl::Status status;
  if (!fs::exists(absl::StrCat(dir, "/DONE"))) {
    const std::string staging = absl::StrCat(dir, ".staging");
    fs::remove_all(staging, ec);
    fs::remove_all(dir, ec);
    fs::create_directories(staging, ec);
    status = Make(options, staging);
    if (status.ok())
      status = WriteFileDurably(absl::StrCat(staging, "/DONE"), "ok\n");
    if (status.ok()) {
      fs::rename(staging, dir, ec);
      if (ec)
        status = absl::InternalError(
            absl::StrCat("rename to ", dir, ": ", ec.message()));
    }
    if (status.ok()) {
      // Drop fixtures made by older builds.
      for (const auto& entry : fs::directory_iterator(root, ec)) {
        const std::string name = entry.path().filename().string();
        if (name.rfind("fixture-", 0) == 0 && name.rfind(stamp, 0) != 0) {
          fs::remove_all(entry.path(), ec);
        }
      }
    }
  }
  ::flock(lock_fd, LOCK_UN);
  ::close(lock_fd);
  RECSYS_RETURN_IF_ERROR(status);
  return fixture;
}

std::string NewTempDir(absl::string_view prefix) {
  const char* base = std::getenv("TEST_TMPDIR");
  if (base == nullptr || *base == '\0') base = std::getenv("TMPDIR");
  if (base == nullptr || *base == '\0') base = "/tmp";
  std::string pattern = absl::StrCat(base, "/", prefix, "-XXXXXX");
  if (::mkdtemp(pattern.data()) == nullptr) {
    std::fprintf(stderr, "cannot create a temporary directory %s\n",
                 pattern.c_str());
    std::abort();
  }
  return pattern;
}

absl::StatusOr<std::string> InstallBundleWith(
    const std::string& bundle_dir, const std::string& store_dir,
    const std::string& model, int64_t version,
    const std::function<void(nlohmann::json*)>& edit,
    const std::function<absl::Status(const std::string& staged_dir)>&
        mutate_dir) {
  const std::string model_dir = absl::StrCat(store_dir, "/", model);
  const std::string target = absl::StrCat(model_dir, "/", version);
  const std::string staged = absl::StrCat(model_dir, "/.install-", version);
  std::error_code ec;
  if (fs::exists(target))
    return absl::AlreadyExistsError(absl::StrCat(target, " exists"));
  fs::create_directories(model_dir, ec);
  fs::remove_all(staged, ec);
  RECSYS_RETURN_IF_ERROR(CopyDir(bundle_dir, staged));
  const std::string manifest_path = absl::StrCat(staged, "/", kManifestFile);
  RECSYS_ASSIGN_OR_RETURN(std::string text, ReadFileToString(manifest_path));
  nlohmann::json manifest =
      nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (manifest.is_discarded())
    return absl::InternalError(absl::StrCat(manifest_path, ": bad JSON"));
  manifest["version"] = version;
  manifest["model_name"] = model;
  if (edit) edit(&manifest);
  RECSYS_RETURN_IF_ERROR(WriteFileDurably(manifest_path, manifest.dump(1)));
  if (mutate_dir) RECSYS_RETURN_IF_ERROR(mutate_dir(staged));
  fs::rename(staged, target, ec);
  if (ec)
    return absl::InternalError(
        absl::StrCat("rename to ", target, ": ", ec.message()));
  return target;
}

absl::StatusOr<std::string> InstallBundle(
    const std::string& bundle_dir, const std::string& store_dir,
    const std::string& model, int64_t version,
    const std::function<void(nlohmann::json*)>& edit) {
  return InstallBundleWith(bundle_dir, store_dir, model, version, edit,
                           nullptr);
}

absl::StatusOr<std::shared_ptr<const ModelVersion>> InstallAndLoadBundle(
    const TrainedFixture& fixture, const std::string& store_dir) {
  RECSYS_ASSIGN_OR_RETURN(
      std::string dir,
      InstallBundle(fixture.bundle_dir, store_dir, fixture.model_name, 1));
  return LoadModelVersion(dir, 1);
}

absl::StatusOr<std::vector<RawRecord>> ReadCleanRecords(
    const std::string& path, size_t limit,
    const std::function<bool(const RawRecord&)>& keep) {
  RECSYS_ASSIGN_OR_RETURN(std::unique_ptr<RawReader> reader,
                          RawReader::Open(path));
  std::vector<RawRecord> out;
  RawRecord record;
  std::vector<RowError> errors;
  while (out.size() < limit && reader->Next(&record, &errors)) {
    if (errors.empty() && (!keep || keep(record))) out.push_back(record);
  }
  RECSYS_RETURN_IF_ERROR(reader->status());
  return out;
}

}  // namespace recsys::testing
