#include "featurizer/product_history.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "common/date.h"
#include "common/file_util.h"
#include "common/status_macros.h"
#include "common/fnv.h"

namespace recsys {
namespace {

static_assert(
    std::endian::native == std::endian::little,
    "the snapshot format is little-endian; add byte swapping for this target");

constexpr absl::string_view kMagic = "RSYSHIST";
constexpr size_t kHeaderBytes = 8 + 4 + 4 + 4 + 4 + 8;
constexpr size_t kChecksumBytes = 8;
constexpr uint32_t kMaxMonthWord = kPresentBit | kAllProducts;
// The month indexes a snapshot may hold: those of the years ParseDate()
// accepts (1900..2100). Lookup() subtracts them from each other.
constexpr int kFirstMonthIndex = 1900 * 12;
constexpr int kLastMonthIndex = 2100 * 12 + 11;

template <typename T>
void Append(std::string* out, const T& value) {
  out->append(reinterpret_cast<const char*>(&value), sizeof(T));
}

template <typename T>
void AppendArray(std::string* out, const std::vector<T>& values) {
  out->append(reinterpret_cast<const char*>(values.data()),
              values.size() * sizeof(T));
}

template <typename T>
T Read(absl::string_view bytes, size_t offset) {
  T value;
  std::memcpy(&value, bytes.data() + offset, sizeof(T));
  return value;
}

template <typename T>
void ReadArray(absl::string_view bytes, size_t offset, size_t n,
               std::vector<T>* out) {
  out->resize(n);
  if (n > 0) std::memcpy(out->data(), bytes.data() + offset, n * sizeof(T));
}

std::optional<uint32_t> ToId(int64_t ncodpers) {
  if (ncodpers < 0 || ncodpers > std::numeric_limits<uint32_t>::max())
    return std::nullopt;
  return static_cast<uint32_t>(ncodpers);
}

uint16_t LowBits(uint32_t bits, int n) {
  return static_cast<uint16_t>(bits & ((uint32_t{1} << n) - 1));
}

}  // namespace

// ---- ProductHistorySnapshot
// ---------------------------------------------------

int64_t ProductHistorySnapshot::MemoryBytes() const {
  return static_cast<int64_t>(ids_.capacity() * sizeof(uint32_t) +
                              months_.capacity() * sizeof(uint32_t) +
                              first_seen_.capacity() * sizeof(int32_t));
}

absl::StatusOr<HistoryView> ProductHistorySnapshot::Lookup(
    int64_t ncodpers, int target_month_index) const {
  if (target_month_index < target_month_) {
    return absl::OutOfRangeError(absl::StrCat(
        "product history snapshot serves ", MonthName(target_month_),
        " and later, not ", MonthName(target_month_index)));
  }
  const int shift = target_month_index - target_month_;
  HistoryView view;
  if (shift < kMaxHistoryMonths) {
    view.months_in_data =
        LowBits(uint32_t{months_in_data_} << shift, kMaxHistoryMonths);
  }
  const std::optional<uint32_t> id = ToId(ncodpers);
  if (!id) return view;
  auto it = std::lower_bound(ids_.begin(), ids_.end(), *id);
  if (it == ids_.end() || *it != *id) return view;
  const size_t slot = static_cast<size_t>(it - ids_.begin());
  view.found = true;
  view.first_seen_months_ago = target_month_index - first_seen_[slot];
  const uint32_t* words = &months_[slot * depth_];
  for (int k = 0; k < depth_ && k + shift < kMaxHistoryMonths; ++k) {
    if (words[k] & kPresentBit) {
      view.present |= static_cast<uint16_t>(1u << (k + shift));
      view.owned[k + shift] = words[k] & kAllProducts;
    }
  }
  return view;
}

std::string ProductHistorySnapshot::Serialize() const {
  std::string out;
  out.reserve(kHeaderBytes + ids_.size() * 4 * (depth_ + 2) + kChecksumBytes);
  out.append(kMagic.data(), kMagic.size());
  Append(&out, kSnapshotFormatVersion);
  Append(&out, static_cast<int32_t>(target_month_));
  Append(&out, static_cast<uint32_t>(depth_));
  Append(&out, static_cast<uint32_t>(months_in_data_));
  Append(&out, static_cast<uint64_t>(ids_.size()));
  AppendArray(&out, ids_);
  AppendArray(&out, months_);
  AppendArray(&out, first_seen_);
  Append(&out, Fnv1a64(out));
  return out;
}

absl::StatusOr<std::shared_ptr<const ProductHistorySnapshot>>
ProductHistorySnapshot::Parse(absl::string_view bytes) {
  const size_t magic_len = std::min(bytes.size(), kMagic.size());
  if (bytes.substr(0, magic_len) != kMagic.substr(0, magic_len)) {
    return absl::InvalidArgumentError(
        "not a product history snapshot (bad magic)");
  }
  if (bytes.size() < kHeaderBytes + kChecksumBytes) {
    return absl::DataLossError(absl::StrCat(
        "product history snapshot truncated: ", bytes.size(), " bytes"));
  }
  const uint32_t version = Read<uint32_t>(bytes, 8);
  if (version != kSnapshotFormatVersion) {
    return absl::InvalidArgumentError(
        absl::StrCat("unsupported product history snapshot version ", version,
                     " (this build reads ", kSnapshotFormatVersion, ")"));
  }
  auto snapshot =
      std::shared_ptr<ProductHistorySnapshot>(new ProductHistorySnapshot());
  snapshot->target_month_ = Read<int32_t>(bytes, 12);
  const uint32_t depth = Read<uint32_t>(bytes, 16);
  const uint32_t months_in_data = Read<uint32_t>(bytes, 20);
  const uint64_t count = Read<uint64_t>(bytes, 24);
  if (depth < 1 || depth > kMaxHistoryMonths) {
    return absl::DataLossError(
        absl::StrCat("product history snapshot: bad depth ", depth));
  }
  const uint64_t per_customer = 4 * (uint64_t{depth} + 2);
  const uint64_t body = bytes.size() - kHeaderBytes - kChecksumBytes;
  if (count > body / per_customer || count * per_customer != body) {
    return absl::DataLossError(absl::StrCat(
        "product history snapshot truncated or oversized: ", bytes.size(),
        " bytes for ", count, " customers of depth ", depth));
  }
  const size_t checksum_at = bytes.size() - kChecksumBytes;
  if (Fnv1a64(bytes.substr(0, checksum_at)) !=
      Read<uint64_t>(bytes, checksum_at)) {
    return absl::DataLossError("product history snapshot: checksum mismatch");
  }
  if (months_in_data >> depth) {
    return absl::DataLossError("product history snapshot: bad months_in_data");
  }
  if (snapshot->target_month_ <= kFirstMonthIndex ||
      snapshot->target_month_ > kLastMonthIndex + 1) {
    return absl::DataLossError(
        absl::StrCat("product history snapshot: target month index ",
                     snapshot->target_month_, " is outside years 1900..2100"));
  }
  snapshot->depth_ = static_cast<int>(depth);
  snapshot->months_in_data_ = static_cast<uint16_t>(months_in_data);
  const size_t n = static_cast<size_t>(count);
  size_t offset = kHeaderBytes;
  ReadArray(bytes, offset, n, &snapshot->ids_);
  offset += n * 4;
  ReadArray(bytes, offset, n * depth, &snapshot->months_);
  offset += n * depth * 4;
  ReadArray(bytes, offset, n, &snapshot->first_seen_);
  for (size_t i = 1; i < n; ++i) {
    if (snapshot->ids_[i - 1] >= snapshot->ids_[i]) {
      return absl::DataLossError(
          "product history snapshot: customer ids not increasing");
    }
  }
  for (size_t i = 0; i < snapshot->months_.size(); ++i) {
    const uint32_t word = snapshot->months_[i];
    if (word > kMaxMonthWord) {
      return absl::DataLossError("product history snapshot: bad month word");
    }
    const size_t lag_bit = i % depth;  // word L-1 of a customer = lag L
    if ((word & kPresentBit) != 0 && ((months_in_data >> lag_bit) & 1) == 0) {
      return absl::DataLossError(absl::StrCat(
          "product history snapshot: a customer is present at lag ",
          lag_bit + 1, ", a month not in the data"));
    }
  }
  for (int32_t first_seen : snapshot->first_seen_) {
    // Every customer was first seen before the month the snapshot serves.
    if (first_seen < kFirstMonthIndex || first_seen >= snapshot->target_month_) {
      return absl::DataLossError(absl::StrCat(
          "product history snapshot: first-seen month index ", first_seen,
          " is not before the target month ", snapshot->target_month_));
    }
  }
  return std::shared_ptr<const ProductHistorySnapshot>(std::move(snapshot));
}

absl::Status WriteSnapshot(const ProductHistorySnapshot& snapshot,
                           const std::string& path) {
  return WriteFileAtomically(path, snapshot.Serialize());
}

absl::StatusOr<std::shared_ptr<const ProductHistorySnapshot>> LoadSnapshot(
    const std::string& path) {
  RECSYS_ASSIGN_OR_RETURN(std::string bytes, ReadFileToString(path));
  auto snapshot = ProductHistorySnapshot::Parse(bytes);
  if (!snapshot.ok()) {
    return absl::Status(snapshot.status().code(),
                        absl::StrCat(path, ": ", snapshot.status().message()));
  }
  return snapshot;
}

// ---- ProductHistoryBuilder
// ------------------------------------------------------

ProductHistoryBuilder::ProductHistoryBuilder(int depth)
    : depth_(depth), stride_(depth + 1) {}

absl::StatusOr<std::unique_ptr<ProductHistoryBuilder>>
ProductHistoryBuilder::Create(const ProductHistoryOptions& options) {
  if (options.depth < 1 || options.depth > kMaxHistoryMonths) {
    return absl::InvalidArgumentError(
        absl::StrCat("product history depth ", options.depth, " is outside 1..",
                     kMaxHistoryMonths));
  }
  return std::unique_ptr<ProductHistoryBuilder>(
      new ProductHistoryBuilder(options.depth));
}

absl::Status ProductHistoryBuilder::AdvanceTo(int month_index) {
  if (!started_) {
    started_ = true;
    open_ = true;
    latest_ = month_index;
    months_in_data_ = 1;
    return absl::OkStatus();
  }
  if (month_index <= latest_) {
    return absl::InvalidArgumentError(
        absl::StrCat("product history: month ", MonthName(month_index),
                     " after ", MonthName(latest_)));
  }
  const int shift = std::min(month_index - latest_, stride_);
  for (size_t base = 0; base < months_.size(); base += stride_) {
    uint32_t* words = &months_[base];
    std::move_backward(words, words + stride_ - shift, words + stride_);
    std::fill(words, words + shift, 0u);
  }
  months_in_data_ = ((months_in_data_ << shift) | 1u) & ((1u << stride_) - 1);
  latest_ = month_index;
  open_ = true;
  return absl::OkStatus();
}

void ProductHistoryBuilder::EndMonth() { open_ = false; }

std::optional<int> ProductHistoryBuilder::target_month() const {
  if (!started_) return std::nullopt;
  return latest_ + (open_ ? 0 : 1);
}

absl::Status ProductHistoryBuilder::Observe(int month_index, int64_t ncodpers,
                                            ProductMask owned) {
  const std::optional<uint32_t> id = ToId(ncodpers);
  if (!id) {
    return absl::InvalidArgumentError(absl::StrCat(
        "product history: customer id ", ncodpers, " out of range"));
  }
  if (owned & ~kAllProducts) {
    return absl::InvalidArgumentError(absl::StrCat(
        "product history: mask ", owned, " has bits beyond the products"));
  }
  if (!started_ || month_index > latest_) {
    RECSYS_RETURN_IF_ERROR(AdvanceTo(month_index));
  } else if (month_index < latest_ || !open_) {
    return absl::InvalidArgumentError(absl::StrCat("product history: month ",
                                                   MonthName(month_index),
                                                   " is already ended"));
  }
  auto [it, inserted] =
      slot_of_.try_emplace(*id, static_cast<uint32_t>(ids_.size()));
  const size_t slot = it->second;
  if (inserted) {
    ids_.push_back(*id);
    months_.resize(months_.size() + stride_, 0u);
    first_seen_.push_back(month_index);
  }
  uint32_t& word = months_[slot * stride_];
  if (word & kPresentBit) {
    return absl::InvalidArgumentError(absl::StrCat("product history: customer ",
                                                   *id, " observed twice in ",
                                                   MonthName(month_index)));
  }
  word = owned | kPresentBit;
  return absl::OkStatus();
}

HistoryView ProductHistoryBuilder::ViewOf(int64_t slot, int target) const {
  // Lag L is month target - L, stored at word j = L - (target - latest_). The
  // extra word j == depth_ only serves lookups for the open month itself, so
  // that every view covers `depth_` months, as a snapshot's do.
  HistoryView view;
  const bool found = slot >= 0 && first_seen_[slot] < target;
  const uint32_t* words = found ? &months_[slot * stride_] : nullptr;
  for (int lag = 1; lag <= kMaxHistoryMonths; ++lag) {
    const int j = lag - (target - latest_);
    if (j < 0) continue;
    if (j >= stride_ || (j >= depth_ && target != latest_)) break;
    const uint16_t bit = static_cast<uint16_t>(1u << (lag - 1));
    if ((months_in_data_ >> j) & 1) view.months_in_data |= bit;
    if (found && (words[j] & kPresentBit)) {
      view.present |= bit;
      view.owned[lag - 1] = words[j] & kAllProducts;
    }
  }
  if (found) {
    view.found = true;
    view.first_seen_months_ago = target - first_seen_[slot];
  }
  return view;
}

absl::StatusOr<HistoryView> ProductHistoryBuilder::Lookup(
    int64_t ncodpers, int target_month_index) const {
  if (!started_) return HistoryView();
  if (target_month_index < *target_month()) {
    return absl::OutOfRangeError(absl::StrCat(
        "product history: ", MonthName(target_month_index), " is before ",
        MonthName(*target_month()), ", the earliest month it can answer for"));
  }
  int64_t slot = -1;
  if (const std::optional<uint32_t> id = ToId(ncodpers)) {
    auto it = slot_of_.find(*id);
    if (it != slot_of_.end()) slot = it->second;
  }
  return ViewOf(slot, target_month_index);
}

absl::StatusOr<std::shared_ptr<const ProductHistorySnapshot>>
ProductHistoryBuilder::Snapshot() const {
  if (!started_) {
    return absl::FailedPreconditionError(
        "product history: no month observed yet");
  }
  auto snapshot =
      std::shared_ptr<ProductHistorySnapshot>(new ProductHistorySnapshot());
  snapshot->target_month_ = latest_ + 1;
  snapshot->depth_ = depth_;
  snapshot->months_in_data_ = LowBits(months_in_data_, depth_);
  std::vector<uint32_t> order(ids_.size());
  std::iota(order.begin(), order.end(), 0u);
  std::sort(order.begin(), order.end(),
            [this](uint32_t a, uint32_t b) { return ids_[a] < ids_[b]; });
  snapshot->ids_.reserve(order.size());
  snapshot->months_.reserve(order.size() * depth_);
  snapshot->first_seen_.reserve(order.size());
  for (uint32_t slot : order) {
    snapshot->ids_.push_back(ids_[slot]);
    const uint32_t* words = &months_[static_cast<size_t>(slot) * stride_];
    snapshot->months_.insert(snapshot->months_.end(), words, words + depth_);
    snapshot->first_seen_.push_back(first_seen_[slot]);
  }
  return std::shared_ptr<const ProductHistorySnapshot>(std::move(snapshot));
}

absl::Status ProductHistoryBuilder::WriteSnapshot(
    const std::string& path) const {
  RECSYS_ASSIGN_OR_RETURN(auto snapshot, Snapshot());
  return recsys::WriteSnapshot(*snapshot, path);
}

}  // namespace recsys
