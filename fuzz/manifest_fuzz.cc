// Fuzz target: model_store/bundle's manifest reader and the readers of what
// a manifest carries (feature spec, vocabularies, drift references), in the
// order LoadModelVersion() reads them, without the files and the checksums
// (a fuzzer cannot forge the spec hash, so that check is left out to let it
// reach the readers behind it). The input is the text of a manifest.json.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "featurizer/feature_spec.h"
#include "featurizer/featurizer.h"
#include "featurizer/reference.h"
#include "featurizer/vocabulary.h"
#include "model_store/bundle.h"
#include "nlohmann/json.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const nlohmann::json json = nlohmann::json::parse(
      data, data + size, /*cb=*/nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return 0;
  absl::StatusOr<recsys::BundleManifest> manifest =
      recsys::ManifestFromJson(json);
  if (!manifest.ok()) {
    if (manifest.status().message().empty()) std::abort();
    return 0;
  }
  // What was read is written back the same way.
  recsys::ManifestToJson(*manifest).dump();

  absl::StatusOr<recsys::FeatureSpec> spec =
      recsys::FeatureSpec::FromJson(manifest->feature_spec);
  absl::StatusOr<recsys::Vocabularies> vocabularies =
      recsys::Vocabularies::FromJson(manifest->vocabularies);
  if (spec.ok()) {
    spec->SpecHash();
    if (vocabularies.ok()) {
      auto featurizer = recsys::Featurizer::Create(*spec, *vocabularies);
      if (featurizer.ok() && manifest->reference.is_object() &&
          manifest->reference.contains("features")) {
        auto reference = recsys::ReferenceDistributions::FromJson(
            manifest->reference["features"]);
        if (reference.ok()) {
          reference->CheckMatches((*featurizer)->feature_names()).IgnoreError();
        }
      }
    }
  }
  if (manifest->reference.is_object() &&
      manifest->reference.contains("predictions")) {
    recsys::PredictionReference::FromJson(manifest->reference["predictions"])
        .status()
        .IgnoreError();
  }
  return 0;
}
