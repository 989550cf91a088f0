#include "common/flag_util.h"

#include "gtest/gtest.h"

namespace recsys {
namespace {

std::vector<std::string> Normalize(std::vector<std::string> args) {
  std::vector<char*> argv = ArgvPointers(args);
  return NormalizeFlagNames(static_cast<int>(args.size()), argv.data());
}

TEST(NormalizeFlagNames, TurnsDashesInFlagNamesIntoUnderscores) {
  EXPECT_EQ(Normalize({"prog", "--feature-spec", "a-b.json", "--max-rounds=5"}),
            (std::vector<std::string>{"prog", "--feature_spec", "a-b.json", "--max_rounds=5"}));
}

TEST(NormalizeFlagNames, LeavesValuesAndPositionalArgumentsAlone) {
  EXPECT_EQ(Normalize({"prog", "--grid=max-depth=4", "file-name.csv", "--", "--not-a-flag"}),
            (std::vector<std::string>{"prog", "--grid=max-depth=4", "file-name.csv", "--",
                                      "--not-a-flag"}));
}

}  // namespace
}  // namespace recsys
