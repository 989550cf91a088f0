// recsys-data: writes synthetic Santander files and inspects raw files.
// See kUsage below (or run `recsys-data --help`).
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <iterator>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "common/date.h"
#include "common/inspect.h"
#include "common/raw_reader.h"
#include "common/status_macros.h"
#include "featurizer/history_records.h"
#include "model_store/history_store.h"
#include "training/generator.h"

ABSL_FLAG(
    int64_t, customers, 20000,
    "generate: distinct customers over the 18 months (about 65% are in the "
    "first month, the others join later). 950000 gives about the size of the "
    "real Kaggle files (13.6M train rows, about 2.3 GB).");
ABSL_FLAG(uint64_t, seed, 1,
          "generate: random seed. The same seed and options always write the "
          "same bytes.");
ABSL_FLAG(std::string, out, "data",
          "generate: output directory (created if missing; existing files are "
          "replaced).");
ABSL_FLAG(
    bool, drift, false,
    "generate: shift age, renta, canal_entrada and segmento in the test month "
    "(2016-06-28) only, to exercise drift monitoring; train and truth files "
    "are "
    "unchanged.");
ABSL_FLAG(std::string, data, "",
          "history: directory holding train_ver2.csv (the raw monthly rows).");
ABSL_FLAG(std::string, store, "",
          "history: model store root; the snapshot goes to "
          "STORE/history/YYYY-MM/.");
ABSL_FLAG(std::string, through, "",
          "history: last month of data used, YYYY-MM (default: all).");

namespace {

constexpr int kExitOk = 0;
constexpr int kExitRowErrors = 1;
constexpr int kExitUsage = 2;

constexpr char kUsage[] =
    R"(makes and checks raw data files in the Kaggle Santander format.

The Kaggle "Santander Product Recommendation" data are monthly snapshots of a
Spanish bank's customers: train_ver2.csv has 17 months (2015-01-28 ..
2016-05-28) of 24 demographic columns plus 24 product-ownership flags, and
test_ver2.csv has the next month (2016-06-28) without the products. The task is
to predict which products each customer adds in the test month.

Usage:
  recsys-data generate [--customers N] [--seed S] [--out DIR] [--drift]
      Writes synthetic DIR/train_ver2.csv and DIR/test_ver2.csv in exactly the
      real files' text format, plus DIR/test_truth.csv
      (ncodpers,added_products,owned_products) to score predictions locally.
  recsys-data history --data DIR --store STORE [--through YYYY-MM]
      Builds the customers' product history from DIR/train_ver2.csv (every
      month, or up to --through) exactly as recsys-train builds a bundle's,
      and publishes it atomically as STORE/history/YYYY-MM/ (history.bin and
      manifest.json), YYYY-MM being the month it serves: the month after the
      last month of data. A running recsys-server picks it up without a
      restart and scores that month with it (docs/monthly.md).
  recsys-data inspect FILE...
      Reads raw train or test files (original, or re-saved by a spreadsheet) and
      prints rows, months, customers, missing values per column, every row
      that cannot be parsed (line, column, value) and every customer listed
      twice in one month (line and first line).

Exit status: 0 success; 1 inspect found rows that cannot be parsed or
duplicate customers;
2 bad command line, or a file that cannot be read or written.

Examples:
  recsys-data generate --customers 20000 --seed 1 --out data
  recsys-data history --data data --store models --through 2016-04
  recsys-data inspect data/train_ver2.csv data/test_ver2.csv)";

constexpr const char* kGenerateFlags[] = {"customers", "seed", "out", "drift"};
constexpr const char* kHistoryFlags[] = {"data", "store", "through"};

bool IsHelp(absl::string_view arg) {
  return arg == "--help" || arg == "-help" || arg == "-h" ||
         arg == "--helpfull" || arg == "--helpshort" || arg == "help";
}

// Writes `text` wrapped at 80 columns, each line indented by `indent`.
void PrintWrapped(absl::string_view text, absl::string_view indent) {
  std::string line(indent);
  for (absl::string_view word : absl::StrSplit(text, ' ', absl::SkipEmpty())) {
    if (line.size() > indent.size() && line.size() + 1 + word.size() > 80) {
      std::cout << line << "\n";
      line = std::string(indent);
    }
    if (line.size() > indent.size()) line.push_back(' ');
    line.append(word.data(), word.size());
  }
  std::cout << line << "\n";
}

