// Product history: which products each customer owned in each of the last
// `depth` months — the state that lag and history features need.
//
// The training pipeline fills a ProductHistoryBuilder while streaming the
// months in order; for each row it first asks for the history before the
// row's month, then records the row:
//
//   RECSYS_ASSIGN_OR_RETURN(auto builder, ProductHistoryBuilder::Create(
//       {.depth = std::max(6, spec.required_history_months())}));
//   for (each row r, months in increasing order) {
//     const int month = r.fecha_dato.value.MonthIndex();
//     RECSYS_ASSIGN_OR_RETURN(HistoryView before,   // months before `month`
//                             builder->Lookup(r.ncodpers.value, month));
//     featurizer->Featurize(r, before, row);
//     std::optional<ProductMask> added =
//         AddedProducts(CleanOwnedProducts(r), before);
//     RECSYS_RETURN_IF_ERROR(
//         builder->Observe(month, r.ncodpers.value, CleanOwnedProducts(r)));
//   }
//   RECSYS_RETURN_IF_ERROR(builder->WriteSnapshot(dir + "/history.bin"));
//
// The server loads the snapshot (serving the month after the last observed
// one) and looks customers up:
//
//   RECSYS_ASSIGN_OR_RETURN(std::shared_ptr<const ProductHistorySnapshot> h,
//                           LoadSnapshot(dir + "/history.bin"));
//   RECSYS_ASSIGN_OR_RETURN(HistoryView view,
//                           h->Lookup(ncodpers, fecha_dato.MonthIndex()));
//   if (!view.found) CountNewCustomer();  // served with an empty history
//
// Snapshot file format (little-endian, fixed-size fields):
//   "RSYSHIST" magic (8 bytes), u32 format version (1), i32 target month
//   index, u32 depth, u32 months_in_data (bit L-1: month target-L observed),
//   u64 customer count N, then N u32 customer ids (strictly increasing),
//   N*depth u32 month words (customer-major; word L-1 = lag L: bits 0..23 the
//   products, bit 24 = present), N i32 first-seen month indexes, and finally
//   a u64 FNV-1a 64 checksum of every byte before it.
// Memory: 4 + 4 * depth + 4 bytes per customer (32 for depth 6: about 30 MB
// for 950,000 customers), in three flat arrays; lookups binary-search the ids.
//
// Thread safety: ProductHistorySnapshot is immutable, safe to share across
// threads (std::shared_ptr<const ProductHistorySnapshot>). The builder is not
// thread-safe.
#ifndef RECSYS_FEATURIZER_PRODUCT_HISTORY_H_
#define RECSYS_FEATURIZER_PRODUCT_HISTORY_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/products.h"
#include "featurizer/history_view.h"

namespace recsys {

inline constexpr int kDefaultHistoryDepth = 6;
inline constexpr uint32_t kSnapshotFormatVersion = 1;

// Bit 24 of a stored month word: the customer was present that month.
inline constexpr uint32_t kPresentBit = uint32_t{1} << kNumProducts;

class ProductHistorySnapshot {
 public:
  // Parses a serialized snapshot. INVALID_ARGUMENT for a wrong magic or an
  // unsupported version; DATA_LOSS for a truncated or oversized buffer, a
  // checksum mismatch, or inconsistent contents (ids not increasing, bits
  // beyond the present bit, a depth outside 1..kMaxHistoryMonths, a month
  // outside years 1900..2100, a customer first seen at or after the target
  // month or present in a month that is not in the data).
  static absl::StatusOr<std::shared_ptr<const ProductHistorySnapshot>> Parse(
      absl::string_view bytes);

  // The file format described above.
  std::string Serialize() const;

  // The month this snapshot serves: lag 1 is target_month() - 1.
  int target_month() const { return target_month_; }
  int depth() const { return depth_; }
  uint16_t months_in_data() const { return months_in_data_; }
  int64_t num_customers() const { return static_cast<int64_t>(ids_.size()); }
  // The customers held, ascending.
  const std::vector<uint32_t>& customer_ids() const { return ids_; }
  // Bytes held by the arrays (excluding the object itself).
  int64_t MemoryBytes() const;

  // The history of `ncodpers` before month `target_month_index`. For a
  // target after target_month() the months in between count as not in the
  // data (their lags are unknown). A customer not in the snapshot (or an id
  // outside 0..2^32-1) gets a view with found == false but the same
  // months_in_data. Returns OUT_OF_RANGE when target_month_index <
  // target_month() (the snapshot holds months at or after the target).
  absl::StatusOr<HistoryView> Lookup(int64_t ncodpers,
                                     int target_month_index) const;

