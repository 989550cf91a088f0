// Command-line conventions of recsys-server on top of abseil flags: flags are
// written with dashes (--metrics-port) as well as underscores
// (--metrics_port), and --help lists the server's flags with dashes.
//
//   std::vector<char*> args = DashedFlagsToAbseil(argc, argv, &storage);
//   if (WantsHelp(args)) { std::cout << ServerHelp(kUsage, kFlagNames); return
//   0; } absl::ParseCommandLine(args.size(), args.data());
//
// Pure functions; not thread-safe only in that they read the flag registry.
#ifndef RECSYS_SERVER_COMMAND_LINE_H_
#define RECSYS_SERVER_COMMAND_LINE_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace recsys {

// argv with the name part of every "--flag-name[=value]" argument (before a
// lone "--") spelled with underscores, as abseil names flags. The strings
// live in `*storage`, which must outlive the result.
std::vector<char*> DashedFlagsToAbseil(int argc, char** argv,
                                       std::vector<std::string>* storage);

// True when an argument is -h, --help, -help, --helpfull or --helpshort.
bool WantsHelp(const std::vector<char*>& args);

// `usage`, then each flag of `flag_names` (abseil names) as "--dashed-name
// (default: X)" with its help text wrapped at 80 columns.
std::string ServerHelp(absl::string_view usage,
                       const std::vector<std::string>& flag_names);

}  // namespace recsys

#endif  // RECSYS_SERVER_COMMAND_LINE_H_