// The usage text and each flag with its default and help text.
void PrintHelp() {
  std::cout << "recsys-data: " << kUsage << "\n\nFlags:\n";
  for (const auto& names : {std::vector<const char*>(
                                 std::begin(kGenerateFlags), std::end(kGenerateFlags)),
                             std::vector<const char*>(std::begin(kHistoryFlags),
                                                      std::end(kHistoryFlags))}) {
    for (const char* name : names) {
      const absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
      std::cout << "  --" << name << " (default: " << flag->DefaultValue()
                << ")\n";
      PrintWrapped(flag->Help(), "      ");
    }
  }
}

int UsageError(absl::string_view message) {
  std::cerr << "recsys-data: " << message
            << "\nRun 'recsys-data --help' for usage.\n";
  return kExitUsage;
}

// Checks every flag argument before absl::ParseCommandLine (which exits with
// status 1 on errors): unknown names and bad values become usage errors that
// name the argument. Returns "" when all are fine; adds the names of the
// flags given to `*given`.
std::string CheckFlagArguments(int argc, char** argv,
                               std::set<std::string>* given) {
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (arg == "--") break;
    if (arg.size() < 2 || arg[0] != '-') continue;
    absl::string_view body = arg.substr(arg[1] == '-' ? 2 : 1);
    const size_t eq = body.find('=');
    absl::string_view name = body.substr(0, eq);
    absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    if (flag == nullptr && absl::StartsWith(name, "no")) {
      flag = absl::FindCommandLineFlag(name.substr(2));
      if (flag != nullptr && flag->IsOfType<bool>() &&
          eq == absl::string_view::npos) {
        given->insert(std::string(name.substr(2)));
        continue;
      }
      flag = nullptr;
    }
    if (flag == nullptr) return absl::StrCat("unknown flag '", arg, "'");
    given->insert(std::string(name));
    std::string value;
    if (eq != absl::string_view::npos) {
      value = std::string(body.substr(eq + 1));
    } else if (flag->IsOfType<bool>()) {
      continue;
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      return absl::StrCat("flag '", arg, "' needs a value");
    }
    std::string error;
    if (!flag->ParseFrom(value, &error)) {
      return absl::StrCat("bad value '", value, "' for flag '--", name,
                          "': ", error);
    }
  }
  return "";
}

// A usage error naming the first flag of `flags` in `given`, which belongs
// to `owner` and not to `command`; 0 when there is none.
int RefuseFlags(const std::set<std::string>& given,
                const std::vector<const char*>& flags, absl::string_view owner,
                absl::string_view command) {
  for (const char* name : flags) {
    if (given.count(name) > 0) {
      return UsageError(absl::StrCat("--", name, " applies to '", owner,
                                     "', not '", command, "'"));
    }
  }
  return kExitOk;
}

