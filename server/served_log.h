// ServedLog: what the server answered, per month, so that last month's
// recommendations can meet their outcome (server/realized_quality.h).
//
// For each month (the month each row was scored for: its fecha_dato) it
// keeps, per customer, the model version and the top 7 products of the LAST
// answer the server gave that customer for that month, in memory and in an
// append-only file per month, replayed at start:
//
//   RECSYS_ASSIGN_OR_RETURN(auto log, ServedLog::Create({.dir = "served"}));
//   log->Record(scored);  // a ScoredRows (server/scoring_engine.h)
//   ...
//   ServedMonth june = log->Month(*ParseMonthIndex("2016-06"));
//
// Record() only copies the rows (customer, month, version, top 7: 16 bytes
// each) into a bounded queue under a short lock, once per batch; one writer
// thread drains the queue, appends the records to the month's file,
// fdatasyncs each file it wrote once per drain (group commit), then applies
// them to the in-memory state. A full queue drops the batch's rows (counted:
// recsys_served_log_rows_total{result="dropped"}): scoring never waits for
// the disk.
//
// Durability: an answer is on disk once the drain that took it has synced
// (Flush() waits for that); a kill -9 loses at most the rows still queued
// (at most queue_rows) and the drain being written. A clean shutdown (the
// destructor) drains and syncs everything.
//
// File format (DIR/served-YYYY-MM.log, little-endian): the magic
// "RSYSSRV1" (8 bytes), then records, each
//   u8 type, u8 payload length, payload, u32 checksum
// where the checksum is the low 32 bits of FNV-1a 64 over type, length and
// payload. Types:
//   'V' a model version: u16 slot, i64 version, f64 validation MAP@7, then
//       the model name (at most 200 bytes); a file defines each slot before
//       an 'A' record uses it;
//   'A' an answer: u32 customer, u16 slot, u8 n (0..7), 7 u8 product
//       indexes (the first n valid, best first): 20 bytes in all.
// Replay reads each file up to the first record that is cut short or fails
// its checksum (a write torn by a crash), logs one line naming the file, the
// offset and the bytes dropped, and truncates the file there, so appends
// continue after the last good record; a torn tail is never fatal. A file
// without the magic is renamed to *.corrupt (logged) and the month starts
// empty.
//
// Bounds (n = customers answered in a month, M = max_months, Q =
// queue_rows):
//   memory <= M * 13 bytes * 2^ceil(log2(8n/7 + 1)) + 16 * Q   (<= M*30n + 16Q)
//     (a hash table of 12-byte entries and 1 control byte per slot);
//     for n = 950,000: 27.3 MB per month, 82 MB with M = 3, plus 1 MiB of
//     queue with the default Q = 65,536 (and, while a month is evaluated,
//     one month's copy: Month());
//   disk   <= M * (40n + 1 MiB + 20Q)
//     (a month's file is rewritten with only its live answers, 20n bytes,
//     once it passes 40n + 1 MiB; a rewrite needs 20n more while it runs);
//     for n = 950,000: 40.3 MB per month, 121 MB with M = 3.
//   n itself is capped by max_customers_per_month (a client cannot grow the
//   log by inventing customers): rows of new customers beyond it are dropped
//   and counted.
// When a row arrives for a month not yet kept and M months are kept, the
// oldest month is dropped (its file deleted; logged and counted in
// recsys_served_log_months_dropped_total) if the new month is newer than it;
// a row for a month older than every kept month is dropped and counted.
//
// Thread-safe: Record() may be called from any thread (it takes one short
// lock per call); Month(), Months() and Flush() likewise.
#ifndef RECSYS_SERVER_SERVED_LOG_H_
#define RECSYS_SERVER_SERVED_LOG_H_

#include <array>
#include <map>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "common/map_at_k.h"
#include "common/ranking.h"
#include "server/scoring_engine.h"

namespace recsys {

class ServerMetrics;

// A model version named by answers in the log.
struct ServedVersion {
  std::string model;
  int64_t version = 0;
  // The bundle's validation MAP@7 (BundleManifest::metrics.model_map7).
  double validation_map7 = 0;
};

// One answer, packed: bits 0..15 the version slot, 16..18 n, then n 5-bit
// product indexes (best first).
using PackedAnswer = std::array<uint32_t, 2>;

// One answer unpacked.
struct ServedAnswer {
  int version = 0;  // index into ServedMonth::versions / the slot
  int n = 0;        // products[0..n) valid, best first
  std::array<int, kKaggleMapK> products{};
  absl::Span<const int> ranked() const { return {products.data(), size_t(n)}; }
};

PackedAnswer PackAnswer(int version_slot, const TopKResult& top);
ServedAnswer UnpackAnswer(const PackedAnswer& packed);

// A copy of one month of the log.
struct ServedMonth {
  int month = 0;  // month index
  // Indexed by ServedAnswer::version (slots of the whole log: some may be
  // unused in this month).
  std::vector<ServedVersion> versions;
  // Customer -> the last answer of the month.
  absl::flat_hash_map<uint32_t, PackedAnswer> answers;
};

struct ServedLogOptions {
  // Directory of the month files; created if missing. Required.
  std::string dir;
  // Months kept (memory and disk); a newer month drops the oldest. Default 3.
  int max_months = 3;
  // Customers kept per month; rows of further new customers are dropped.
  // Default 2,000,000.
  int64_t max_customers_per_month = 2'000'000;
  // Rows queued for the writer; more are dropped. Default 65,536.
  int64_t queue_rows = 65'536;
  // Where the row and month counts go; may be null. Borrowed, must outlive
  // the log. Default null.
  ServerMetrics* metrics = nullptr;
};

class ServedLog {
 public:
  // Opens (creating) options.dir, replays the newest max_months
  // served-YYYY-MM.log files in it (older ones are removed, logged; a torn
  // tail is dropped and logged, see the file comment) and starts the writer
  // thread. INVALID_ARGUMENT for an empty dir or a limit < 1;
  // INTERNAL when the directory cannot be created or read.
  static absl::StatusOr<std::unique_ptr<ServedLog>> Create(
      const ServedLogOptions& options);
  // Drains the queue, syncs and stops the writer.
  ~ServedLog();
  ServedLog(const ServedLog&) = delete;
  ServedLog& operator=(const ServedLog&) = delete;

