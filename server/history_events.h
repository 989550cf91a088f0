// HistoryEvents: the server's HistoryStoreObserver: a log line and metrics
// for every history version served or refused (model_store/history_store.h).
//
//   HistoryEvents events(metrics);
//   RECSYS_ASSIGN_OR_RETURN(auto history,
//                           HistoryStore::Create(options, &events));
//
// Thread-safe (the metrics are; LogEvent writes whole lines).
#ifndef RECSYS_SERVER_HISTORY_EVENTS_H_
#define RECSYS_SERVER_HISTORY_EVENTS_H_

#include <functional>
#include <string>

#include "model_store/history_store.h"
#include "server/metrics.h"

namespace recsys {

class HistoryEvents final : public HistoryStoreObserver {
 public:
  // `metrics` is borrowed and must outlive this. `on_serving` (may be
  // empty) runs after each version served is logged, on the loading thread
  // (the server evaluates realized quality there: server/realized_quality.h).
  explicit HistoryEvents(
      ServerMetrics* metrics,
      std::function<void(const HistoryVersion&)> on_serving = {})
      : metrics_(metrics), on_serving_(std::move(on_serving)) {}

  void OnHistoryServing(const HistoryVersion& version, int previous,
                        absl::Duration took) override;
  void OnHistoryLoadFailed(int month, const absl::Status& status) override;
  void OnHistoryNotice(const std::string& text) override;

 private:
  ServerMetrics* const metrics_;
  const std::function<void(const HistoryVersion&)> on_serving_;
};

}  // namespace recsys

#endif  // RECSYS_SERVER_HISTORY_EVENTS_H_
