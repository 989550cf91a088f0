// VersionSelector: which loaded model version a request names
// (RecommendRequest.model_version, RecommendStreamRequest.model_version).
//
//   ""            routed: the champion, or the challenger for a customer in
//                 its share (what every request got before versions could
//                 be named)
//   "3"           version 3
//   "serving"     the champion, never the challenger
//   "latest"      the newest version loaded
//   "pinned"      the version pinned by Pin or Rollback
//   "challenger"  the challenger
//
//   RECSYS_ASSIGN_OR_RETURN(VersionSelector selector,
//                           ParseVersionSelector(request.model_version()));
//   if (!selector.routed()) model = store->Loaded(selector);
//
// Resolving a selector against the versions in memory is
// ModelStore::Loaded. A plain value (16 bytes, no allocation): decoded once
// per request and copied freely.
#ifndef RECSYS_MODEL_STORE_VERSION_SELECTOR_H_
#define RECSYS_MODEL_STORE_VERSION_SELECTOR_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace recsys {

struct VersionSelector {
  enum class Kind : uint8_t {
    kRouted,      // ""
    kNumber,      // "3": `number`
    kServing,     // "serving"
    kLatest,      // "latest"
    kPinned,      // "pinned"
    kChallenger,  // "challenger"
  };
  Kind kind = Kind::kRouted;
  int64_t number = 0;  // the version, for kNumber; 0 otherwise

  // True for "": the server routes the customer (champion or challenger).
  bool routed() const { return kind == Kind::kRouted; }
  friend bool operator==(const VersionSelector&,
                         const VersionSelector&) = default;
};

// Parses `text` (surrounding spaces and tabs ignored): "" is routed, a
// positive decimal number a version, else one of the labels above (lower
// case). INVALID_ARGUMENT for anything else, with a message that names the
// accepted forms and quotes the text but no field (callers prefix theirs):
// `must be a version number (e.g. "3") or one of "serving", "latest",
// "pinned", "challenger"; "" for the routed version; got "-1"`.
absl::StatusOr<VersionSelector> ParseVersionSelector(absl::string_view text);

// The canonical text of `selector`: "3", "latest", ...; "" when routed.
std::string VersionSelectorText(const VersionSelector& selector);

}  // namespace recsys

#endif  // RECSYS_MODEL_STORE_VERSION_SELECTOR_H_
