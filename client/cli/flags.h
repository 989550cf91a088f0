// The flags of the `recsys` program; defined in flags.cc.
#ifndef RECSYS_CLIENT_CLI_FLAGS_H_
#define RECSYS_CLIENT_CLI_FLAGS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/flags/declare.h"

ABSL_DECLARE_FLAG(std::string, server);
ABSL_DECLARE_FLAG(double, deadline_seconds);
ABSL_DECLARE_FLAG(std::string, tls_ca);
ABSL_DECLARE_FLAG(std::string, tls_cert);
ABSL_DECLARE_FLAG(std::string, tls_key);
ABSL_DECLARE_FLAG(std::string, tls_server_name);
ABSL_DECLARE_FLAG(std::string, admin_token_file);
ABSL_DECLARE_FLAG(std::string, input);
ABSL_DECLARE_FLAG(std::string, output);
ABSL_DECLARE_FLAG(std::string, errors);
ABSL_DECLARE_FLAG(int32_t, batch_rows);
ABSL_DECLARE_FLAG(int32_t, window);
ABSL_DECLARE_FLAG(double, retry_for_seconds);
ABSL_DECLARE_FLAG(double, connect_timeout_seconds);
ABSL_DECLARE_FLAG(bool, progress);
ABSL_DECLARE_FLAG(double, progress_seconds);
ABSL_DECLARE_FLAG(int32_t, k);
ABSL_DECLARE_FLAG(std::string, csv_line);
ABSL_DECLARE_FLAG(std::string, header);
ABSL_DECLARE_FLAG(std::string, history);
ABSL_DECLARE_FLAG(bool, explain);
ABSL_DECLARE_FLAG(int32_t, explain_features);
ABSL_DECLARE_FLAG(std::string, model_version);
ABSL_DECLARE_FLAG(double, share);
ABSL_DECLARE_FLAG(std::string, service);
ABSL_DECLARE_FLAG(std::string, submission);
ABSL_DECLARE_FLAG(std::string, truth);
ABSL_DECLARE_FLAG(std::string, db);
ABSL_DECLARE_FLAG(std::string, month);

namespace recsys {

// Names of the 24 customer field flags (string flags named after the test
// file's columns: --age, --renta, ...); read them with
// absl::FindCommandLineFlag(name)->CurrentValue().
const std::vector<std::string>& CustomerFieldFlags();

}  // namespace recsys

#endif  // RECSYS_CLIENT_CLI_FLAGS_H_
