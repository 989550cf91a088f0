// Small file helpers with Status errors. A failed system call gives the
// errno's canonical code (absl::ErrnoToStatus): NOT_FOUND for a missing file,
// PERMISSION_DENIED for EACCES / EPERM, RESOURCE_EXHAUSTED for a full disk,
// INTERNAL for EIO, ...; the message names the path and the errno's text.
//
//   RECSYS_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
//   RECSYS_RETURN_IF_ERROR(WriteFileDurably(path, text));
#ifndef RECSYS_COMMON_FILE_UTIL_H_
#define RECSYS_COMMON_FILE_UTIL_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace recsys {

// The whole contents of `path`. The errno's code (see above) when it cannot be
// opened or read.
absl::StatusOr<std::string> ReadFileToString(const std::string& path);

// Writes `contents` to `path` (replacing it) and fsyncs it. The errno's code on
// error.
absl::Status WriteFileDurably(const std::string& path, absl::string_view contents);

// Writes `contents` to `path` atomically: a temporary file beside it, synced,
// then renamed over `path`, and the directory synced. The errno's code on error
// (the temporary is removed).
absl::Status WriteFileAtomically(const std::string& path, absl::string_view contents);

// fsyncs a directory so that renames inside it are durable. The errno's code on
// error.
absl::Status SyncDirectory(const std::string& dir);

}  // namespace recsys

#endif  // RECSYS_COMMON_FILE_UTIL_H_
