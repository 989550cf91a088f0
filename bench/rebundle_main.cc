// recsys-rebundle: republishes a trained model bundle with a product-history
// snapshot rebuilt from another (larger) train file.
//
// `make bench` scores the full-size generated month (950,000 customers), but
// training at that size takes about 30 minutes on a 2-core machine. So the
// model is trained on a smaller generated set with the default config, and
// this tool gives it the history of the full-size customers, so that the
// full test month is scored the way a real deployment would score it (every
// customer's lags found in the snapshot) instead of as 900,000 new customers.
// The model, feature spec, vocabularies, references and golden rows are kept
// as they are; the bundle is published as the next version of the store.
//
//   recsys-rebundle --bundle small/models/santander/1
//       --train full/train_ver2.csv --store full/models
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "common/command_line.h"
#include "common/date.h"
#include "common/file_util.h"
#include "common/raw_reader.h"
#include "common/status_macros.h"
#include "featurizer/cleaning.h"
#include "featurizer/product_history.h"
#include "model_store/bundle.h"
#include "model_store/model_version.h"

ABSL_FLAG(std::string, bundle, "", "Bundle directory to take the model from.");
ABSL_FLAG(std::string, train, "",
          "train_ver2.csv whose product ownership becomes the new snapshot.");
ABSL_FLAG(std::string, store, "", "Model store to publish the new bundle in.");

namespace recsys {
namespace {

// The product history of every customer of `train_csv`, built as the
// training pipeline builds it (training/dataset.cc): months in file order,
// rows without a usable customer code or month skipped, a customer's second
// row in a month ignored.
absl::StatusOr<std::shared_ptr<const ProductHistorySnapshot>> BuildHistory(
    const std::string& train_csv, int depth, int64_t* rows) {
  RECSYS_ASSIGN_OR_RETURN(std::unique_ptr<RawReader> reader,
                          RawReader::Open(train_csv));
  if (reader->layout() != FileLayout::kTrain) {
    return absl::InvalidArgumentError(
        absl::StrCat(train_csv, ": not a train file (no product columns)"));
  }
  RECSYS_ASSIGN_OR_RETURN(std::unique_ptr<ProductHistoryBuilder> builder,
                          ProductHistoryBuilder::Create({.depth = depth}));
  RawRecord record;
  std::vector<RowError> errors;
  int month = -1;
  while (reader->Next(&record, &errors)) {
    ++*rows;
    if (!record.fecha_dato.present() ||
        !CleanCustomerId(record.ncodpers).has_value()) {
      continue;
    }
    const int m = record.fecha_dato.value.MonthIndex();
    if (m != month) {
      RECSYS_RETURN_IF_ERROR(builder->AdvanceTo(m));
      month = m;
    }
    (void)builder->Observe(m, record.ncodpers.value,
                           CleanOwnedProducts(record));
  }
  RECSYS_RETURN_IF_ERROR(reader->status());
  return builder->Snapshot();
}

absl::Status Rebundle(const std::string& bundle_dir,
                      const std::string& train_csv,
                      const std::string& store_dir) {
  RECSYS_ASSIGN_OR_RETURN(BundleManifest manifest, ReadManifest(bundle_dir));
  RECSYS_ASSIGN_OR_RETURN(std::string model_bytes,
                          ReadFileToString(bundle_dir + "/" + kModelFile));
  RECSYS_ASSIGN_OR_RETURN(
      std::shared_ptr<const ProductHistorySnapshot> old_history,
      LoadSnapshot(bundle_dir + "/" + kHistoryFile));
  int64_t rows = 0;
  RECSYS_ASSIGN_OR_RETURN(std::shared_ptr<const ProductHistorySnapshot> history,
                          BuildHistory(train_csv, old_history->depth(), &rows));
  if (history->target_month() != old_history->target_month()) {
    return absl::FailedPreconditionError(
        absl::StrCat(train_csv, " serves ", MonthName(history->target_month()),
                     " but the bundle's history serves ",
                     MonthName(old_history->target_month())));
  }
  std::cerr << "history: " << rows << " rows, " << history->num_customers()
            << " customers (was " << old_history->num_customers() << "), "
            << history->MemoryBytes() / 1e6 << " MB\n";
  manifest.version = 0;
  manifest.created_at.clear();
  RECSYS_ASSIGN_OR_RETURN(
      std::string dir,
      PublishBundle(store_dir, manifest, model_bytes, history->Serialize()));
  RECSYS_ASSIGN_OR_RETURN(BundleManifest published, ReadManifest(dir));
  // The server must accept it: load it as the server would.
  RECSYS_ASSIGN_OR_RETURN(std::shared_ptr<const ModelVersion> loaded,
                          LoadModelVersion(dir, published.version));
  std::cout << dir << "\n";
  return absl::OkStatus();
}

}  // namespace
}  // namespace recsys

namespace {

const recsys::CommandSpec& Command() {
  static const auto* const kCommand = new recsys::CommandSpec{
      .name = "recsys-rebundle",
      .summary =
          "republishes a model bundle with the product history of "
          "another train file.",
      .usage = {"recsys-rebundle --bundle DIR --train train_ver2.csv --store "
                "STORE"},
      .description =
          "`make bench` scores a full-size generated month, but training at "
          "that size takes about 30 minutes on 2 cores. So the model is "
          "trained on a smaller generated set, and this tool gives it the "
          "product history of every customer of --train (the same months), "
          "so that the full test month is scored as a real deployment would "
          "score it. The model, feature spec, vocabularies, references and "
          "golden rows are kept; the bundle is published as the next version "
          "in --store, loaded once as the server would, and its folder "
          "printed.",
      .flags = {{"Flags", {"bundle", "train", "store"}}},
      .required = {"bundle", "train", "store"},
      .exit_status =
          "0 published; 1 it failed (unreadable bundle or file, "
          "months that do not match, a bundle that does not load); "
          "2 usage error."};
  return *kCommand;
}

}  // namespace

int main(int argc, char** argv) {
  const recsys::ParsedCommand command =
      recsys::ParseCommand(Command(), argc, argv);
  if (command.exit_code) return *command.exit_code;
  const absl::Status status =
      recsys::Rebundle(absl::GetFlag(FLAGS_bundle), absl::GetFlag(FLAGS_train),
                       absl::GetFlag(FLAGS_store));
  if (!status.ok()) {
    std::cerr << Command().name << ": " << status << "\n";
    return recsys::kExitFailed;
  }
  return recsys::kExitOk;
}
