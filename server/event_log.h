// One line per server event on stderr, with a UTC timestamp:
//
//   2016-06-28T10:15:02.123Z recsys-server: listening on 127.0.0.1:50051
//
//   LogEvent(absl::StrCat("model version ", v, " loaded in ", secs, "s"));
//
// Thread-safe: each line is written with a single write(2), so lines from
// different threads never interleave.
#ifndef RECSYS_SERVER_EVENT_LOG_H_
#define RECSYS_SERVER_EVENT_LOG_H_

#include "absl/strings/string_view.h"

namespace recsys {

// Writes "<UTC time> recsys-server: <line>\n" to stderr.
void LogEvent(absl::string_view line);

}  // namespace recsys

#endif  // RECSYS_SERVER_EVENT_LOG_H_
