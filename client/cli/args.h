// Command-line parsing for the subcommands of `recsys`.
//
// Flags are ordinary abseil flags (ABSL_FLAG, absl::GetFlag); this parser
// only decides which of them a subcommand accepts, so that
// `recsys score --age 3` is a usage error instead of a silently ignored flag,
// and so that usage errors return instead of exiting.
//
//   absl::StatusOr<std::vector<std::string>> positional = ParseSubcommandFlags(
//       {"--batch-rows", "64", "--output=out.csv"}, {"batch_rows", "output"},
//       {});
#ifndef RECSYS_CLIENT_CLI_ARGS_H_
#define RECSYS_CLIENT_CLI_ARGS_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace recsys {

// Sets the abseil flags named in `args`: "--name=value", "--name value",
// "--name" / "--noname" for booleans; "-" or "--" prefixes; dashes in a name
// read as underscores (--batch-rows = --batch_rows). `aliases` renames flags
// first (e.g. {"version", "model_version"}). Everything after "--" and every
// argument not starting with "-" is positional. Returns the positional
// arguments, or INVALID_ARGUMENT naming the flag that is unknown, not in
// `allowed`, missing its value, or given a value its type rejects.
absl::StatusOr<std::vector<std::string>> ParseSubcommandFlags(
    const std::vector<std::string>& args,
    const std::vector<std::string>& allowed,
    const std::map<std::string, std::string>& aliases);

// True when `args` asks for help: -h, --help, -help, or --helpfull.
bool WantsHelp(const std::vector<std::string>& args);

}  // namespace recsys

#endif  // RECSYS_CLIENT_CLI_ARGS_H_
