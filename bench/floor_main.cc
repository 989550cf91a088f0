// recsys-floor: the in-process floor of the batch path (bench/floor.h).
//
//   recsys-floor --bundle models/santander/1 --input test_ver2.csv
//       --threads 2 --batch-rows 256 [--predictor auto|forest|xgboost]
//       [--json floor.json]
//       [--submission floor.csv] [--dump features/test]
//
// Prints rows/s and the per-row cost of parse, featurize (with the history
// lookup), predict and rank. --dump PREFIX writes what the Python reference
// needs (bench/python/reference.py): PREFIX.features.npy (float32, rows x
// features, NaN = missing), PREFIX.owned.npy (uint32 masks of the products
// owned last month, bit i = kProducts[i]), PREFIX.ncodpers.npy (int64).
#include <fstream>
#include <iostream>
#include <string>

#include "absl/flags/flag.h"
#include "bench/floor.h"
#include "bench/npy.h"
#include "common/command_line.h"
#include "common/status_macros.h"
#include "model_store/bundle.h"
#include "model_store/model_version.h"

ABSL_FLAG(std::string, bundle, "", "Model bundle directory (required).");
ABSL_FLAG(std::string, input, "", "Raw test CSV to score (required).");
ABSL_FLAG(int32_t, threads, 2, "Scoring threads (the server's --workers).");
ABSL_FLAG(int32_t, batch_rows, 256,
          "Rows per batch (`recsys score` sends 256).");
ABSL_FLAG(int32_t, k, 7, "Products per row.");
ABSL_FLAG(int64_t, max_rows, 0, "Read at most this many rows (0 = all).");
ABSL_FLAG(std::string, predictor, "auto",
          "auto, forest or xgboost: which evaluator predicts (as "
          "recsys-server --predictor).");
ABSL_FLAG(std::string, json, "", "Also write the report as JSON here.");
ABSL_FLAG(std::string, submission, "",
          "Write the top-k of every row as a Kaggle submission here.");
ABSL_FLAG(std::string, dump, "",
          "Write PREFIX.features.npy, PREFIX.owned.npy, PREFIX.ncodpers.npy.");

namespace recsys {
namespace {

absl::Status Dump(const FloorResult& result, int num_features,
                  const std::string& prefix) {
  const int64_t rows = static_cast<int64_t>(result.tops.size());
  RECSYS_RETURN_IF_ERROR(WriteNpy(
      prefix + ".features.npy", result.features.data(), {rows, num_features}));
  RECSYS_RETURN_IF_ERROR(
      WriteNpy(prefix + ".owned.npy", result.owned_last.data(), {rows}));
  return WriteNpy(prefix + ".ncodpers.npy", result.ncodpers.data(), {rows});
}

absl::Status Run() {
  const std::string bundle = absl::GetFlag(FLAGS_bundle);
  const std::string input = absl::GetFlag(FLAGS_input);
  RECSYS_ASSIGN_OR_RETURN(BundleManifest manifest, ReadManifest(bundle));
  ModelLoadOptions load_options;
  RECSYS_ASSIGN_OR_RETURN(load_options.predictor,
                          ParsePredictorChoice(absl::GetFlag(FLAGS_predictor)));
  RECSYS_ASSIGN_OR_RETURN(
      std::shared_ptr<const ModelVersion> model,
      LoadModelVersionWith(bundle, manifest.version, load_options));
  std::cout << "predictor: " << model->predictor() << " ("
            << model->predictor_note() << ")\n";
  ParseStats parse;
  RECSYS_ASSIGN_OR_RETURN(
      std::vector<RawRecord> records,
      ReadRecords(input, absl::GetFlag(FLAGS_max_rows), &parse));
  FloorOptions options;
  options.threads = absl::GetFlag(FLAGS_threads);
  options.batch_rows = absl::GetFlag(FLAGS_batch_rows);
  options.k = absl::GetFlag(FLAGS_k);
  const std::string dump = absl::GetFlag(FLAGS_dump);
  options.keep_features = !dump.empty();
  RECSYS_ASSIGN_OR_RETURN(FloorResult result,
                          RunFloor(*model, records, options));
  result.report.parse = parse;
  std::cout << result.report.ToText();
  if (const std::string json = absl::GetFlag(FLAGS_json); !json.empty()) {
    nlohmann::json out = result.report.ToJson();
    out["model_version"] = manifest.version;
    out["num_rounds"] = manifest.num_rounds;
    out["num_features"] = model->num_features();
    out["predictor"] = model->predictor();
    std::ofstream(json, std::ios::trunc) << out.dump(2) << "\n";
  }
  if (const std::string path = absl::GetFlag(FLAGS_submission); !path.empty()) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    WriteSubmission(result, &out);
    if (!out) return absl::InternalError("cannot write " + path);
  }
  if (!dump.empty()) {
    RECSYS_RETURN_IF_ERROR(Dump(result, model->num_features(), dump));
  }
  return absl::OkStatus();
}

}  // namespace
}  // namespace recsys

namespace {

const recsys::CommandSpec& Command() {
  static const auto* const kCommand = new recsys::CommandSpec{
      .name = "recsys-floor",
      .summary =
          "scores a raw file in-process (no gRPC) and prints rows/s "
          "and the per-row cost of each stage.",
      .usage = {"recsys-floor --bundle DIR --input test_ver2.csv [--threads 2]",
                "             [--batch-rows 256] [--predictor auto] [--json F]",
                "             [--submission F] [--dump PREFIX]"},
      .description =
          "The floor of the batch path (bench/floor.h): what the server's "
          "parse, featurize (with the history lookup), predict and rank cost "
          "per row without gRPC. --dump PREFIX writes what the Python "
          "reference needs (bench/python/reference.py): PREFIX.features.npy "
          "(float32, rows x features, NaN = missing), PREFIX.owned.npy "
          "(uint32 masks of the products owned last month) and "
          "PREFIX.ncodpers.npy (int64).",
      .flags = {{"Flags",
                 {"bundle", "input", "threads", "batch_rows", "k", "max_rows",
                  "predictor"}},
                {"Output flags", {"json", "submission", "dump"}}},
      .required = {"bundle", "input"},
      .exit_status =
          "0 scored; 1 it failed (unreadable bundle or input); 2 "
          "usage error."};
  return *kCommand;
}

}  // namespace

int main(int argc, char** argv) {
  const recsys::ParsedCommand command =
      recsys::ParseCommand(Command(), argc, argv);
  if (command.exit_code) return *command.exit_code;
  const absl::Status status = recsys::Run();
  if (!status.ok()) {
    std::cerr << Command().name << ": " << status << "\n";
    return recsys::kExitFailed;
  }
  return recsys::kExitOk;
}
