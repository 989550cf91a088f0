#include "model_store/bundle.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/file_util.h"
#include "common/status_macros.h"

namespace recsys {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

// JSON has no NaN: golden features write missing values as null.
json FloatsToJson(const std::vector<float>& values) {
  json out = json::array();
  for (float v : values) {
    if (std::isnan(v)) {
      out.push_back(nullptr);
    } else {
      out.push_back(v);
    }
  }
  return out;
}

absl::Status Missing(absl::string_view field) {
  return absl::InvalidArgumentError(absl::StrCat(
      "manifest.json: field '", field, "' is missing or has the wrong type"));
}

// Reads `json[key]` into `*out`; INVALID_ARGUMENT naming the field when it is
// absent or of another type.
template <typename T>
absl::Status Get(const json& j, const char* key, T* out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return Missing(key);
  try {
    *out = it->get<T>();
  } catch (const json::exception&) {
    return Missing(key);
  }
  return absl::OkStatus();
}

absl::Status GetFloats(const json& j, const char* key,
                       std::vector<float>* out) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_array()) return Missing(key);
  out->clear();
  out->reserve(it->size());
  for (const json& v : *it) {
    if (v.is_null()) {
      out->push_back(std::numeric_limits<float>::quiet_NaN());
    } else if (v.is_number()) {
      out->push_back(v.get<float>());
    } else {
      return Missing(key);
    }
  }
  return absl::OkStatus();
}

std::string NowRfc3339() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

json ManifestToJson(const BundleManifest& m) {
  json golden = json::array();
  for (const GoldenRow& row : m.golden) {
    golden.push_back({{"ncodpers", row.ncodpers},
                      {"features", FloatsToJson(row.features)},
                      {"scores", FloatsToJson(row.scores)}});
  }
  return json{
      {"format_version", m.format_version},
      {"model_name", m.model_name},
      {"version", m.version},
      {"created_at", m.created_at},
      {"train_months", m.train_months},
      {"history_month", m.history_month},
      {"feature_spec", m.feature_spec},
      {"feature_spec_hash", m.feature_spec_hash},
      {"vocabularies", m.vocabularies},
      {"products", m.products},
      {"params", m.params},
      {"num_rounds", m.num_rounds},
      {"metrics",
       {{"month", m.metrics.month},
        {"model_map7", m.metrics.model_map7},
        {"popularity_map7", m.metrics.popularity_map7},
        {"ceiling_map7", m.metrics.ceiling_map7},
        {"customers", m.metrics.customers},
        {"customers_adding", m.metrics.customers_adding}}},
      {"evaluation", m.evaluation},
      {"reference", m.reference},
      {"golden", golden},
      {"files",
       {{"model", kModelFile},
        {"model_fnv1a64", absl::StrFormat("%016x", m.model_checksum)},
        {"history", kHistoryFile},
        {"history_fnv1a64", absl::StrFormat("%016x", m.history_checksum)}}},
  };
}

absl::StatusOr<BundleManifest> ManifestFromJson(const json& j) {
  if (!j.is_object()) {
    return absl::InvalidArgumentError("manifest.json: not a JSON object");
  }
  BundleManifest m;
  RECSYS_RETURN_IF_ERROR(Get(j, "format_version", &m.format_version));
  if (m.format_version != kBundleFormatVersion) {
    return absl::FailedPreconditionError(
        absl::StrCat("manifest.json: format_version ", m.format_version,
                     " is not supported by this build (expected ",
                     kBundleFormatVersion, ")"));
  }
  RECSYS_RETURN_IF_ERROR(Get(j, "model_name", &m.model_name));
  RECSYS_RETURN_IF_ERROR(Get(j, "version", &m.version));
  RECSYS_RETURN_IF_ERROR(Get(j, "created_at", &m.created_at));
  RECSYS_RETURN_IF_ERROR(Get(j, "train_months", &m.train_months));
  RECSYS_RETURN_IF_ERROR(Get(j, "history_month", &m.history_month));
  RECSYS_RETURN_IF_ERROR(Get(j, "feature_spec", &m.feature_spec));
  RECSYS_RETURN_IF_ERROR(Get(j, "feature_spec_hash", &m.feature_spec_hash));
  RECSYS_RETURN_IF_ERROR(Get(j, "vocabularies", &m.vocabularies));
  RECSYS_RETURN_IF_ERROR(Get(j, "products", &m.products));
  RECSYS_RETURN_IF_ERROR(Get(j, "params", &m.params));
  RECSYS_RETURN_IF_ERROR(Get(j, "num_rounds", &m.num_rounds));
  RECSYS_RETURN_IF_ERROR(Get(j, "reference", &m.reference));
  if (auto it = j.find("evaluation"); it != j.end()) m.evaluation = *it;

  json metrics;
  RECSYS_RETURN_IF_ERROR(Get(j, "metrics", &metrics));
  RECSYS_RETURN_IF_ERROR(Get(metrics, "month", &m.metrics.month));
  RECSYS_RETURN_IF_ERROR(Get(metrics, "model_map7", &m.metrics.model_map7));
  RECSYS_RETURN_IF_ERROR(
      Get(metrics, "popularity_map7", &m.metrics.popularity_map7));
  RECSYS_RETURN_IF_ERROR(Get(metrics, "ceiling_map7", &m.metrics.ceiling_map7));
  RECSYS_RETURN_IF_ERROR(Get(metrics, "customers", &m.metrics.customers));
  RECSYS_RETURN_IF_ERROR(
      Get(metrics, "customers_adding", &m.metrics.customers_adding));

  json golden;
  RECSYS_RETURN_IF_ERROR(Get(j, "golden", &golden));
  if (!golden.is_array() || golden.empty()) return Missing("golden");
  for (const json& g : golden) {
    GoldenRow row;
    RECSYS_RETURN_IF_ERROR(Get(g, "ncodpers", &row.ncodpers));
    RECSYS_RETURN_IF_ERROR(GetFloats(g, "features", &row.features));
    RECSYS_RETURN_IF_ERROR(GetFloats(g, "scores", &row.scores));
    m.golden.push_back(std::move(row));
  }

  json files;
  RECSYS_RETURN_IF_ERROR(Get(j, "files", &files));
  std::string model_sum, history_sum;
  RECSYS_RETURN_IF_ERROR(Get(files, "model_fnv1a64", &model_sum));
  RECSYS_RETURN_IF_ERROR(Get(files, "history_fnv1a64", &history_sum));
  for (auto [text, out] : {std::pair{&model_sum, &m.model_checksum},
                           std::pair{&history_sum, &m.history_checksum}}) {
    auto [ptr, ec] =
        std::from_chars(text->data(), text->data() + text->size(), *out, 16);
    if (ec != std::errc() || ptr != text->data() + text->size()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "manifest.json: checksum is not hexadecimal: \"", *text, "\""));
    }
  }
  if (m.products.size() != 24) {
    return absl::InvalidArgumentError(
        absl::StrCat("manifest.json: 'products' lists ", m.products.size(),
                     " products, expected 24"));
  }
  return m;
}

