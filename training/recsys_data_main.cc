// recsys-data: writes synthetic Santander files and inspects raw files.
// See Program() below (or run `recsys-data --help`).
#include <chrono>
#include <memory>
#include <optional>
#include <cstdint>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "common/command_line.h"
#include "common/date.h"
#include "common/elapsed.h"
#include "common/inspect.h"
#include "common/progress.h"
#include "common/raw_reader.h"
#include "common/status_macros.h"
#include "featurizer/history_records.h"
#include "model_store/history_store.h"
#include "records/records_reader.h"
#include "training/gen_customer.h"
#include "training/generator.h"
#include "training/records_commands.h"

ABSL_FLAG(
    int64_t, customers, 20000,
    "Distinct customers over the 18 months (about 65% are in the "
    "first month, the others join later). 950000 gives about the size of the "
    "real Kaggle files (13.6M train rows, about 2.3 GB).");
ABSL_FLAG(uint64_t, seed, 1,
          "Random seed. The same seed and options always write the "
          "same bytes.");
ABSL_FLAG(std::string, out, "data",
          "Output directory (created if missing; existing files are "
          "replaced).");
ABSL_FLAG(
    bool, drift, false,
    "Shift age, renta, canal_entrada and segmento in the test month "
    "(2016-06-28) only, to exercise drift monitoring; train and truth files "
    "are unchanged.");

ABSL_FLAG(double, progress_seconds, recsys::kDefaultProgressSeconds,
          recsys::kProgressSecondsHelp);

ABSL_FLAG(int, extra_months, 0,
          "generate: also write the test month and the months after it in "
          "the train layout with products, one file each (train_2016-06.csv, "
          "train_2016-07.csv, ...): the months' actual records, to ingest "
          "month by month. 0..12.");
ABSL_FLAG(std::string, db, "",
          "ingest, months, history: the records database (an SQLite file, "
          "created by the first ingest).");

ABSL_FLAG(bool, skip_ingested, false,
          "ingest: skip a file whose exact bytes (FNV-1a 64 checksum) the "
          "database already holds months from, whatever its path; the other "
          "files are ingested. For a monthly job that passes every delivered "
          "file each time.");
ABSL_FLAG(std::string, data, "",
          "history: directory holding train_ver2.csv (the raw monthly rows); "
          "or give --db instead.");
ABSL_FLAG(std::string, store, "",
          "history: model store root; the snapshot goes to "
          "STORE/history/YYYY-MM/.");
ABSL_FLAG(std::string, through, "",
          "history: last month of data used, YYYY-MM (default: all, or with "
          "--db the newest month ingested with products).");