 private:
  friend class ProductHistoryBuilder;
  ProductHistorySnapshot() = default;

  int target_month_ = 0;
  int depth_ = 0;
  uint16_t months_in_data_ = 0;
  std::vector<uint32_t> ids_;        // sorted customer ids
  std::vector<uint32_t> months_;     // ids_.size() * depth_ month words
  std::vector<int32_t> first_seen_;  // first month index each was seen
};

// Writes `snapshot` to `path` atomically (temporary file, then rename).
// INTERNAL on an I/O error.
absl::Status WriteSnapshot(const ProductHistorySnapshot& snapshot,
                           const std::string& path);

// Reads a snapshot file: NOT_FOUND when it cannot be opened, otherwise as
// ProductHistorySnapshot::Parse (the message names the path).
absl::StatusOr<std::shared_ptr<const ProductHistorySnapshot>> LoadSnapshot(
    const std::string& path);

struct ProductHistoryOptions {
  // Months of history kept per customer, 1..kMaxHistoryMonths; must be at
  // least the spec's required_history_months(). Default 6.
  int depth = kDefaultHistoryDepth;
};

class ProductHistoryBuilder {
 public:
  // INVALID_ARGUMENT for a depth outside 1..kMaxHistoryMonths.
  static absl::StatusOr<std::unique_ptr<ProductHistoryBuilder>> Create(
      const ProductHistoryOptions& options);

  ProductHistoryBuilder(const ProductHistoryBuilder&) = delete;
  ProductHistoryBuilder& operator=(const ProductHistoryBuilder&) = delete;

  // Records that `ncodpers` owned `owned` in month `month_index`. A month
  // later than the current one ends the current month and opens the new one
  // (as AdvanceTo). INVALID_ARGUMENT for an earlier month, a month already
  // ended, an id outside 0..2^32-1, a customer recorded twice in a month or
  // bits beyond the 24 products.
  absl::Status Observe(int month_index, int64_t ncodpers, ProductMask owned);

  // Ends the current month and opens `month_index` (> the current month);
  // months skipped in between count as not in the data. INVALID_ARGUMENT for
  // an earlier or equal month.
  absl::Status AdvanceTo(int month_index);

  // Marks the current month complete: a later Observe for it is rejected.
  // Harmless when no month is open.
  void EndMonth();

  // The earliest month Lookup() answers for: the open month, or the month
  // after the last ended one; nullopt before the first Observe/AdvanceTo.
  std::optional<int> target_month() const;

  // The history of `ncodpers` before month `target_month_index`, exactly as a
  // Snapshot() would answer it: for the open month itself, the months before
  // it; for a later target, the open month counts as complete. Before any
  // month: an empty view. OUT_OF_RANGE when target_month_index <
  // target_month().
  absl::StatusOr<HistoryView> Lookup(int64_t ncodpers,
                                     int target_month_index) const;

  // An immutable snapshot of everything observed so far (the open month
  // included), serving the month after the last observed one.
  // FAILED_PRECONDITION before any month was observed.
  absl::StatusOr<std::shared_ptr<const ProductHistorySnapshot>> Snapshot()
      const;

  // Snapshot() written to `path` with WriteSnapshot.
  absl::Status WriteSnapshot(const std::string& path) const;

  int depth() const { return depth_; }
  int64_t num_customers() const { return static_cast<int64_t>(ids_.size()); }

 private:
  explicit ProductHistoryBuilder(int depth);

  // The view of slot `slot` (-1: an unknown customer) for month `target`.
  // REQUIRES: target >= latest_.
  HistoryView ViewOf(int64_t slot, int target) const;

  const int depth_;
  const int stride_;  // depth_ + 1: the open month and `depth_` lags
  bool started_ = false;
  bool open_ = false;  // whether month latest_ is still being observed
  int latest_ = 0;     // the most recent month opened
  uint32_t months_in_data_ = 0;  // bit j: month latest_ - j observed
  absl::flat_hash_map<uint32_t, uint32_t> slot_of_;  // id -> slot
  std::vector<uint32_t> ids_;                        // per slot
  // Per slot, stride_ words; word j is month latest_ - j.
  std::vector<uint32_t> months_;
  std::vector<int32_t> first_seen_;  // per slot
};

}  // namespace recsys

#endif  // RECSYS_FEATURIZER_PRODUCT_HISTORY_H_
