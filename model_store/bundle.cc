#include "model_store/bundle.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
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

absl::Status ErrnoStatus(int errno_value, absl::string_view what,
                         const std::string& path) {
  return absl::ErrnoToStatus(errno_value, absl::StrCat(what, " ", path));
}

absl::StatusOr<std::string> RealPath(const std::string& path) {
  char* resolved = ::realpath(path.c_str(), nullptr);
  if (resolved == nullptr) return ErrnoStatus(errno, "cannot resolve", path);
  std::string out = resolved;
  std::free(resolved);
  return out;
}

const char* FileTypeName(mode_t mode) {
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

absl::Status CheckSize(const std::string& path, const struct stat& st,
                       int64_t expected_size, const BundleReadLimits& limits) {
  if (!S_ISREG(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, " is ", FileTypeName(st.st_mode),
                     ", not a regular file; bundle files must be regular "
                     "files"));
  }
  const int64_t size = st.st_size;
  if (size > limits.max_file_bytes) {
    return absl::ResourceExhaustedError(absl::StrCat(
        path, " is ", size, " bytes, over the limit of ",
        limits.max_file_bytes, " bytes (--max-bundle-file-bytes)"));
  }
  if (expected_size >= 0 && size != expected_size) {
    return absl::DataLossError(absl::StrCat(path, " is ", size,
                                            " bytes; the manifest says ",
                                            expected_size, " bytes"));
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
  json out{
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
  if (m.model_size >= 0) out["files"]["model_bytes"] = m.model_size;
  if (m.history_size >= 0) out["files"]["history_bytes"] = m.history_size;
  return out;
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
  // Sizes are optional: bundles written before they were recorded lack them.
  for (auto [key, out] : {std::pair{"model_bytes", &m.model_size},
                          std::pair{"history_bytes", &m.history_size}}) {
    auto it = files.find(key);
    if (it == files.end()) continue;
    if (!it->is_number_integer() || it->get<int64_t>() < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("manifest.json: files.", key,
                       " must be a non-negative integer, got ", it->dump()));
    }
    *out = it->get<int64_t>();
  }
  if (m.products.size() != 24) {
    return absl::InvalidArgumentError(
        absl::StrCat("manifest.json: 'products' lists ", m.products.size(),
                     " products, expected 24"));
  }
  return m;
}

absl::StatusOr<std::string> ReadBundleFile(const std::string& path,
                                           int64_t expected_size,
                                           const BundleReadLimits& limits) {
  struct stat link_stat {};
  if (::lstat(path.c_str(), &link_stat) != 0)
    return ErrnoStatus(errno, "cannot read", path);
  std::string target = path;
  if (S_ISLNK(link_stat.st_mode)) {
    const std::string root =
        limits.root.empty() ? fs::path(path).parent_path().string()
                            : limits.root;
    RECSYS_ASSIGN_OR_RETURN(target, RealPath(path));
    RECSYS_ASSIGN_OR_RETURN(const std::string real_root, RealPath(root));
    if (real_root != "/" &&
        target.compare(0, real_root.size() + 1, real_root + "/") != 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          path, " is a symbolic link to ", target, ", outside ", real_root,
          "; bundle files must be inside the model store"));
    }
  }
  // O_NONBLOCK: should the file have been swapped for a FIFO since the
  // check, open() does not wait for a writer (the fstat below refuses it).
  const int fd = ::open(target.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return ErrnoStatus(errno, "cannot open", path);
  struct FdCloser {
    int fd;
    ~FdCloser() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) return ErrnoStatus(errno, "cannot stat", path);
  RECSYS_RETURN_IF_ERROR(CheckSize(path, st, expected_size, limits));
  std::string out;
  out.resize(static_cast<size_t>(st.st_size));
  size_t have = 0;
  while (true) {
    // Read one byte beyond the size seen, to notice a file that grows.
    if (have == out.size()) out.resize(have + 1);
    const ssize_t n = ::read(fd, out.data() + have, out.size() - have);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "cannot read", path);
    }
    if (n == 0) break;
    have += static_cast<size_t>(n);
    if (have > static_cast<size_t>(st.st_size)) {
      return absl::DataLossError(absl::StrCat(
          path, " grew while it was read (", st.st_size,
          " bytes when opened): a bundle file must not change once published"));
    }
  }
  out.resize(have);
  if (static_cast<int64_t>(have) != st.st_size) {
    return absl::DataLossError(absl::StrCat(path, " shrank while it was read (",
                                            have, " of ", st.st_size,
                                            " bytes)"));
  }
  return out;
}

absl::StatusOr<BundleManifest> ReadManifest(const std::string& bundle_dir,
                                            const BundleReadLimits& limits) {
  const std::string path = absl::StrCat(bundle_dir, "/", kManifestFile);
  RECSYS_ASSIGN_OR_RETURN(std::string text, ReadBundleFile(path, -1, limits));
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

std::vector<std::string> RemoveStaleStaging(const std::string& store_dir,
                                            const std::string& model_name,
                                            absl::Duration max_age) {
  std::vector<std::string> removed;
  const fs::path dir = fs::path(store_dir) / model_name;
  const absl::Time cutoff = absl::Now() - max_age;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(".staging-", 0) != 0) continue;
    struct stat st {};
    if (::lstat(entry.path().c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
      continue;
    if (absl::TimeFromTimespec(st.st_mtim) > cutoff) continue;
    std::error_code remove_ec;
    fs::remove_all(entry.path(), remove_ec);
    if (!remove_ec) removed.push_back(entry.path().string());
  }
  return removed;
}

std::string DirectoryFingerprint(const std::string& dir) {
  std::vector<std::string> parts;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    struct stat st {};
    if (::lstat(entry.path().c_str(), &st) != 0) continue;
    parts.push_back(absl::StrCat(entry.path().filename().string(), ":",
                                 st.st_size, ":", st.st_mtim.tv_sec, ".",
                                 st.st_mtim.tv_nsec, ":", st.st_mode));
  }
  if (ec) return "";
  std::sort(parts.begin(), parts.end());
  return absl::StrJoin(parts, "|");
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
  manifest.model_size = static_cast<int64_t>(model_bytes.size());
  manifest.history_size = static_cast<int64_t>(history_bytes.size());

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
