#include "server/event_log.h"

#include <unistd.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace recsys {

void LogEvent(absl::string_view line) {
  std::string text =
      absl::StrCat(absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(),
                                    absl::UTCTimeZone()),
                   " recsys-server: ", line);
  text.push_back('\n');
  (void)!::write(STDERR_FILENO, text.data(), text.size());
}

}  // namespace recsys
