// recsys-data: writes synthetic Santander files and inspects raw files.
// See kUsage below (or run `recsys-data --help`).
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <iostream>
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
#include "common/inspect.h"
#include "common/flag_util.h"
#include "training/gen_customer.h"
#include "training/generator.h"
#include "training/records_commands.h"

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

ABSL_FLAG(int, extra_months, 0,
          "generate: also write the test month and the months after it in "
          "the train layout with products, one file each (train_2016-06.csv, "
          "train_2016-07.csv, ...): the months' actual records, to ingest "
          "month by month. 0..12.");
ABSL_FLAG(std::string, db, "",
          "ingest, months: the records database (an SQLite file, created by "
          "the first ingest).");

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
  recsys-data ingest --db records.db FILE...
      Loads raw monthly files (train or test layout) into the records
      database: every column as read, with month, file, checksum and line;
      rows that cannot be used are refused and listed with line, column,
      value and reason. Re-ingesting a month replaces it in one transaction.
      Prints rows read = stored + refused per month, rows/s and sizes.
  recsys-data months --db records.db
      Lists the months held: rows, customers, products added, refused rows,
      ingest time and file.
  recsys-data inspect FILE...
      Reads raw train or test files (original, or re-saved by a spreadsheet) and
      prints rows, months, customers, missing values per column, every row
      that cannot be parsed (line, column, value) and every customer listed
      twice in one month (line and first line).

Exit status: 0 success; 1 inspect found rows that cannot be parsed or
duplicate customers, or an ingest failed (the database is unchanged for that
file); 2 bad command line, or a file that cannot be read or written.

Examples:
  recsys-data generate --customers 20000 --seed 1 --out data
  recsys-data inspect data/train_ver2.csv data/test_ver2.csv
  recsys-data generate --customers 20000 --extra-months 2 --out data
  recsys-data ingest --db records.db data/train_ver2.csv data/train_2016-06.csv
  recsys-data months --db records.db)";

constexpr const char* kGenerateFlags[] = {"customers", "seed", "out", "drift",
                                          "extra_months"};
constexpr const char* kRecordsFlags[] = {"db"};

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
  std::vector<const char*> names(std::begin(kGenerateFlags),
                                 std::end(kGenerateFlags));
  names.insert(names.end(), std::begin(kRecordsFlags), std::end(kRecordsFlags));
  for (const char* name : names) {
    const absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    std::cout << "  --" << name << " (default: " << flag->DefaultValue()
              << ")\n";
    PrintWrapped(flag->Help(), "      ");
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

int Generate(const std::vector<char*>& args) {
  if (args.size() > 2)
    return UsageError(absl::StrCat("unexpected argument '", args[2], "'"));
  recsys::GeneratorOptions options;
  options.customers = absl::GetFlag(FLAGS_customers);
  options.seed = absl::GetFlag(FLAGS_seed);
  options.out_dir = absl::GetFlag(FLAGS_out);
  options.drift = absl::GetFlag(FLAGS_drift);
  options.extra_months = absl::GetFlag(FLAGS_extra_months);
  if (options.extra_months < 0 || options.extra_months > recsys::kMaxExtraMonths) {
    return UsageError(absl::StrCat("--extra-months must be in 0..",
                                   recsys::kMaxExtraMonths, ", got ",
                                   options.extra_months));
  }
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

// A usage error naming a flag of `flags` that was given but does not apply
// to `command` (whose flags are `owner`), or "" when none was.
template <size_t N>
std::string MisplacedFlag(const char* const (&flags)[N], const char* owner,
                          const char* command,
                          const std::set<std::string>& given) {
  for (const char* name : flags) {
    if (given.count(name) > 0) {
      return absl::StrCat("--", name, " applies to ", owner, ", not '",
                          command, "'");
    }
  }
  return "";
}

int Inspect(const std::vector<char*>& args,
            const std::set<std::string>& given) {
  const std::string misplaced = MisplacedFlag(
      kGenerateFlags, "'generate'", "inspect", given) + MisplacedFlag(
      kRecordsFlags, "'ingest' and 'months'", "inspect", given);
  if (!misplaced.empty()) return UsageError(misplaced);
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
  // "--extra-months" is "--extra_months".
  std::vector<std::string> normalized = recsys::NormalizeFlagNames(argc, argv);
  std::vector<char*> argv2 = recsys::ArgvPointers(normalized);
  argc = static_cast<int>(normalized.size());
  argv = argv2.data();
  std::set<std::string> given;
  const std::string flag_error = CheckFlagArguments(argc, argv, &given);
  if (!flag_error.empty()) return UsageError(flag_error);
  const std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  if (args.size() < 2)
    return UsageError(
        "missing command: 'generate', 'inspect', 'ingest' or 'months'");
  const absl::string_view command = args[1];
  if (command == "generate") {
    const std::string misplaced = MisplacedFlag(
        kRecordsFlags, "'ingest' and 'months'", "generate", given);
    if (!misplaced.empty()) return UsageError(misplaced);
    return Generate(args);
  }
  if (command == "inspect") return Inspect(args, given);
  if (command == "ingest" || command == "months") {
    const std::string misplaced =
        MisplacedFlag(kGenerateFlags, "'generate'", args[1], given);
    if (!misplaced.empty()) return UsageError(misplaced);
    if (command == "months") {
      if (args.size() > 2)
        return UsageError(absl::StrCat("unexpected argument '", args[2], "'"));
      return recsys::RunMonthsCommand(absl::GetFlag(FLAGS_db), std::cout,
                                      std::cerr);
    }
    return recsys::RunIngestCommand(
        absl::GetFlag(FLAGS_db),
        std::vector<std::string>(args.begin() + 2, args.end()), std::cout,
        std::cerr);
  }
  return UsageError(absl::StrCat(
      "unknown command '", command,
      "' (expected 'generate', 'inspect', 'ingest' or 'months')"));
}
