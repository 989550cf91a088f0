// The flags of the `recsys` program (abseil flags). Which subcommand accepts
// which flag is decided in main.cc; a flag's help text is shown by
// `recsys SUBCOMMAND --help`.
#include "client/cli/flags.h"

#include <string>

#include "absl/flags/flag.h"
#include "common/raw_columns.h"
#include "common/progress.h"

// --- every subcommand that talks to a server ---
ABSL_FLAG(std::string, server, "127.0.0.1:50051",
          "HOST:PORT of the recsys-server to talk to.");
ABSL_FLAG(double, deadline_seconds, 0,
          "Time limit in seconds. For score: how long a batch of rows may go "
          "unanswered before the stream is considered broken and retried "
          "(0 = 60). For the other commands: the deadline of the call "
          "(0 = 10; reload: 120).");
ABSL_FLAG(std::string, tls_ca, "",
          "PEM file of the CA that signed the server's certificate: talk TLS "
          "to a server started with --tls-cert (see docs/security.md). "
          "Default: plaintext.");
ABSL_FLAG(std::string, tls_cert, "",
          "PEM file of this client's certificate, for a server that requires "
          "mutual TLS (--tls-client-ca). Goes with --tls-key.");
ABSL_FLAG(std::string, tls_key, "",
          "PEM file of the private key of --tls-cert.");
ABSL_FLAG(std::string, tls_server_name, "",
          "Name the server's certificate must carry when it differs from the "
          "host in --server (e.g. --server 10.0.0.7:50051 --tls-server-name "
          "recsys-server).");

// --- versions, reload, pin, unpin, rollback ---
ABSL_FLAG(std::string, admin_token_file, "",
          "File holding the admin token of the server (its "
          "--admin-token-file); sent as \"authorization: Bearer <token>\" with "
          "admin calls. Not needed when the server accepts this client's "
          "certificate (--admin-client-names).");

// --- score ---
ABSL_FLAG(std::string, input, "",
          "Raw Santander CSV to score (test_ver2.csv layout; a train file "
          "works too). Required.");
ABSL_FLAG(std::string, output, "",
          "Kaggle submission to write: `ncodpers,added_products`, one line per "
          "scored row, in input order. Required.");
ABSL_FLAG(std::string, errors, "",
          "Where rows that could not be scored go (line,ncodpers,reason). "
          "Default: the --output path with .csv replaced by .errors.csv.");
ABSL_FLAG(int32_t, batch_rows, 256, "Rows per request message.");
ABSL_FLAG(int32_t, window, 8,
          "Request messages' worth of rows that may be unanswered at once "
          "(rows in flight <= batch_rows * window).");
ABSL_FLAG(double, retry_for_seconds, 60,
          "How long to keep reconnecting, with exponential backoff (0.2 s "
          "doubling up to 5 s), when the server is unreachable or the stream "
          "breaks (server restarting, connection lost), counted from the last "
          "row answered. The rows not yet answered are resent, none twice. "
          "Errors that would repeat (a bad request) are not retried. After "
          "this long without an answer the remaining rows are given up.");
ABSL_FLAG(double, connect_timeout_seconds, 10,
          "How long to wait for the server before giving up (exit status 2).");
ABSL_FLAG(bool, progress, true,
          "Show progress on stderr: a line redrawn in place on a terminal, "
          "else a plain line every --progress-seconds.");
ABSL_FLAG(double, progress_seconds, recsys::kDefaultProgressSeconds,
          recsys::kProgressSecondsHelp);

// --- score and recommend ---
ABSL_FLAG(int32_t, k, 7, "How many products to recommend per customer, 1..24.");

// --- recommend ---
ABSL_FLAG(std::string, csv_line, "",
          "The customer as one data line of a raw file, e.g. a line of "
          "test_ver2.csv. Instead of the field flags.");
ABSL_FLAG(std::string, header, "",
          "The header line that --csv_line belongs to. Default: the 24-column "
          "test_ver2.csv header.");
ABSL_FLAG(std::string, history, "",
          "The customer's recent products, instead of what the server's "
          "history store knows: MONTHS_AGO:PRODUCT,PRODUCT;... e.g. "
          "\"1:ind_cco_fin_ult1,ind_recibo_ult1;2:ind_cco_fin_ult1\" (1 = last "
          "month; Kaggle column or English names; \"3:\" = owned nothing).");

ABSL_FLAG(bool, explain, false,
          "Also explain each recommended product: the features that moved its "
          "score most, with their values, contributions, bias and margin.");
ABSL_FLAG(int32_t, explain_features, 0,
          "With --explain: how many features to list per product, 1..64 (0: "
          "the server's default, 5); the rest are summed in one line.");

// The 24 demographic fields, as text exactly as in a test_ver2.csv cell, one
// per column of common/raw_columns.h.
#define RECSYS_FIELD_FLAG(name, Id, kind, width, api, meaning) \
  ABSL_FLAG(std::string, name, "", "Customer field " #name ": " meaning);
RECSYS_DEMOGRAPHIC_COLUMNS(RECSYS_FIELD_FLAG)
#undef RECSYS_FIELD_FLAG

// --- info, pin ---
ABSL_FLAG(std::string, model_version, "",
          "Model version (also spelled --version). pin: the version to serve; "
          "info: the version to describe (default: the serving one).");

// --- challenger ---
ABSL_FLAG(double, share, 0.1,
          "challenger set: the share of customers (by a hash of ncodpers) the "
          "challenger answers, in (0, 1].");

// --- health ---
ABSL_FLAG(std::string, service, "",
          "The grpc.health.v1 service to ask about: \"\" (readiness: a model "
          "version serves) or \"liveness\" (the process works, model or "
          "not).");

// --- evaluate ---
ABSL_FLAG(std::string, submission, "",
          "Submission to evaluate (ncodpers,added_products).");
ABSL_FLAG(std::string, truth, "",
          "Truth file (ncodpers,added_products,owned_products), e.g. the "
          "generator's test_truth.csv.");
ABSL_FLAG(std::string, db, "",
          "Records database (filled by `recsys-data ingest`) to derive the "
          "truth from, instead of --truth; with --month.");
ABSL_FLAG(std::string, month, "",
          "With --db: the month whose truth is derived, YYYY-MM (the products "
          "each of its customers added versus the month before).");

namespace recsys {

const std::vector<std::string>& CustomerFieldFlags() {
  static const auto* const kFields = [] {
    auto* fields = new std::vector<std::string>;
    for (const RawColumn& column : kRawColumns)
      fields->emplace_back(column.name);
    return fields;
  }();
  return *kFields;
}

}  // namespace recsys
