#include "client/cli/args.h"

#include <algorithm>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"

namespace recsys {

absl::StatusOr<std::vector<std::string>> ParseSubcommandFlags(
    const std::vector<std::string>& args,
    const std::vector<std::string>& allowed,
    const std::map<std::string, std::string>& aliases) {
  std::vector<std::string> positional;
  for (size_t i = 0; i < args.size(); ++i) {
    absl::string_view arg = args[i];
    if (arg == "--") {
      positional.insert(positional.end(), args.begin() + i + 1, args.end());
      break;
    }
    if (arg.size() < 2 || arg[0] != '-') {
      positional.emplace_back(arg);
      continue;
    }
    if (!absl::ConsumePrefix(&arg, "--")) absl::ConsumePrefix(&arg, "-");
    std::string name(arg.substr(0, arg.find('=')));
    const bool has_value = arg.find('=') != absl::string_view::npos;
    std::string value =
        has_value ? std::string(arg.substr(arg.find('=') + 1)) : "";
    name = absl::StrReplaceAll(name, {{"-", "_"}});
    // "--noflag" for a boolean flag.
    bool negated = false;
    if (absl::StartsWith(name, "no") &&
        std::find(allowed.begin(), allowed.end(), name) == allowed.end() &&
        std::find(allowed.begin(), allowed.end(), name.substr(2)) !=
            allowed.end()) {
      name = name.substr(2);
      negated = true;
    }
    if (auto alias = aliases.find(name); alias != aliases.end())
      name = alias->second;
    absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    if (flag == nullptr ||
        std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "unknown flag --", name, " for this command (see --help)"));
    }
    if (flag->IsOfType<bool>()) {
      if (negated && has_value) {
        return absl::InvalidArgumentError(
            absl::StrCat("--no", name, " takes no value"));
      }
      if (!has_value) value = negated ? "false" : "true";
    } else if (negated) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown flag --no", name));
    } else if (!has_value) {
      if (i + 1 >= args.size()) {
        return absl::InvalidArgumentError(
            absl::StrCat("--", name, " needs a value"));
      }
      value = args[++i];
    }
    std::string error;
    if (!flag->ParseFrom(value, &error)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--", name, "=", value, ": ", error));
    }
  }
  return positional;
}

bool WantsHelp(const std::vector<std::string>& args) {
  for (const std::string& arg : args) {
    if (arg == "--") return false;
    if (arg == "-h" || arg == "--help" || arg == "-help" ||
        arg == "--helpfull") {
      return true;
    }
  }
  return false;
}

}  // namespace recsys
