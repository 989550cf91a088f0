#include "server/command_line.h"

#include <algorithm>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace recsys {
namespace {

void AppendWrapped(absl::string_view text, absl::string_view indent,
                   std::string* out) {
  std::string line(indent);
  for (absl::string_view word : absl::StrSplit(text, ' ', absl::SkipEmpty())) {
    if (line.size() > indent.size() && line.size() + 1 + word.size() > 80) {
      absl::StrAppend(out, line, "\n");
      line = std::string(indent);
    }
    if (line.size() > indent.size()) line.push_back(' ');
    line.append(word.data(), word.size());
  }
  absl::StrAppend(out, line, "\n");
}

}  // namespace

std::vector<char*> DashedFlagsToAbseil(int argc, char** argv,
                                       std::vector<std::string>* storage) {
  storage->assign(argv, argv + argc);
  bool flags_over = false;
  for (size_t i = 1; i < storage->size(); ++i) {
    std::string& arg = (*storage)[i];
    if (arg == "--") flags_over = true;
    if (flags_over || arg.size() < 2 || arg[0] != '-') continue;
    const size_t start = arg[1] == '-' ? 2 : 1;
    const size_t end = std::min(arg.find('='), arg.size());
    std::replace(arg.begin() + start, arg.begin() + end, '-', '_');
  }
  std::vector<char*> out;
  for (std::string& arg : *storage) out.push_back(arg.data());
  return out;
}

bool WantsHelp(const std::vector<char*>& args) {
  for (size_t i = 1; i < args.size(); ++i) {
    const absl::string_view arg = args[i];
    if (arg == "--") return false;
    if (arg == "-h" || arg == "--help" || arg == "-help" ||
        arg == "--helpfull" || arg == "--helpshort") {
      return true;
    }
  }
  return false;
}

std::string ServerHelp(absl::string_view usage,
                       const std::vector<std::string>& flag_names) {
  std::string out = absl::StrCat(
      usage, "\n\nFlags (--flag-name and --flag_name both work):\n");
  for (const std::string& name : flag_names) {
    const absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    if (flag == nullptr) continue;
    std::string dashed = name;
    std::replace(dashed.begin(), dashed.end(), '_', '-');
    absl::StrAppend(
        &out, "  --", dashed, " (default: ",
        flag->DefaultValue().empty() ? "none" : flag->DefaultValue(), ")\n");
    AppendWrapped(flag->Help(), "      ", &out);
  }
  return out;
}

}  // namespace recsys
