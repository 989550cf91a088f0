// What the server does when the model store loads, refuses or swaps a model
// version: one log line per event, the model metrics, and the health state
// (a callback that turns health SERVING once a version serves); loads,
// failures, swaps and challenger changes are also kept in a bounded
// ReloadHistory (server/reload_history.h) for the web console.
//
//   ModelEvents events(metrics, [this] { OnModelServing(); });
//   ModelStore::Create(store_options, events.WrapLoader(LoadModelVersion),
//   &events);
//
// Thread-safe (the store calls it from whichever thread loads).
#ifndef RECSYS_SERVER_MODEL_EVENTS_H_
#define RECSYS_SERVER_MODEL_EVENTS_H_

#include <cstdint>
#include <atomic>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "model_store/model_store.h"
#include "model_store/model_version.h"
#include "server/metrics.h"
#include "server/reload_history.h"

namespace recsys {

class ModelEvents final : public ModelStoreObserver {
 public:
  // `metrics` must outlive this object; `on_serving` runs after each swap
  // (may be empty).
  ModelEvents(ServerMetrics* metrics, std::function<void()> on_serving)
      : metrics_(metrics), on_serving_(std::move(on_serving)) {}

  // A loader that logs the start of each load around `inner`. It touches
  // nothing but the log: a load abandoned after its timeout may return after
  // this object is gone. Outcomes and durations
  // (recsys_model_load_duration_seconds, recsys_model_reloads_total) are
  // recorded by OnLoaded / OnLoadFailed.
  VersionLoader WrapLoader(VersionLoader inner) const;

  void OnLoaded(const ModelVersion& version, absl::Duration took) override;
  void OnLoadFailed(int64_t version, const absl::Status& status,
                    absl::Duration took) override;
  void OnServing(const ModelVersion& version, int64_t previous) override;
  // Logs, and sets recsys_challenger_share.
  void OnChallenger(const ModelVersion* version, double share) override;
  // recsys_model_loads_in_progress, recsys_model_store_stuck; logs changes
  // of the stuck count.
  void OnLoadThreads(int in_progress, int stuck) override;
  // Logs, and sets recsys_serving_model_deleted.
  void OnServingDeleted(int64_t version, bool deleted) override;
  void OnNotice(const std::string& text) override;

  // The last kDefaultReloadHistory events.
  const ReloadHistory& history() const { return history_; }

 private:
  ServerMetrics* const metrics_;
  const std::function<void()> on_serving_;
  std::atomic<int> stuck_{0};  // last stuck count reported
  ReloadHistory history_;
};

}  // namespace recsys

#endif  // RECSYS_SERVER_MODEL_EVENTS_H_
