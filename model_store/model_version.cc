#include "model_store/model_version.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/date.h"
#include "common/file_util.h"
#include "common/products.h"
#include "common/status_macros.h"
#include "featurizer/binning.h"

namespace recsys {
namespace {

absl::Status WithPath(const std::string& dir, const absl::Status& status) {
  if (status.ok()) return status;
  return absl::Status(status.code(), absl::StrCat(dir, ": ", status.message()));
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

// The rows the forest is compared with XGBoost on: the golden rows; golden
// row g (the first four) with NaN at each feature in turn, and all-NaN;
// `random_rows` rows whose features are drawn from the forest's split points
// (on, one float below, one float above), the reference bin edges or codes,
// and NaN.
std::vector<float> VerificationRows(const BundleManifest& manifest,
                                    const ReferenceDistributions& reference,
                                    const Forest& forest, int random_rows) {
  const int nf = static_cast<int>(forest.num_features());
  std::vector<float> x;
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (const GoldenRow& g : manifest.golden) {
    x.insert(x.end(), g.features.begin(), g.features.end());
  }
  for (size_t g = 0; g < manifest.golden.size() && g < 4; ++g) {
    for (int f = 0; f < nf; ++f) {
      x.insert(x.end(), manifest.golden[g].features.begin(),
               manifest.golden[g].features.end());
      x[x.size() - nf + f] = nan;
    }
  }
  x.insert(x.end(), nf, nan);
  const std::vector<std::vector<float>> points = forest.SplitPointsByFeature();
  std::mt19937 rng(static_cast<uint32_t>(manifest.version));
  for (int r = 0; r < random_rows; ++r) {
    for (int f = 0; f < nf; ++f) {
      const std::vector<float>& p = points[f];
      const Binning* bins =
          f < reference.num_features() ? &reference.binning(f) : nullptr;
      const uint32_t kind = rng() % 10;
      float v = nan;
      if (kind < 6 && !p.empty()) {
        v = p[rng() % p.size()];
        if (kind == 4) v = std::nextafter(v, -INFINITY);
        if (kind == 5) v = std::nextafter(v, INFINITY);
      } else if (kind < 9 && bins != nullptr) {
        if (bins->type() == Binning::Type::kNumeric && !bins->edges().empty()) {
          v = bins->edges()[rng() % bins->edges().size()];
        } else if (bins->type() == Binning::Type::kCategorical) {
          v = static_cast<float>(rng() % (bins->num_bins() + 1));
        }
      }
      x.push_back(v);
    }
  }
  return x;
}

// Builds the forest and compares it with `booster`; the forest when it
// matches, else the reason in `note`.
std::unique_ptr<const Forest> VerifiedForest(
    const std::string& model_bytes, const BundleManifest& manifest,
    const ReferenceDistributions& reference, const Booster& booster,
    const ModelLoadOptions& options, std::string* note) {
  absl::StatusOr<std::unique_ptr<Forest>> forest =
      Forest::FromModel(model_bytes);
  if (!forest.ok()) {
    *note = absl::StrCat("the forest evaluator cannot compute this model (",
                         forest.status().message(), ")");
    return nullptr;
  }
  if (options.tamper_forest_for_testing) {
    options.tamper_forest_for_testing(forest->get());
  }
  const int nf = static_cast<int>(booster.num_features());
  if ((*forest)->num_features() != nf ||
      (*forest)->num_class() != kNumProducts) {
    *note = "the forest's shape differs from XGBoost's";
    return nullptr;
  }
  const std::vector<float> x =
      VerificationRows(manifest, reference, **forest, options.verify_rows);
  const int64_t rows = static_cast<int64_t>(x.size()) / nf;
  std::vector<float> want(rows * kNumProducts), got(rows * kNumProducts);
  if (absl::Status s = booster.Predict(x.data(), rows, nf, want.data());
      !s.ok()) {
    *note = absl::StrCat("XGBoost failed on the verification rows: ",
                         s.message());
    return nullptr;
  }
  if (absl::Status s = (*forest)->Predict(x.data(), rows, nf, got.data());
      !s.ok()) {
    *note = absl::StrCat("the forest failed on the verification rows: ",
                         s.message());
    return nullptr;
  }
  for (int64_t r = 0; r < rows; ++r) {
    for (int p = 0; p < kNumProducts; ++p) {
      const int64_t i = r * kNumProducts + p;
      if (std::memcmp(&got[i], &want[i], sizeof(float)) != 0) {
        *note = absl::StrFormat(
            "the forest differs from XGBoost on verification row %d of %d "
            "(product %s: %.9g vs XGBoost's %.9g)",
            r, rows, kProducts[p].column, got[i], want[i]);
        return nullptr;
      }
    }
  }
  *note = absl::StrCat("forest (", ForestKernelName((*forest)->best_kernel()),
                       " kernel, ", (*forest)->num_trees(), " trees of depth ",
                       (*forest)->depth(),
                       ") matched XGBoost byte for byte on ", rows, " rows");
  return *std::move(forest);
}

absl::StatusOr<std::shared_ptr<const ModelVersion>> Load(
    const std::string& dir, int64_t version, const ModelLoadOptions& options) {
  const BundleReadLimits& limits = options.limits;
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
  RECSYS_ASSIGN_OR_RETURN(parts.history_month, ParseMonthName(m.history_month));
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
  if (options.predictor == PredictorChoice::kXgboost) {
    parts.predictor_note = "XGBoost (chosen by --predictor=xgboost)";
  } else {
    std::string note;
    parts.forest = VerifiedForest(model_bytes, m, *parts.reference, *booster,
                                  options, &note);
    if (parts.forest == nullptr) {
      if (options.predictor == PredictorChoice::kForest) {
        return absl::FailedPreconditionError(
            absl::StrCat("--predictor=forest: ", note));
      }
      note = absl::StrCat(note, "; serving with XGBoost");
    }
    parts.predictor_note = std::move(note);
  }
  parts.booster = std::move(booster);
  return std::make_shared<const ModelVersion>(std::move(parts));
}

}  // namespace

const char* PredictorChoiceName(PredictorChoice choice) {
  switch (choice) {
    case PredictorChoice::kForest:
      return "forest";
    case PredictorChoice::kXgboost:
      return "xgboost";
    default:
      return "auto";
  }
}

absl::StatusOr<PredictorChoice> ParsePredictorChoice(absl::string_view text) {
  for (PredictorChoice c : {PredictorChoice::kAuto, PredictorChoice::kForest,
                            PredictorChoice::kXgboost}) {
    if (text == PredictorChoiceName(c)) return c;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("predictor \"", text,
                   "\" is not one of auto, forest, xgboost"));
}

ModelVersion::ModelVersion(Parts parts)
    : parts_(std::move(parts)), loaded_at_(absl::Now()) {}

absl::Status ModelVersion::Predict(const float* rows, int64_t n_rows,
                                   float* out) const {
  if (parts_.forest != nullptr) {
    return parts_.forest->Predict(rows, n_rows, num_features(), out);
  }
  return parts_.booster->Predict(rows, n_rows, num_features(), out);
}

absl::StatusOr<std::shared_ptr<const ModelVersion>> LoadModelVersion(
    const std::string& dir, int64_t version) {
  return LoadModelVersionWith(dir, version, ModelLoadOptions());
}

absl::StatusOr<std::shared_ptr<const ModelVersion>> LoadModelVersion(
    const std::string& dir, int64_t version, const BundleReadLimits& limits) {
  ModelLoadOptions options;
  options.limits = limits;
  return LoadModelVersionWith(dir, version, options);
}

absl::StatusOr<std::shared_ptr<const ModelVersion>> LoadModelVersionWith(
    const std::string& dir, int64_t version, const ModelLoadOptions& options) {
  absl::StatusOr<std::shared_ptr<const ModelVersion>> model =
      Load(dir, version, options);
  if (!model.ok()) return WithPath(dir, model.status());
  return model;
}

}  // namespace recsys