namespace {

using recsys::kExitFailed;
using recsys::kExitOk;
using recsys::kExitUsage;

constexpr char kProgram[] = "recsys-data";

int Generate(const std::vector<std::string>&) {
  recsys::GeneratorOptions options;
  options.customers = absl::GetFlag(FLAGS_customers);
  options.seed = absl::GetFlag(FLAGS_seed);
  options.out_dir = absl::GetFlag(FLAGS_out);
  options.drift = absl::GetFlag(FLAGS_drift);
  const std::string command = absl::StrCat(kProgram, " generate");
  options.extra_months = absl::GetFlag(FLAGS_extra_months);
  if (options.extra_months < 0 ||
      options.extra_months > recsys::kMaxExtraMonths) {
    return recsys::UsageError(
        command, absl::StrCat("--extra-months must be in 0..",
                              recsys::kMaxExtraMonths, ", got ",
                              options.extra_months));
  }
  if (options.customers < 1 ||
      options.customers > recsys::kMaxGeneratedCustomers) {
    return recsys::UsageError(
        command, absl::StrCat("--customers must be in 1..",
                              recsys::kMaxGeneratedCustomers, ", got ",
                              options.customers));
  }
  if (options.out_dir.empty()) {
    return recsys::UsageError(command, "--out must not be empty");
  }
  const auto start = std::chrono::steady_clock::now();
  recsys::Progress progress(
      recsys::StderrProgressOptions(absl::GetFlag(FLAGS_progress_seconds)));
  options.progress = &progress;
  recsys::GeneratorSummary summary;
  const absl::Status status = recsys::GenerateDataset(options, &summary);
  if (!status.ok()) {
    std::cerr << kProgram << ": " << status << "\n";
    return kExitUsage;
  }
  const double seconds = recsys::SecondsSince(start);
  std::cout << "wrote " << options.out_dir << "/{" << recsys::kTrainFileName
            << "," << recsys::kTestFileName << "," << recsys::kTruthFileName
            << "}: " << summary.train_rows << " train rows, "
            << summary.test_rows << " test rows ("
            << summary.test_customers_adding << " test customers add a product)"
            << (options.drift ? ", with drift" : "");
  if (options.extra_months > 0) {
    std::cout << ", " << summary.extra_rows << " rows in "
              << options.extra_months << " extra month file(s) ("
              << recsys::ExtraMonthFileName(
                     recsys::gen::MonthDate(recsys::gen::kTestMonth).MonthIndex())
              << " ...)";
  }
  std::cout << " in "
            << absl::StrCat(static_cast<int64_t>(seconds * 10) / 10.0)
            << " s\n";
  return kExitOk;
}

// Where History reads the monthly rows: DIR/train_ver2.csv, or the records
// database's months up to --through (records/records_reader.h). Both go
// through the same RawReader interface, so the snapshot is built the same.
struct HistoryInput {
  std::unique_ptr<recsys::RecordsSnapshot> snapshot;  // --db only
  std::unique_ptr<recsys::RawReader> reader;
  std::string source;  // the manifest's "source"
};

absl::StatusOr<HistoryInput> OpenHistoryInput(const std::string& data,
                                              const std::string& db,
                                              const std::string& through) {
  HistoryInput input;
  if (!db.empty()) {
    RECSYS_ASSIGN_OR_RETURN(input.snapshot,
                            recsys::RecordsSnapshot::Open(db, through));
    RECSYS_ASSIGN_OR_RETURN(input.reader, input.snapshot->NewReader());
    input.source = "db:" + input.snapshot->name();
    return input;
  }
  const std::string path = absl::StrCat(data, "/", recsys::kTrainFileName);
  RECSYS_ASSIGN_OR_RETURN(input.reader, recsys::RawReader::Open(path));
  if (input.reader->layout() != recsys::FileLayout::kTrain) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, " has no product columns (test layout): the history needs the "
              "products each customer owned"));
  }
  input.source = "csv:" + path;
  return input;
}

int History(const std::vector<std::string>&) {
  const std::string command = absl::StrCat(kProgram, " history");
  const std::string data = absl::GetFlag(FLAGS_data);
  const std::string db = absl::GetFlag(FLAGS_db);
  const std::string store = absl::GetFlag(FLAGS_store);
  if (data.empty() == db.empty()) {
    return recsys::UsageError(
        command, "give exactly one of --data DIR (train_ver2.csv) or --db "
                 "records.db (the records database)");
  }
  const std::string through_text = absl::GetFlag(FLAGS_through);
  std::optional<int> through;
  if (!through_text.empty()) {
    absl::StatusOr<int> month = recsys::ParseMonthIndex(through_text);
    if (!month.ok()) {
      return recsys::UsageError(
          command, absl::StrCat("--through: ", month.status().message()));
    }
    through = *month;
  }
  recsys::HistoryBuildReport report;
  int64_t customers = 0;
  auto publish = [&]() -> absl::StatusOr<std::string> {
    RECSYS_ASSIGN_OR_RETURN(HistoryInput input,
                            OpenHistoryInput(data, db, through_text));
    RECSYS_ASSIGN_OR_RETURN(
        std::shared_ptr<const recsys::ProductHistorySnapshot> snapshot,
        recsys::BuildHistorySnapshot(recsys::ReaderSource(input.reader.get()),
                                     {.depth = recsys::kDefaultHistoryDepth},
                                     through, &report));
    customers = snapshot->num_customers();
    return recsys::PublishHistory(store, *snapshot, input.source);
  };
  const absl::StatusOr<std::string> dir = publish();
  if (!dir.ok()) {
    std::cerr << kProgram << ": " << dir.status() << "\n";
    return kExitUsage;
  }
  std::cout << "published " << *dir << ": " << customers
            << " customers, months " << recsys::MonthName(report.months.front())
            << ".." << recsys::MonthName(report.months.back()) << " ("
            << report.rows << " rows read, " << report.rows_skipped
            << " without month or customer, " << report.duplicates
            << " duplicates, " << report.rows_after << " after --through)\n";
  return kExitOk;
}