absl::StatusOr<BundleManifest> ReadManifest(const std::string& bundle_dir) {
  const std::string path = absl::StrCat(bundle_dir, "/", kManifestFile);
  RECSYS_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  json j = json::parse(text, /*cb=*/nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": not valid JSON"));
  }
  return ManifestFromJson(j);
}

absl::StatusOr<std::vector<int64_t>> ListVersions(
    const std::string& store_dir, const std::string& model_name) {
  const fs::path dir = fs::path(store_dir) / model_name;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return absl::NotFoundError(
        absl::StrCat("no model directory ", dir.string()));
  }
  std::vector<int64_t> versions;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (!entry.is_directory(ec)) continue;
    const std::string name = entry.path().filename().string();
    int64_t v = 0;
    auto [ptr, err] =
        std::from_chars(name.data(), name.data() + name.size(), v);
    if (err == std::errc() && ptr == name.data() + name.size() && v > 0 &&
        name[0] != '0') {
      versions.push_back(v);
    }
  }
  if (ec) {
    return absl::InternalError(
        absl::StrCat("cannot list ", dir.string(), ": ", ec.message()));
  }
  std::sort(versions.begin(), versions.end());
  return versions;
}

absl::StatusOr<std::string> PublishBundle(const std::string& store_dir,
                                          BundleManifest manifest,
                                          absl::string_view model_bytes,
                                          absl::string_view history_bytes) {
  const fs::path model_dir = fs::path(store_dir) / manifest.model_name;
  std::error_code ec;
  fs::create_directories(model_dir, ec);
  if (ec) {
    return absl::InternalError(
        absl::StrCat("cannot create ", model_dir.string(), ": ", ec.message()));
  }
  if (manifest.created_at.empty()) manifest.created_at = NowRfc3339();
  manifest.model_checksum = Fnv1a64(model_bytes);
  manifest.history_checksum = Fnv1a64(history_bytes);

  const fs::path staging = model_dir / absl::StrCat(".staging-", ::getpid(),
                                                    "-", std::time(nullptr));
  fs::remove_all(staging, ec);
  fs::create_directories(staging, ec);
  if (ec) {
    return absl::InternalError(
        absl::StrCat("cannot create ", staging.string(), ": ", ec.message()));
  }
  auto cleanup = [&] { fs::remove_all(staging, ec); };
  absl::Status status =
      WriteFileDurably((staging / kModelFile).string(), model_bytes);
  if (status.ok()) {
    status = WriteFileDurably((staging / kHistoryFile).string(), history_bytes);
  }
  // Another trainer may publish at the same time: retry with the next
  // version when the rename finds the name taken.
  for (int attempt = 0; status.ok() && attempt < 100; ++attempt) {
    absl::StatusOr<std::vector<int64_t>> versions =
        ListVersions(store_dir, manifest.model_name);
    if (!versions.ok()) {
      status = versions.status();
      break;
    }
    manifest.version = versions->empty() ? 1 : versions->back() + 1;
    status = WriteFileDurably((staging / kManifestFile).string(),
                              ManifestToJson(manifest).dump(1));
    if (!status.ok()) break;
    RECSYS_RETURN_IF_ERROR(SyncDirectory(staging.string()));
    const fs::path target = model_dir / std::to_string(manifest.version);
    // rename(2) onto an existing non-empty directory fails: no overwrite.
    if (std::rename(staging.c_str(), target.c_str()) == 0) {
      RECSYS_RETURN_IF_ERROR(SyncDirectory(model_dir.string()));
      return target.string();
    }
    if (errno != ENOTEMPTY && errno != EEXIST) {
      status = absl::InternalError(
          absl::StrCat("cannot rename ", staging.string(), " to ",
                       target.string(), ": ", std::strerror(errno)));
    }
  }
  cleanup();
  if (status.ok())
    status = absl::InternalError("could not find a free version number");
  return status;
}

}  // namespace recsys
