// Lets programs accept "--feature-spec" as well as abseil's "--feature_spec".
//
//   int main(int argc, char** argv) {
//     std::vector<std::string> args = NormalizeFlagNames(argc, argv);
//     std::vector<char*> argv2 = ArgvPointers(args);
//     absl::ParseCommandLine(static_cast<int>(argv2.size()), argv2.data());
//   }
#ifndef RECSYS_COMMON_FLAG_UTIL_H_
#define RECSYS_COMMON_FLAG_UTIL_H_

#include <string>
#include <vector>

namespace recsys {

// A copy of argv in which every flag name ("--a-b" or "--a-b=value", up to
// the '=') has its dashes turned into underscores. Values and everything
// after a bare "--" are left alone.
std::vector<std::string> NormalizeFlagNames(int argc, char** argv);

// Pointers into `args` (which must outlive them), null-terminated as argv is.
std::vector<char*> ArgvPointers(std::vector<std::string>& args);

}  // namespace recsys

#endif  // RECSYS_COMMON_FLAG_UTIL_H_
