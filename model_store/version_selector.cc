#include "model_store/version_selector.h"

#include <array>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace recsys {
namespace {

using Kind = VersionSelector::Kind;

// The labels and what they select: one table for parsing and printing.
constexpr std::array<std::pair<absl::string_view, Kind>, 4> kLabels = {{
    {"serving", Kind::kServing},
    {"latest", Kind::kLatest},
    {"pinned", Kind::kPinned},
    {"challenger", Kind::kChallenger},
}};

}  // namespace

absl::StatusOr<VersionSelector> ParseVersionSelector(absl::string_view text) {
  const absl::string_view trimmed = absl::StripAsciiWhitespace(text);
  VersionSelector selector;
  if (trimmed.empty()) return selector;
  for (const auto& [label, kind] : kLabels) {
    if (trimmed == label) {
      selector.kind = kind;
      return selector;
    }
  }
  // Digits only: SimpleAtoi alone would take "+3" and " 3".
  bool digits = true;
  for (char c : trimmed) digits = digits && absl::ascii_isdigit(c);
  int64_t number = 0;
  if (digits && absl::SimpleAtoi(trimmed, &number) && number > 0) {
    selector.kind = Kind::kNumber;
    selector.number = number;
    return selector;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "must be a version number (e.g. \"3\") or one of \"serving\", "
      "\"latest\", \"pinned\", \"challenger\"; \"\" for the routed version; "
      "got \"",
      absl::Utf8SafeCEscape(text), "\""));
}

std::string VersionSelectorText(const VersionSelector& selector) {
  if (selector.kind == Kind::kNumber) return absl::StrCat(selector.number);
  for (const auto& [label, kind] : kLabels) {
    if (selector.kind == kind) return std::string(label);
  }
  return "";
}

}  // namespace recsys