int Inspect(const std::vector<std::string>& files) {
  int exit_code = kExitOk;
  for (const std::string& file : files) {
    recsys::InspectReport report;
    const absl::Status status = recsys::InspectFile(file, &report);
    if (!status.ok()) {
      std::cerr << kProgram << ": " << status << "\n";
      exit_code = kExitUsage;
      continue;
    }
    recsys::PrintInspectReport(report, std::cout);
    if ((!report.errors.empty() || report.duplicate_rows > 0) &&
        exit_code == kExitOk)
      exit_code = kExitFailed;
  }
  std::cout.flush();
  return exit_code;
}

const recsys::ProgramSpec& Program() {
  static const auto* const kProgramSpec = new recsys::ProgramSpec{
      .name = kProgram,
      .summary =
          "makes and checks raw data files in the Kaggle Santander format.",
      .description =
          "The Kaggle \"Santander Product Recommendation\" data are monthly "
          "snapshots of a Spanish bank's customers: train_ver2.csv has 17 "
          "months (2015-01-28 .. 2016-05-28) of 24 demographic columns plus "
          "24 product-ownership flags, and test_ver2.csv has the next month "
          "(2016-06-28) without the products. The task is to predict which "
          "products each customer adds in the test month.\n\n"
          "Examples:\n"
          "  recsys-data generate --customers 20000 --seed 1 --out data\n"
          "  recsys-data inspect data/train_ver2.csv data/test_ver2.csv\n"
          "  recsys-data generate --customers 20000 --extra-months 2 --out "
          "data\n"
          "  recsys-data ingest --db records.db data/train_ver2.csv\n"
          "  recsys-data months --db records.db\n"
          "  recsys-data history --data data --store models --through "
          "2016-04\n"
          "  recsys-data history --db records.db --store models",
      .subcommands =
          {{{.name = "generate",
             .summary =
                 "writes synthetic DIR/train_ver2.csv and DIR/test_ver2.csv "
                 "in exactly the real files' text format, plus "
                 "DIR/test_truth.csv (ncodpers,added_products,owned_products) "
                 "to score predictions locally.",
             .usage = {"recsys-data generate [--customers N] [--seed S] "
                       "[--out DIR] [--drift]",
                       "                     [--extra-months N]"},
             .description =
                 "train_ver2.csv holds 17 monthly snapshots (2015-01-28 .. "
                 "2016-05-28), test_ver2.csv the month 2016-06-28 (the 24 "
                 "demographic columns only), and test_truth.csv, per test "
                 "customer, the products added versus 2016-05-28 and the "
                 "products owned (Kaggle never published this; it lets a "
                 "submission be scored with `recsys evaluate`). With "
                 "--extra-months N, the test month and the months after it "
                 "are also written in the train layout with products "
                 "(train_2016-06.csv, ...), to ingest month by month. The "
                 "same seed and options always write the same bytes.",
             .flags = {{"Flags", {"customers", "seed", "out", "drift",
                                  "extra_months", "progress_seconds"}}},
             .exit_status = "0 written; 2 usage error, or a file that cannot "
                            "be written."},
            Generate},
           {{.name = "inspect",
             .summary =
                 "reads raw train or test files (original, or re-saved by a "
                 "spreadsheet) and prints rows, months, customers, missing "
                 "values per column, every row that cannot be parsed (line, "
                 "column, value) and every customer listed twice in one month "
                 "(line and first line).",
             .usage = {"recsys-data inspect FILE..."},
             .min_args = 1,
             .max_args = -1,
             .args_name = "FILE (one or more raw CSV files to inspect)",
             .exit_status = "0 every row parses; 1 rows that cannot be "
                            "parsed or duplicate customers; 2 usage error, "
                            "or a file that cannot be read."},
            Inspect},
           {{.name = "history",
             .summary =
                 "publishes the customers' product history for the month "
                 "after the data into a model store.",
             .usage = {"recsys-data history --data DIR --store STORE "
                       "[--through YYYY-MM]",
                       "recsys-data history --db records.db --store STORE "
                       "[--through YYYY-MM]"},
             .description =
                 "Builds the customers' product history from "
                 "DIR/train_ver2.csv, or from the months in the records "
                 "database (--db; every month, or up to --through; a month "
                 "ingested from a test-layout file has no products and is "
                 "refused) "
                 "exactly as recsys-train builds a bundle's, and publishes it "
                 "atomically as STORE/history/YYYY-MM/ (history.bin and "
                 "manifest.json), YYYY-MM being the month it serves: the "
                 "month after the last month of data. A running "
                 "recsys-server picks it up without a restart and scores "
                 "that month with it (docs/monthly.md).",
             .flags = {{"Flags", {"data", "db", "store", "through"}}},
             .required = {"store"},
             .exit_status = "0 published; 2 usage error, or data that "
                            "cannot be read or a store that cannot be "
                            "written."},
            History},
           {{.name = "ingest",
             .summary =
                 "loads raw monthly files (train or test layout) into the "
                 "records database.",
             .usage = {"recsys-data ingest --db records.db [--skip-ingested] "
                       "FILE..."},
             .description =
                 "Every column is kept as read, with month, file, checksum "
                 "and line; rows that cannot be used are refused and listed "
                 "with line, column, value and reason. Re-ingesting a month "
                 "replaces it in one transaction. Prints rows read = stored + "
                 "refused per month, rows/s and sizes.",
             .flags = {{"Flags", {"db", "skip_ingested"}}},
             .required = {"db"},
             .min_args = 1,
             .max_args = -1,
             .args_name = "FILE (raw monthly CSV files)",
             .exit_status = "0 every file ingested; 1 an ingest failed (the "
                            "database is unchanged for that file); 2 usage "
                            "error."},
            [](const std::vector<std::string>& files) {
              return recsys::RunIngestCommand(
                  absl::GetFlag(FLAGS_db), files,
                  absl::GetFlag(FLAGS_skip_ingested), std::cout, std::cerr);
            }},
           {{.name = "months",
             .summary = "lists the months held in the records database.",
             .usage = {"recsys-data months --db records.db"},
             .description =
                 "One line per month: rows, customers, products added, "
                 "refused rows, ingest time and file.",
             .flags = {{"Flags", {"db"}}},
             .required = {"db"},
             .exit_status = "0 listed; 1 the database cannot be read; 2 "
                            "usage error."},
            [](const std::vector<std::string>&) {
              return recsys::RunMonthsCommand(absl::GetFlag(FLAGS_db),
                                              std::cout, std::cerr);
            }}},
      .exit_status =
          "0 success; 1 inspect found rows that cannot be parsed or "
          "duplicate customers; 2 usage error (unknown flag or subcommand, "
          "bad value, missing argument), or a file that cannot be read or "
          "written."};
  return *kProgramSpec;
}

}  // namespace

int main(int argc, char** argv) {
  return recsys::RunProgram(Program(), argc, argv);
}
