#include "server/model_events.h"

#include <chrono>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "server/event_log.h"

namespace recsys {
namespace {

ReloadEvent EventNow(ReloadEvent::Kind kind, int64_t version) {
  ReloadEvent event;
  event.time = absl::Now();
  event.kind = kind;
  event.version = version;
  return event;
}

}  // namespace

VersionLoader ModelEvents::WrapLoader(VersionLoader inner) const {
  return [inner = std::move(inner)](const std::string& dir, int64_t version)
             -> absl::StatusOr<std::shared_ptr<const ModelVersion>> {
    LogEvent(absl::StrCat("loading model version ", version, " from ", dir));
    return inner(dir, version);
  };
}

void ModelEvents::OnLoaded(const ModelVersion& version, absl::Duration took) {
  metrics_->ModelLoad(true, absl::ToDoubleSeconds(took));
  ReloadEvent event = EventNow(ReloadEvent::kLoaded, version.version());
  event.seconds = absl::ToDoubleSeconds(took);
  history_.Add(std::move(event));
  const BundleManifest& m = version.manifest();
  LogEvent(absl::StrFormat(
      "model %s version %d loaded, validated and warmed in %.2fs (feature spec "
      "%s, %d "
      "features, trained on %d months to %s, validation MAP@7 %.5f)",
      version.name(), version.version(), absl::ToDoubleSeconds(took),
      m.feature_spec_hash, version.num_features(), m.train_months.size(),
      m.train_months.empty() ? "?" : m.train_months.back(),
      m.metrics.model_map7));
  LogEvent(absl::StrCat("model version ", version.version(), " predicts with ",
                        version.predictor(), ": ", version.predictor_note()));
}

void ModelEvents::OnLoadFailed(int64_t version, const absl::Status& status,
                               absl::Duration took) {
  metrics_->ModelLoad(false, absl::ToDoubleSeconds(took));
  ReloadEvent event = EventNow(ReloadEvent::kFailed, version);
  event.seconds = absl::ToDoubleSeconds(took);
  event.text = std::string(status.message());
  history_.Add(std::move(event));
  LogEvent(
      absl::StrCat("model version ", version,
                   " FAILED to load and will not serve: ", status.ToString()));
}

void ModelEvents::OnServing(const ModelVersion& version, int64_t previous) {
  LogEvent(absl::StrCat("serving model ", version.name(), " version ",
                        version.version(),
                        previous == 0 ? " (first version)"
                                      : absl::StrCat(" (was ", previous, ")")));
  metrics_->ModelServing(version);
  ReloadEvent event = EventNow(ReloadEvent::kSwap, version.version());
  event.previous = previous;
  history_.Add(std::move(event));
  if (on_serving_) on_serving_();
}

void ModelEvents::OnChallenger(const ModelVersion* version, double share) {
  LogEvent(version == nullptr
               ? std::string("no challenger: the champion answers every "
                             "customer")
               : absl::StrCat("challenger: model ", version->name(),
                              " version ", version->version(), " answers ",
                              share, " of the customers (by ncodpers)"));
  metrics_->ChallengerShare(version, share);
  ReloadEvent event = EventNow(ReloadEvent::kChallenger,
                               version == nullptr ? 0 : version->version());
  event.share = version == nullptr ? 0 : share;
  history_.Add(std::move(event));
}

void ModelEvents::OnLoadThreads(int in_progress, int stuck) {
  metrics_->ModelLoadThreads(in_progress, stuck);
  const int before = stuck_.exchange(stuck);
  if (stuck > before) {
    LogEvent(absl::StrCat(
        "a model load is stuck past its timeout (", stuck,
        " stuck now): its thread is abandoned; check the file system of the "
        "model store"));
  } else if (stuck < before) {
    LogEvent(absl::StrCat("a stuck model load returned (", stuck,
                          " stuck now)"));
  }
}

void ModelEvents::OnServingDeleted(int64_t version, bool deleted) {
  metrics_->ServingModelDeleted(deleted);
  LogEvent(deleted
               ? absl::StrCat("the directory of serving model version ",
                              version,
                              " was deleted; its loaded copy keeps serving, "
                              "but a restart will not find it")
               : absl::StrCat("the serving model version ", version,
                              " is on disk again"));
}

void ModelEvents::OnNotice(const std::string& text) {
  LogEvent(absl::StrCat("model store: ", text));
}

}  // namespace recsys
