// `recsys`: the command-line client of recsys-server. main() only picks the
// subcommand, parses its flags and calls it (client/cli/commands.h).
#include <unistd.h>

#include <functional>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "client/cli/args.h"
#include "client/cli/bench_flags.h"
#include "client/cli/commands.h"
#include "client/cli/flags.h"

namespace recsys {
namespace {

struct Subcommand {
  std::string name;
  std::string summary;  // one line for `recsys --help`
  std::string usage;
  std::string description;  // for a newcomer
  std::vector<std::string> flags;
  // Runs with the parsed flags and the positional arguments.
  std::function<int(const std::vector<std::string>&)> run;
  std::map<std::string, std::string> aliases = {{"version", "model_version"}};
};

ClientOptions ClientFromFlags(absl::Duration default_deadline) {
  ClientOptions options;
  options.server = absl::GetFlag(FLAGS_server);
  const double seconds = absl::GetFlag(FLAGS_deadline_seconds);
  options.deadline = seconds > 0 ? absl::Seconds(seconds) : default_deadline;
  options.reload_deadline =
      seconds > 0 ? absl::Seconds(seconds) : absl::Seconds(120);
  options.tls_ca_file = absl::GetFlag(FLAGS_tls_ca);
  options.tls_cert_file = absl::GetFlag(FLAGS_tls_cert);
  options.tls_key_file = absl::GetFlag(FLAGS_tls_key);
  options.tls_server_name = absl::GetFlag(FLAGS_tls_server_name);
  options.admin_token_file = absl::GetFlag(FLAGS_admin_token_file);
  return options;
}

int Score(const std::vector<std::string>&) {
  ScoreCommandOptions options;
  options.client = ClientFromFlags(absl::Seconds(10));
  options.input = absl::GetFlag(FLAGS_input);
  options.output = absl::GetFlag(FLAGS_output);
  options.errors = absl::GetFlag(FLAGS_errors);
  options.batch.batch_rows = absl::GetFlag(FLAGS_batch_rows);
  options.batch.window = absl::GetFlag(FLAGS_window);
  options.batch.k = absl::GetFlag(FLAGS_k);
  options.batch.retry_for =
      absl::Seconds(absl::GetFlag(FLAGS_retry_for_seconds));
  const double deadline = absl::GetFlag(FLAGS_deadline_seconds);
  options.batch.stall_timeout = absl::Seconds(deadline > 0 ? deadline : 60);
  options.connect_timeout =
      absl::Seconds(absl::GetFlag(FLAGS_connect_timeout_seconds));
  options.progress_bar = absl::GetFlag(FLAGS_progress) && isatty(STDERR_FILENO);
  return RunScore(options, std::cout, std::cerr);
}

int Recommend(const std::vector<std::string>&) {
  RecommendCommandOptions options;
  options.client = ClientFromFlags(absl::Seconds(10));
  for (const std::string& field : CustomerFieldFlags()) {
    std::string value = absl::FindCommandLineFlag(field)->CurrentValue();
    if (!value.empty()) options.fields[field] = value;
  }
  options.csv_line = absl::GetFlag(FLAGS_csv_line);
  options.header = absl::GetFlag(FLAGS_header);
  options.history = absl::GetFlag(FLAGS_history);
  options.k = absl::GetFlag(FLAGS_k);
  return RunRecommend(options, std::cout, std::cerr);
}

int Bench(const std::vector<std::string>&) {
  BenchCommandOptions options;
  options.client = ClientFromFlags(absl::Seconds(10));
  options.mode = absl::GetFlag(FLAGS_mode);
  options.input = absl::GetFlag(FLAGS_input);
  options.concurrency = absl::GetFlag(FLAGS_concurrency);
  options.duration = absl::Seconds(absl::GetFlag(FLAGS_duration_seconds));
  options.requests = absl::GetFlag(FLAGS_requests);
  options.rate = absl::GetFlag(FLAGS_rate);
  options.json = absl::GetFlag(FLAGS_json);
  options.batch.batch_rows = absl::GetFlag(FLAGS_batch_rows);
  options.batch.window = absl::GetFlag(FLAGS_window);
  options.batch.k = absl::GetFlag(FLAGS_k);
  options.batch.retry_for =
      absl::Seconds(absl::GetFlag(FLAGS_retry_for_seconds));
  options.batch.use_arenas = absl::GetFlag(FLAGS_arenas);
  options.connect_timeout =
      absl::Seconds(absl::GetFlag(FLAGS_connect_timeout_seconds));
  return RunBench(options, std::cout, std::cerr);
}

const std::vector<Subcommand>& Subcommands() {
  const std::vector<std::string> client_flags = {
      "server",   "deadline_seconds", "tls_ca",
      "tls_cert", "tls_key",          "tls_server_name"};
  auto with_client = [&](std::vector<std::string> flags) {
    flags.insert(flags.begin(), client_flags.begin(), client_flags.end());
    return flags;
  };
  std::vector<std::string> recommend_flags =
      with_client({"csv_line", "header", "history", "k"});
  recommend_flags.insert(recommend_flags.end(), CustomerFieldFlags().begin(),
                         CustomerFieldFlags().end());
  static const auto* const kSubcommands = new std::vector<Subcommand>{
      {"score", "Score a whole raw file into a Kaggle submission.",
       "recsys score --server HOST:PORT --input test_ver2.csv --output "
       "submission.csv\n"
       "             [--errors errors.csv] [--batch-rows 256] [--window 8] "
       "[--k 7]\n"
       "             [--retry-for-seconds 60] [--deadline-seconds 60]",
       "Reads every customer row of --input (the Kaggle test_ver2.csv layout, "
       "ISO or\n"
       "spreadsheet dates), streams the rows to the server in batches, and "
       "writes the\n"
       "recommended products of each customer to --output in the Kaggle "
       "submission\n"
       "format (`ncodpers,added_products`, rows in input order).\n\n"
       "Every input row ends in exactly one of the two files: a row that "
       "cannot be\n"
       "scored (unreadable in the file, e.g. text that is not UTF-8 or a line "
       "over\n"
       "4 MiB; refused by the server; a customer already on an earlier line; "
       "or given\n"
       "up) is written to the errors file with its line number, customer code "
       "and\n"
       "reason. The submission has one line per customer, the first row of "
       "each.\n"
       "If the server is unreachable, restarts or the connection breaks, the "
       "client\n"
       "reconnects with exponential backoff for up to --retry-for-seconds "
       "without an\n"
       "answer and resends only the rows not yet answered. A progress bar is "
       "shown\n"
       "when stderr is a terminal; a summary line (rows, failures, retries, "
       "rows/s)\n"
       "always.\n\n"
       "Exit status: 0 every row scored; 1 some rows are in the errors file; 2 "
       "bad\n"
       "flags, unreadable input (an I/O error names the line), or the server "
       "could not\n"
       "be reached.",
       with_client({"input", "output", "errors", "batch_rows", "window", "k",
                    "retry_for_seconds", "connect_timeout_seconds", "progress"}),
       Score},
      {"recommend",
       "Recommend products for one customer and print them as a table.",
       "recsys recommend --server HOST:PORT --ncodpers 15889 --age 56 --renta "
       "326124.9 ...\n"
       "recsys recommend --server HOST:PORT --csv-line \"<a line of "
       "test_ver2.csv>\"\n"
       "                 [--header \"<its header line>\"] [--history "
       "\"1:ind_cco_fin_ult1\"]",
       "Describe the customer either with one flag per field (named after the "
       "Kaggle\n"
       "columns: --ncodpers, --age, --sexo, --renta, --segmento, ...; fields "
       "not given\n"
       "are missing, as \"NA\" in the files) or with --csv-line, a data line "
       "copied\n"
       "from a raw file (by default in the 24-column test_ver2.csv layout; "
       "give\n"
       "--header for another layout). Values are written as in the files.\n\n"
       "The server looks up the customer's recent products in its history "
       "store,\n"
       "unless --history gives them. The table shows the top --k products the\n"
       "customer did not own last month, best first, with the model's score, "
       "and\n"
       "the model version that answered.\n\n"
       "Exit status: 0 ok; 1 the server refused the request (e.g. an invalid "
       "field,\n"
       "named in the message); 2 bad flags or the server could not be reached.",
       recommend_flags, Recommend},
      {"info", "Describe the model that is serving (or --version V).",
       "recsys info --server HOST:PORT [--version V]",
       "Prints the serving model's name and version, its feature spec hash "
       "and\n"
       "number of features, the months it was trained and validated on, its\n"
       "validation MAP@7 next to the popularity baseline and the ceiling, the "
       "month\n"
       "of its product-history snapshot, and when it was created and loaded.",
       with_client({"model_version"}),
       [](const std::vector<std::string>&) {
         return RunInfo(ClientFromFlags(absl::Seconds(10)),
                        absl::GetFlag(FLAGS_model_version), std::cout,
                        std::cerr);
       }},
      {"versions", "List the model versions the server knows and their states.",
       "recsys versions --server HOST:PORT",
       "One line per version in the model store: LOADING, READY, SERVING, "
       "FAILED\n"
       "(with the reason) or UNLOADED; whether it is pinned; when it was "
       "loaded.",
       with_client({"admin_token_file"}),
       [](const std::vector<std::string>&) {
         return RunVersions(ClientFromFlags(absl::Seconds(10)), std::cout,
                            std::cerr);
       }},
      {"reload", "Make the server scan its model store now.",
       "recsys reload --server HOST:PORT",
       "New versions are loaded, validated and warmed; under the `latest` "
       "policy the\n"
       "newest good one starts serving. A broken version is marked FAILED with "
       "its\n"
       "reason and the serving version stays. Prints what changed.",
       with_client({"admin_token_file"}),
       [](const std::vector<std::string>&) {
         return RunReload(ClientFromFlags(absl::Seconds(120)), std::cout,
                          std::cerr);
       }},
      {"pin", "Serve one version from now on, whatever newer versions appear.",
       "recsys pin --server HOST:PORT --version V",
       "Pins version V (see `recsys versions`): it serves until `recsys "
       "unpin`.",
       with_client({"model_version", "admin_token_file"}),
       [](const std::vector<std::string>& positional) {
         std::string version = absl::GetFlag(FLAGS_model_version);
         if (version.empty() && positional.size() == 1) version = positional[0];
         return RunPin(ClientFromFlags(absl::Seconds(10)), version, std::cout,
                       std::cerr);
       }},
      {"unpin",
       "Return to the `latest` policy: the newest good version serves.",
       "recsys unpin --server HOST:PORT",
       "Undoes `recsys pin` and `recsys rollback`.",
       with_client({"admin_token_file"}),
       [](const std::vector<std::string>&) {
         return RunUnpin(ClientFromFlags(absl::Seconds(10)), std::cout,
                         std::cerr);
       }},
      {"rollback", "Serve the previous good version again (and pin it).",
       "recsys rollback --server HOST:PORT",
       "Goes back to the version that served before the current one and pins "
       "it, so\n"
       "that the next store scan does not bring back the version rolled back "
       "from.\n"
       "`recsys unpin` returns to the newest version.",
       with_client({"admin_token_file"}),
       [](const std::vector<std::string>&) {
         return RunRollback(ClientFromFlags(absl::Seconds(10)), std::cout,
                            std::cerr);
       }},
      {"evaluate",
       "MAP@7 of a submission against a truth file, as Kaggle scores it.",
       "recsys evaluate --submission submission.csv --truth test_truth.csv\n"
       "recsys evaluate --submission submission.csv --db records.db --month "
       "2016-06",
       "For each customer of the truth file, the products added (owned now, "
       "not\n"
       "owned last month) are compared with the submission's ranked products:\n"
       "average precision at 7, averaged over every customer of the truth "
       "file\n"
       "(customers who added nothing score 0, as on Kaggle). Runs offline.\n"
       "With --db and --month the truth is the month's customers in the "
       "records\n"
       "database and the products each added versus the month before.",
       {"submission", "truth", "db", "month"},
       [](const std::vector<std::string>&) {
         if (!absl::GetFlag(FLAGS_db).empty() ||
             !absl::GetFlag(FLAGS_month).empty()) {
           return RunEvaluateMonth(
               absl::GetFlag(FLAGS_submission), absl::GetFlag(FLAGS_truth),
               absl::GetFlag(FLAGS_db), absl::GetFlag(FLAGS_month), std::cout,
               std::cerr);
         }
         return RunEvaluate(absl::GetFlag(FLAGS_submission),
                            absl::GetFlag(FLAGS_truth), std::cout, std::cerr);
       }},
      {"bench", "Load-test a server: throughput, latency percentiles, errors.",
       "recsys bench --server HOST:PORT --input test_ver2.csv [--mode unary]\n"
       "             [--concurrency 1] [--duration-seconds 10 | --requests N]\n"
       "             [--rate CALLS_PER_S] [--json results.json]\n"
       "recsys bench --server HOST:PORT --input test_ver2.csv --mode stream\n"
       "             [--concurrency 1] [--batch-rows 256] [--window 8] "
       "[--requests ROWS]",
       "Sends the customers of --input (rows of a test_ver2.csv file) to a "
       "running\n"
       "server and measures it.\n\n"
       "--mode unary: --concurrency threads each call Recommend for one "
       "customer and\n"
       "wait for the answer, for --duration-seconds (default 10) or "
       "--requests calls\n"
       "(the first 100000 rows of --input are used in turn). Every call's "
       "latency is\n"
       "recorded; the percentiles printed are exact. With --rate the load is "
       "an open\n"
       "loop: one call is started every 1/rate seconds whatever the earlier "
       "ones are\n"
       "doing (at most --concurrency in flight), and latency counts from when "
       "each\n"
       "call was due, so queueing in a slow server shows.\n\n"
       "--mode stream: --concurrency RecommendStream runs, each scoring "
       "--input from\n"
       "the start exactly as `recsys score` does (answers are discarded); "
       "prints\n"
       "rows per second.\n\n"
       "Both print rows scored, rows/s, this client's CPU time, and errors "
       "by status\n"
       "code; --json writes the same numbers to a file. Run it on an idle "
       "machine:\n"
       "the client's CPU use competes with a server on the same host.\n\n"
       "Exit status: 0 no errors; 1 some calls or rows failed; 2 bad flags, "
       "unreadable\n"
       "input, or the server could not be reached.",
       with_client({"mode", "input", "concurrency", "duration_seconds",
                    "requests", "rate", "json", "k", "batch_rows", "window",
                    "retry_for_seconds", "arenas", "connect_timeout_seconds"}),
       Bench},
  };
  return *kSubcommands;
}

// Wraps `text` at 76 columns with `indent` spaces.
std::string Wrap(const std::string& text, int indent) {
  std::string out(indent, ' ');
  int column = indent;
  for (absl::string_view word : absl::StrSplit(text, ' ', absl::SkipEmpty())) {
    if (column > indent && column + 1 + static_cast<int>(word.size()) > 76) {
      out.push_back('\n');
      out.append(indent, ' ');
      column = indent;
    } else if (column > indent) {
      out += ' ';
      ++column;
    }
    out.append(word.data(), word.size());
    column += static_cast<int>(word.size());
  }
  return out;
}

void PrintHelp(const Subcommand& sub, std::ostream& out) {
  out << "recsys " << sub.name << ": " << sub.summary << "\n\nUsage:\n  "
      << absl::StrJoin(absl::StrSplit(sub.usage, '\n'), "\n  ") << "\n\n"
      << sub.description << "\n";
  if (!sub.flags.empty())
    out << "\nFlags (--name=value or --name value; - and _ are the same in "
           "names):\n";
  for (const std::string& name : sub.flags) {
    const absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    out << "  --" << absl::StrReplaceAll(name, {{"_", "-"}});
    if (!flag->DefaultValue().empty())
      out << " (default " << flag->DefaultValue() << ")";
    out << "\n" << Wrap(flag->Help(), 6) << "\n";
  }
}

void PrintOverview(std::ostream& out) {
  out << "recsys: the command-line client of the Santander product "
         "recommender\n"
         "(recsys-server): batch-score a month of customers into a Kaggle\n"
         "submission, ask for one customer's recommendations, evaluate MAP@7,\n"
         "and operate the server's model versions.\n\n"
         "Usage: recsys SUBCOMMAND [flags]   (recsys SUBCOMMAND --help for "
         "details)\n\n"
         "Subcommands:\n";
  for (const Subcommand& sub : Subcommands()) {
    out << "  " << sub.name << std::string(11 - sub.name.size(), ' ')
        << sub.summary << "\n";
  }
  out << "\nExit status: 0 success, 1 partial or refused work, 2 usage error "
         "or\n"
         "server unreachable.\n";
}

int Main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    PrintOverview(std::cerr);
    return kExitUsage;
  }
  std::string name = args[0];
  args.erase(args.begin());
  if (name == "help" || name == "--help" || name == "-h" ||
      name == "--helpfull") {
    name = args.empty() ? "" : args[0];
    args = {"--help"};
    if (name.empty()) {
      PrintOverview(std::cout);
      return kExitOk;
    }
  }
  for (const Subcommand& sub : Subcommands()) {
    if (sub.name != name) continue;
    if (WantsHelp(args)) {
      PrintHelp(sub, std::cout);
      return kExitOk;
    }
    absl::StatusOr<std::vector<std::string>> positional =
        ParseSubcommandFlags(args, sub.flags, sub.aliases);
    if (!positional.ok()) {
      std::cerr << "recsys " << name << ": " << positional.status().message()
                << "\n";
      return kExitUsage;
    }
    if (!positional->empty() && !(name == "pin" && positional->size() == 1)) {
      std::cerr << "recsys " << name << ": unexpected argument \""
                << (*positional)[0] << "\" (see recsys " << name
                << " --help)\n";
      return kExitUsage;
    }
    return sub.run(*positional);
  }
  std::cerr << "recsys: unknown subcommand \"" << name
            << "\" (see recsys --help)\n";
  return kExitUsage;
}

}  // namespace
}  // namespace recsys

int main(int argc, char** argv) {
  // Debian's abseil is built with Mutex deadlock detection on, which tracks
  // lock order on every lock (GraphCycles, ~1% of CPU under load in perf).
  // Our lock order is checked at compile time (make tsa) and by TSAN tests.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  return recsys::Main(argc, argv);
}
