#include "server/history_events.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/date.h"
#include "server/event_log.h"

namespace recsys {

void HistoryEvents::OnHistoryServing(const HistoryVersion& version,
                                     int previous, absl::Duration took) {
  metrics_->HistoryLoad(true);
  metrics_->HistoryServing(version.manifest.month);
  LogEvent(absl::StrFormat(
      "history %s loaded in %.2fs (%d customers, from %s) and serving%s",
      version.manifest.month, absl::ToDoubleSeconds(took),
      version.manifest.customers, version.manifest.source,
      previous == 0 ? ""
      : previous == version.month
          ? " (republished)"
          : absl::StrCat(" (was ", MonthName(previous), ")")));
  if (on_serving_) on_serving_(version);
}

void HistoryEvents::OnHistoryLoadFailed(int month, const absl::Status& status) {
  metrics_->HistoryLoad(false);
  LogEvent(absl::StrCat("history ", MonthName(month),
                        " FAILED (the history serving stays): ",
                        status.ToString()));
}

void HistoryEvents::OnHistoryNotice(const std::string& text) {
  LogEvent(absl::StrCat("history store: ", text));
}

}  // namespace recsys
