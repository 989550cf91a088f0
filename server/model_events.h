// What the server does when the model store loads, refuses or swaps a model
// version: one log line per event, the model metrics, and the health state
// (a callback that turns health SERVING once a version serves).
//
//   ModelEvents events(metrics, [this] { OnModelServing(); });
//   ModelStore::Create(store_options, events.WrapLoader(LoadModelVersion),
//   &events);
//
// Thread-safe (the store calls it from whichever thread loads).
#ifndef RECSYS_SERVER_MODEL_EVENTS_H_
#define RECSYS_SERVER_MODEL_EVENTS_H_

#include <cstdint>
#include <functional>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "model_store/model_store.h"
#include "model_store/model_version.h"
#include "server/metrics.h"

namespace recsys {

class ModelEvents final : public ModelStoreObserver {
 public:
  // `metrics` must outlive this object; `on_serving` runs after each swap
  // (may be empty).
  ModelEvents(ServerMetrics* metrics, std::function<void()> on_serving)
      : metrics_(metrics), on_serving_(std::move(on_serving)) {}

  // A loader that logs the start of each load and records its outcome and
  // duration (recsys_model_load_duration_seconds, recsys_model_reloads_total)
  // around `inner`.
  VersionLoader WrapLoader(VersionLoader inner) const;

  void OnLoaded(const ModelVersion& version, absl::Duration took) override;
  void OnLoadFailed(int64_t version, const absl::Status& status) override;
  void OnServing(const ModelVersion& version, int64_t previous) override;

 private:
  ServerMetrics* const metrics_;
  const std::function<void()> on_serving_;
};

}  // namespace recsys

#endif  // RECSYS_SERVER_MODEL_EVENTS_H_