  // Queues the answers of one scored batch (a view valid only during the
  // call): each row scored OK, for the month it was scored for
  // (RowScore::target_month), its customer (rows whose ncodpers is outside
  // 0..2^32-1 are skipped), the first 7 products of its top, and the
  // version scored.model names. Never blocks on the disk: drops the rows
  // (counted) when the queue is full.
  void Record(const ScoredRows& scored) ABSL_LOCKS_EXCLUDED(queue_mu_);

  // Returns once every row queued before the call is on disk and in memory.
  void Flush() ABSL_LOCKS_EXCLUDED(queue_mu_);

  // The months kept, ascending.
  std::vector<int> Months() const ABSL_LOCKS_EXCLUDED(state_mu_);
  // A copy of month `month` (empty answers when it is not kept).
  ServedMonth Month(int month) const ABSL_LOCKS_EXCLUDED(state_mu_);

  // Rows dropped so far (queue full, customer cap, month older than every
  // kept one) and months dropped by the month cap.
  int64_t dropped_rows() const ABSL_LOCKS_EXCLUDED(state_mu_);
  int64_t dropped_months() const ABSL_LOCKS_EXCLUDED(state_mu_);
  // Bytes of the month files now.
  int64_t disk_bytes() const ABSL_LOCKS_EXCLUDED(state_mu_);

  // The path of month `month`'s file in `dir`.
  static std::string MonthPath(const std::string& dir, int month);

 private:
  struct QueuedRow {
    int32_t month;
    uint32_t customer;
    PackedAnswer answer;
  };
  struct MonthState {
    absl::flat_hash_map<uint32_t, PackedAnswer> answers;
    int fd = -1;
    int64_t bytes = 0;  // file size
    // Per slot number: the log's slot that the file's latest 'V' record of
    // that number names (-1: none yet).
    std::vector<int> file_slots;
  };

  explicit ServedLog(const ServedLogOptions& options);
  absl::Status Replay() ABSL_LOCKS_EXCLUDED(state_mu_);
  void ReplayFile(const std::string& path, int month)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(state_mu_);
  // The slot of `version`, interning it; -1 when 65,536 are in use.
  int SlotOf(const ServedVersion& version) ABSL_LOCKS_EXCLUDED(versions_mu_);
  ServedVersion VersionAt(int slot) const ABSL_LOCKS_EXCLUDED(versions_mu_);
  void WriterLoop();
  // Writes and applies one drained batch.
  void WriteBatch(const std::vector<QueuedRow>& rows)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(state_mu_);
  // The state of `month`, opening its file (and dropping the oldest month
  // at the cap); null when the row must be dropped.
  MonthState* OpenMonthLocked(int month) ABSL_EXCLUSIVE_LOCKS_REQUIRED(state_mu_);
  // Rewrites `month`'s file with only its live answers.
  void CompactLocked(int month, MonthState* state)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(state_mu_);
  void AppendVersionRecord(int slot, std::string* out) const;
  void CountDropped(int64_t rows) ABSL_EXCLUSIVE_LOCKS_REQUIRED(state_mu_);
  void CloseAllLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(state_mu_);

  const ServedLogOptions options_;

  mutable absl::Mutex versions_mu_;
  std::vector<ServedVersion> versions_ ABSL_GUARDED_BY(versions_mu_);

  mutable absl::Mutex queue_mu_ ABSL_ACQUIRED_BEFORE(state_mu_);
  std::vector<QueuedRow> queue_ ABSL_GUARDED_BY(queue_mu_);
  int64_t queue_dropped_ ABSL_GUARDED_BY(queue_mu_) = 0;
  bool writing_ ABSL_GUARDED_BY(queue_mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(queue_mu_) = false;

  mutable absl::Mutex state_mu_;
  std::map<int, MonthState> months_ ABSL_GUARDED_BY(state_mu_);
  int64_t dropped_rows_ ABSL_GUARDED_BY(state_mu_) = 0;
  int64_t dropped_months_ ABSL_GUARDED_BY(state_mu_) = 0;

  std::thread writer_;
};

}  // namespace recsys

#endif  // RECSYS_SERVER_SERVED_LOG_H_