int Generate(const std::vector<char*>& args,
             const std::set<std::string>& given) {
  if (int refused = RefuseFlags(given, {std::begin(kHistoryFlags),
                                        std::end(kHistoryFlags)},
                                "history", "generate"))
    return refused;
  if (args.size() > 2)
    return UsageError(absl::StrCat("unexpected argument '", args[2], "'"));
  recsys::GeneratorOptions options;
  options.customers = absl::GetFlag(FLAGS_customers);
  options.seed = absl::GetFlag(FLAGS_seed);
  options.out_dir = absl::GetFlag(FLAGS_out);
  options.drift = absl::GetFlag(FLAGS_drift);
  if (options.customers < 1 ||
      options.customers > recsys::kMaxGeneratedCustomers) {
    return UsageError(absl::StrCat("--customers must be in 1..",
                                   recsys::kMaxGeneratedCustomers, ", got ",
                                   options.customers));
  }
  if (options.out_dir.empty()) return UsageError("--out must not be empty");
  const auto start = std::chrono::steady_clock::now();
  recsys::GeneratorSummary summary;
  const absl::Status status = recsys::GenerateDataset(options, &summary);
  if (!status.ok()) {
    std::cerr << "recsys-data: " << status << "\n";
    return kExitUsage;
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  std::cout << "wrote " << options.out_dir << "/{" << recsys::kTrainFileName
            << "," << recsys::kTestFileName << "," << recsys::kTruthFileName
            << "}: " << summary.train_rows << " train rows, "
            << summary.test_rows << " test rows ("
            << summary.test_customers_adding << " test customers add a product)"
            << (options.drift ? ", with drift" : "") << " in "
            << absl::StrCat(static_cast<int64_t>(seconds * 10) / 10.0)
            << " s\n";
  return kExitOk;
}

int History(const std::vector<char*>& args,
            const std::set<std::string>& given) {
  if (int refused = RefuseFlags(given, {std::begin(kGenerateFlags),
                                        std::end(kGenerateFlags)},
                                "generate", "history"))
    return refused;
  if (args.size() > 2)
    return UsageError(absl::StrCat("unexpected argument '", args[2], "'"));
  const std::string data = absl::GetFlag(FLAGS_data);
  const std::string store = absl::GetFlag(FLAGS_store);
  if (data.empty()) return UsageError("history needs --data DIR");
  if (store.empty()) return UsageError("history needs --store STORE");
  std::optional<int> through;
  if (const std::string text = absl::GetFlag(FLAGS_through); !text.empty()) {
    absl::StatusOr<int> month = recsys::ParseMonthName(text);
    if (!month.ok())
      return UsageError(absl::StrCat("--through: ", month.status().message()));
    through = *month;
  }
  const std::string path = absl::StrCat(data, "/", recsys::kTrainFileName);
  recsys::HistoryBuildReport report;
  int64_t customers = 0;
  auto publish = [&]() -> absl::StatusOr<std::string> {
    RECSYS_ASSIGN_OR_RETURN(std::unique_ptr<recsys::RawReader> reader,
                            recsys::RawReader::Open(path));
    if (reader->layout() != recsys::FileLayout::kTrain) {
      return absl::InvalidArgumentError(absl::StrCat(
          path, " has no product columns (test layout): the history needs the "
                "products each customer owned"));
    }
    RECSYS_ASSIGN_OR_RETURN(
        std::shared_ptr<const recsys::ProductHistorySnapshot> snapshot,
        recsys::BuildHistorySnapshot(recsys::ReaderSource(reader.get()),
                                     {.depth = recsys::kDefaultHistoryDepth},
                                     through, &report));
    customers = snapshot->num_customers();
    return recsys::PublishHistory(store, *snapshot, "csv:" + path);
  };
  const absl::StatusOr<std::string> dir = publish();
  if (!dir.ok()) {
    std::cerr << "recsys-data: " << dir.status() << "\n";
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

int Inspect(const std::vector<char*>& args,
            const std::set<std::string>& given) {
  if (int refused = RefuseFlags(given, {std::begin(kGenerateFlags),
                                        std::end(kGenerateFlags)},
                                "generate", "inspect"))
    return refused;
  if (int refused = RefuseFlags(given, {std::begin(kHistoryFlags),
                                        std::end(kHistoryFlags)},
                                "history", "inspect"))
    return refused;
  if (args.size() < 3) return UsageError("inspect needs at least one FILE");
  int exit_code = kExitOk;
  for (size_t i = 2; i < args.size(); ++i) {
    recsys::InspectReport report;
    const absl::Status status = recsys::InspectFile(args[i], &report);
    if (!status.ok()) {
      std::cerr << "recsys-data: " << status << "\n";
      exit_code = kExitUsage;
      continue;
    }
    recsys::PrintInspectReport(report, std::cout);
    if ((!report.errors.empty() || report.duplicate_rows > 0) &&
        exit_code == kExitOk)
      exit_code = kExitRowErrors;
  }
  std::cout.flush();
  return exit_code;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(kUsage);
  absl::FlagsUsageConfig config;
  config.contains_help_flags = [](absl::string_view file) {
    return absl::StrContains(file, "recsys_data_main");
  };
  config.contains_helpshort_flags = config.contains_help_flags;
  absl::SetFlagsUsageConfig(config);

  for (int i = 1; i < argc; ++i) {
    if (absl::string_view(argv[i]) == "--") break;
    if (IsHelp(argv[i])) {
      PrintHelp();
      return kExitOk;
    }
  }
  std::set<std::string> given;
  const std::string flag_error = CheckFlagArguments(argc, argv, &given);
  if (!flag_error.empty()) return UsageError(flag_error);
  const std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  if (args.size() < 2)
    return UsageError("missing command: 'generate', 'history' or 'inspect'");
  const absl::string_view command = args[1];
  if (command == "generate") return Generate(args, given);
  if (command == "history") return History(args, given);
  if (command == "inspect") return Inspect(args, given);
  return UsageError(
      absl::StrCat("unknown command '", command,
                   "' (expected 'generate', 'history' or 'inspect')"));
}
