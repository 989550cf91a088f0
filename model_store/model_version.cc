#include "model_store/model_version.h"

#include <cmath>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/date.h"
#include "common/file_util.h"
#include "common/products.h"
#include "common/status_macros.h"

namespace recsys {
namespace {

absl::Status WithPath(const std::string& dir, const absl::Status& status) {
  if (status.ok()) return status;
  return absl::Status(status.code(), absl::StrCat(dir, ": ", status.message()));
}

absl::StatusOr<int> ParseMonth(const std::string& text) {
  RECSYS_ASSIGN_OR_RETURN(Date date, ParseDate(absl::StrCat(text, "-28")));
  return date.MonthIndex();
}

absl::Status ReplayGolden(const BundleManifest& manifest,
                          const Booster& booster, int num_features) {
  std::vector<float> scores(kNumProducts);
  for (size_t i = 0; i < manifest.golden.size(); ++i) {
    const GoldenRow& row = manifest.golden[i];
    if (static_cast<int>(row.features.size()) != num_features ||
        row.scores.size() != static_cast<size_t>(kNumProducts)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "manifest.json: golden[", i, "] has ", row.features.size(),
          " features and ", row.scores.size(), " scores; expected ",
          num_features, " and ", kNumProducts));
    }
    RECSYS_RETURN_IF_ERROR(
        booster.Predict(row.features.data(), 1, num_features, scores.data()));
    for (int p = 0; p < kNumProducts; ++p) {
      const float diff = std::fabs(scores[p] - row.scores[p]);
      if (!(diff <= kGoldenTolerance)) {
        return absl::FailedPreconditionError(
            absl::StrFormat("golden set replay failed: row %d (ncodpers %d) "
                            "product %s scored %.7f, "
                            "expected %.7f (tolerance %g)",
                            i, row.ncodpers, kProducts[p].column, scores[p],
                            row.scores[p], kGoldenTolerance));
      }
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<const ModelVersion>> Load(
    const std::string& dir, int64_t version, const BundleReadLimits& limits) {
  ModelVersion::Parts parts;
  RECSYS_ASSIGN_OR_RETURN(parts.manifest, ReadManifest(dir, limits));
  const BundleManifest& m = parts.manifest;
  if (m.version != version) {
    return absl::FailedPreconditionError(
        absl::StrCat("manifest.json says version ", m.version,
                     " but the directory is version ", version));
  }
  for (int p = 0; p < kNumProducts; ++p) {
    if (m.products[p] != kProducts[p].column) {
      return absl::FailedPreconditionError(
          absl::StrCat("manifest.json: products[", p, "] is ", m.products[p],
                       ", expected ", kProducts[p].column));
    }
  }

  absl::StatusOr<FeatureSpec> spec = FeatureSpec::FromJson(m.feature_spec);
  if (!spec.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the bundle's feature spec is not one this featurizer computes: ",
        spec.status().message()));
  }
  if (spec->SpecHash() != m.feature_spec_hash) {
    return absl::FailedPreconditionError(absl::StrCat(
        "feature spec hash mismatch: manifest says ", m.feature_spec_hash,
        " but this featurizer hashes the bundle's spec to ", spec->SpecHash()));
  }
  RECSYS_ASSIGN_OR_RETURN(Vocabularies vocabularies,
                          Vocabularies::FromJson(m.vocabularies));
  RECSYS_ASSIGN_OR_RETURN(parts.featurizer,
                          Featurizer::Create(*spec, vocabularies));
  if (!m.reference.is_object() || !m.reference.contains("features") ||
      !m.reference.contains("predictions")) {
    return absl::InvalidArgumentError(
        "manifest.json: field 'reference' needs 'features' and 'predictions'");
  }
  RECSYS_ASSIGN_OR_RETURN(parts.reference, ReferenceDistributions::FromJson(
                                               m.reference["features"]));
  RECSYS_RETURN_IF_ERROR(
      parts.reference->CheckMatches(parts.featurizer->feature_names()));
  RECSYS_ASSIGN_OR_RETURN(
      parts.prediction_reference,
      PredictionReference::FromJson(m.reference["predictions"]));

  RECSYS_ASSIGN_OR_RETURN(
      std::string model_bytes,
      ReadBundleFile(absl::StrCat(dir, "/", kModelFile), m.model_size, limits));
  if (Fnv1a64(model_bytes) != m.model_checksum) {
    return absl::DataLossError(
        absl::StrCat(kModelFile, " does not match its checksum (",
                     model_bytes.size(), " bytes): truncated or altered"));
  }
  RECSYS_ASSIGN_OR_RETURN(
      std::string history_bytes,
      ReadBundleFile(absl::StrCat(dir, "/", kHistoryFile), m.history_size,
                     limits));
  if (Fnv1a64(history_bytes) != m.history_checksum) {
    return absl::DataLossError(
        absl::StrCat(kHistoryFile, " does not match its checksum (",
                     history_bytes.size(), " bytes): truncated or altered"));
  }
  RECSYS_ASSIGN_OR_RETURN(parts.history,
                          ProductHistorySnapshot::Parse(history_bytes));
  RECSYS_ASSIGN_OR_RETURN(parts.history_month, ParseMonth(m.history_month));
  if (parts.history->target_month() != parts.history_month) {
    return absl::FailedPreconditionError(absl::StrCat(
        "history.bin serves ", MonthName(parts.history->target_month()),
        " but the manifest says ", m.history_month));
  }
  if (parts.history->depth() < spec->required_history_months()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "history.bin keeps ", parts.history->depth(),
        " months; the features need ", spec->required_history_months()));
  }

  RECSYS_ASSIGN_OR_RETURN(std::unique_ptr<Booster> booster,
                          Booster::LoadFromBuffer(model_bytes));
  RECSYS_RETURN_IF_ERROR(booster->SetParam("nthread", "1"));
  if (booster->num_features() != parts.featurizer->num_features()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "model.ubj expects ", booster->num_features(),
        " features; the spec makes ", parts.featurizer->num_features()));
  }
  if (booster->num_class() != kNumProducts) {
    return absl::FailedPreconditionError(
        absl::StrCat("model.ubj has ", booster->num_class(),
                     " classes, expected ", kNumProducts));
  }
  RECSYS_RETURN_IF_ERROR(booster->Warmup());
  RECSYS_RETURN_IF_ERROR(
      ReplayGolden(m, *booster, parts.featurizer->num_features()));
  parts.booster = std::move(booster);
  return std::make_shared<const ModelVersion>(std::move(parts));
}

}  // namespace

ModelVersion::ModelVersion(Parts parts)
    : parts_(std::move(parts)), loaded_at_(absl::Now()) {}

absl::StatusOr<std::shared_ptr<const ModelVersion>> LoadModelVersion(
    const std::string& dir, int64_t version) {
  return LoadModelVersion(dir, version, BundleReadLimits());
}

absl::StatusOr<std::shared_ptr<const ModelVersion>> LoadModelVersion(
    const std::string& dir, int64_t version, const BundleReadLimits& limits) {
  absl::StatusOr<std::shared_ptr<const ModelVersion>> model =
      Load(dir, version, limits);
  if (!model.ok()) return WithPath(dir, model.status());
  return model;
}

}  // namespace recsys
