#include "server/log_throttle.h"

#include <google/protobuf/stubs/logging.h>
#include <grpc/support/log.h>

#include "absl/strings/str_cat.h"
#include "server/event_log.h"

namespace recsys {

bool LogThrottle::Allow(absl::Time now,
                        std::optional<std::string>* dropped_note) {
  absl::MutexLock lock(&mu_);
  if (now - window_start_ >= window_) {
    if (dropped_ > 0) {
      *dropped_note = absl::StrCat(dropped_, " similar lines dropped in the last ",
                                   absl::FormatDuration(window_),
                                   " (at most ", max_lines_, " are logged)");
    }
    window_start_ = now;
    lines_ = 0;
    dropped_ = 0;
  }
  if (lines_ < max_lines_) {
    ++lines_;
    return true;
  }
  ++dropped_;
  ++dropped_total_;
  return false;
}

int64_t LogThrottle::dropped_total() const {
  absl::MutexLock lock(&mu_);
  return dropped_total_;
}

namespace {

void Throttled(LogThrottle& throttle, absl::string_view source,
               absl::string_view text) {
  std::optional<std::string> note;
  const bool allow = throttle.Allow(absl::Now(), &note);
  if (note.has_value()) LogEvent(absl::StrCat(source, ": ", *note));
  if (allow) LogEvent(absl::StrCat(source, ": ", text));
}

LogThrottle& ProtobufThrottle() {
  static auto* throttle = new LogThrottle(10, absl::Minutes(1));
  return *throttle;
}

LogThrottle& GrpcThrottle() {
  static auto* throttle = new LogThrottle(10, absl::Minutes(1));
  return *throttle;
}

void ProtobufLog(google::protobuf::LogLevel level, const char* filename,
                 int line, const std::string& message) {
  static const char* const kLevels[] = {"INFO", "WARNING", "ERROR", "FATAL"};
  const int index = static_cast<int>(level);
  Throttled(ProtobufThrottle(), "libprotobuf",
            absl::StrCat(index >= 0 && index < 4 ? kLevels[index] : "?", " ",
                         message));
}

void GrpcLog(gpr_log_func_args* args) {
  Throttled(GrpcThrottle(), "grpc",
            absl::StrCat(gpr_log_severity_string(args->severity), " ",
                         args->message));
}

}  // namespace

void InstallLibraryLogHandlers() {
  google::protobuf::SetLogHandler(&ProtobufLog);
  gpr_set_log_function(&GrpcLog);
}

}  // namespace recsys
