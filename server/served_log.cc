#include "server/served_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/date.h"
#include "common/file_util.h"
#include "common/fnv.h"
#include "common/status_macros.h"
#include "server/event_log.h"
#include "server/metrics.h"

namespace recsys {
namespace {

constexpr absl::string_view kMagic = "RSYSSRV1";
constexpr char kVersionRecord = 'V';
constexpr char kAnswerRecord = 'A';
constexpr int kMaxSlots = 1 << 16;
constexpr int kMaxModelName = 200;
constexpr int64_t kAnswerRecordBytes = 20;  // 2 + 14 + 4
constexpr int64_t kCompactSlackBytes = int64_t{1} << 20;
constexpr absl::string_view kPrefix = "served-";
constexpr absl::string_view kSuffix = ".log";

template <typename T>
void Put(T value, std::string* out) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));  // little-endian hosts only
  out->append(bytes, sizeof(T));
}

template <typename T>
T Get(const char* p) {
  T value;
  std::memcpy(&value, p, sizeof(T));
  return value;
}

// Appends type, length, payload and checksum.
void AppendRecord(char type, absl::string_view payload, std::string* out) {
  const size_t start = out->size();
  out->push_back(type);
  out->push_back(static_cast<char>(static_cast<uint8_t>(payload.size())));
  out->append(payload.data(), payload.size());
  const uint64_t sum =
      Fnv1a64(absl::string_view(out->data() + start, out->size() - start));
  Put<uint32_t>(static_cast<uint32_t>(sum), out);
}

void AppendAnswerRecord(uint32_t customer, const PackedAnswer& packed,
                        std::string* out) {
  const ServedAnswer a = UnpackAnswer(packed);
  char payload[14] = {};
  std::memcpy(payload, &customer, 4);
  const uint16_t slot = static_cast<uint16_t>(a.version);
  std::memcpy(payload + 4, &slot, 2);
  payload[6] = static_cast<char>(a.n);
  for (int i = 0; i < a.n; ++i) payload[7 + i] = static_cast<char>(a.products[i]);
  AppendRecord(kAnswerRecord, absl::string_view(payload, sizeof(payload)), out);
}

// Writes all of `bytes` to `fd`; the errno's status otherwise.
absl::Status WriteAll(int fd, absl::string_view bytes, const std::string& path) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::ErrnoToStatus(errno, absl::StrCat("cannot write ", path));
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

int OpenForAppend(const std::string& path) {
  return ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
}

}  // namespace

PackedAnswer PackAnswer(int version_slot, const TopKResult& top) {
  const int n = std::min(top.size, kKaggleMapK);
  uint64_t bits = static_cast<uint64_t>(version_slot & 0xffff) |
                  (static_cast<uint64_t>(n) << 16);
  for (int i = 0; i < n; ++i) {
    bits |= static_cast<uint64_t>(top.items[i].product & 31) << (19 + 5 * i);
  }
  return {static_cast<uint32_t>(bits), static_cast<uint32_t>(bits >> 32)};
}

ServedAnswer UnpackAnswer(const PackedAnswer& packed) {
  const uint64_t bits =
      static_cast<uint64_t>(packed[0]) | (static_cast<uint64_t>(packed[1]) << 32);
  ServedAnswer a;
  a.version = static_cast<int>(bits & 0xffff);
  a.n = static_cast<int>((bits >> 16) & 7);
  for (int i = 0; i < a.n; ++i)
    a.products[i] = static_cast<int>((bits >> (19 + 5 * i)) & 31);
  return a;
}

std::string ServedLog::MonthPath(const std::string& dir, int month) {
  return absl::StrCat(dir, "/", kPrefix, MonthName(month), kSuffix);
}

ServedLog::ServedLog(const ServedLogOptions& options) : options_(options) {}

absl::StatusOr<std::unique_ptr<ServedLog>> ServedLog::Create(
    const ServedLogOptions& options) {
  if (options.dir.empty())
    return absl::InvalidArgumentError("served log: a directory is required");
  if (options.max_months < 1 || options.max_customers_per_month < 1 ||
      options.queue_rows < 1) {
    return absl::InvalidArgumentError(
        "served log: months, customers per month and queue rows must each be "
        "at least 1");
  }
  std::error_code error;
  std::filesystem::create_directories(options.dir, error);
  if (error) {
    return absl::InternalError(absl::StrCat(
        "served log: cannot create ", options.dir, ": ", error.message()));
  }
  std::unique_ptr<ServedLog> log(new ServedLog(options));
  RECSYS_RETURN_IF_ERROR(log->Replay());
  log->writer_ = std::thread([raw = log.get()] { raw->WriterLoop(); });
  return log;
}

ServedLog::~ServedLog() {
  {
    absl::MutexLock lock(&queue_mu_);
    stopping_ = true;
  }
  if (writer_.joinable()) writer_.join();
  absl::MutexLock lock(&state_mu_);
  CloseAllLocked();
}

absl::Status ServedLog::Replay() {
  std::vector<std::pair<int, std::string>> files;
  std::error_code error;
  for (const auto& entry :
       std::filesystem::directory_iterator(options_.dir, error)) {
    const std::string name = entry.path().filename().string();
    if (!absl::StartsWith(name, kPrefix) || !absl::EndsWith(name, kSuffix))
      continue;
    absl::string_view month_text(name);
    month_text.remove_prefix(kPrefix.size());
    month_text.remove_suffix(kSuffix.size());
    absl::StatusOr<int> month = ParseMonthIndex(month_text);
    if (!month.ok()) continue;
    files.emplace_back(*month, entry.path().string());
  }
  if (error) {
    return absl::InternalError(absl::StrCat(
        "served log: cannot read ", options_.dir, ": ", error.message()));
  }
  std::sort(files.begin(), files.end());
  // The newest max_months months are kept; older files are removed.
  const size_t keep = static_cast<size_t>(options_.max_months);
  absl::MutexLock lock(&state_mu_);
  for (size_t i = 0; i < files.size(); ++i) {
    if (files.size() - i > keep) {
      LogEvent(absl::StrCat("served log: ", files[i].second,
                            " is older than the ", keep,
                            " months kept (--served-log-months): removed"));
      std::filesystem::remove(files[i].second, error);
      continue;
    }
    ReplayFile(files[i].second, files[i].first);
  }
  return absl::OkStatus();
}

void ServedLog::ReplayFile(const std::string& path, int month) {
  absl::StatusOr<std::string> bytes = ReadFileToString(path);
  if (!bytes.ok()) {
    LogEvent(absl::StrCat("served log: cannot read ", path, " (",
                          bytes.status().message(), "): month ",
                          MonthName(month), " starts empty"));
    return;
  }
  if (!absl::StartsWith(*bytes, kMagic)) {
    std::error_code error;
    std::filesystem::rename(path, path + ".corrupt", error);
    LogEvent(absl::StrCat("served log: ", path,
                          " does not start with the served-log magic: renamed "
                          "to .corrupt; month ",
                          MonthName(month), " starts empty"));
    return;
  }
  MonthState& state = months_[month];
  std::vector<int> file_slots;  // file slot number -> log slot
  size_t pos = kMagic.size();
  int64_t records = 0;
  std::string why;
  const std::string& b = *bytes;
  while (pos < b.size()) {
    if (b.size() - pos < 2) {
      why = "a record cut short";
      break;
    }
    const char type = b[pos];
    const size_t len = static_cast<uint8_t>(b[pos + 1]);
    if (b.size() - pos < 2 + len + 4) {
      why = "a record cut short";
      break;
    }
    const uint64_t sum = Fnv1a64(absl::string_view(b.data() + pos, 2 + len));
    if (static_cast<uint32_t>(sum) != Get<uint32_t>(b.data() + pos + 2 + len)) {
      why = "a checksum mismatch";
      break;
    }
    const char* p = b.data() + pos + 2;
    if (type == kVersionRecord && len >= 18 && len <= 18 + kMaxModelName) {
      ServedVersion v;
      const int file_slot = Get<uint16_t>(p);
      v.version = Get<int64_t>(p + 2);
      v.validation_map7 = Get<double>(p + 10);
      v.model.assign(p + 18, len - 18);
      const int slot = SlotOf(v);
      if (slot < 0) {
        why = "more model versions than the log can name";
        break;
      }
      if (file_slots.size() <= static_cast<size_t>(file_slot))
        file_slots.resize(file_slot + 1, -1);
      file_slots[file_slot] = slot;
    } else if (type == kAnswerRecord && len == 14) {
      const uint32_t customer = Get<uint32_t>(p);
      const int file_slot = Get<uint16_t>(p + 4);
      const int n = static_cast<uint8_t>(p[6]);
      bool valid = n <= kKaggleMapK &&
                   static_cast<size_t>(file_slot) < file_slots.size() &&
                   file_slots[file_slot] >= 0;
      TopKResult top;
      for (int i = 0; valid && i < n; ++i) {
        const int product = static_cast<uint8_t>(p[7 + i]);
        valid = product < kNumProducts;
        top.items[i].product = product;
      }
      if (!valid) {
        why = "an answer naming an undefined version or a bad product";
        break;
      }
      top.size = n;
      state.answers.insert_or_assign(customer,
                                     PackAnswer(file_slots[file_slot], top));
    } else {
      why = "an unknown record";
      break;
    }
    pos += 2 + len + 4;
    ++records;
  }
  if (pos < b.size()) {
    LogEvent(absl::StrCat("served log: ", path, ": dropped ", b.size() - pos,
                          " bytes from offset ", pos, " (", why,
                          ": a write torn by a crash); kept ", records,
                          " records"));
    if (::truncate(path.c_str(), static_cast<off_t>(pos)) != 0) {
      LogEvent(absl::StrCat("served log: cannot truncate ", path, ": ",
                            std::strerror(errno)));
    }
  }
  state.bytes = static_cast<int64_t>(pos);
  // The file's slot numbers that name the same version as the log's slot.
  state.file_slots.assign(file_slots.size(), -1);
  for (size_t s = 0; s < file_slots.size(); ++s) {
    state.file_slots[s] = file_slots[s];
  }
  state.fd = OpenForAppend(path);
  if (state.fd < 0) {
    LogEvent(absl::StrCat("served log: cannot open ", path, " to append: ",
                          std::strerror(errno), " (answers kept in memory)"));
  }
  LogEvent(absl::StrCat("served log: ", MonthName(month), " replayed from ",
                        path, ": ", state.answers.size(), " customers"));
}

int ServedLog::SlotOf(const ServedVersion& version) {
  absl::MutexLock lock(&versions_mu_);
  for (size_t i = 0; i < versions_.size(); ++i) {
    if (versions_[i].version == version.version &&
        versions_[i].model == version.model) {
      return static_cast<int>(i);
    }
  }
  if (versions_.size() >= static_cast<size_t>(kMaxSlots)) return -1;
  ServedVersion v = version;
  if (v.model.size() > static_cast<size_t>(kMaxModelName))
    v.model.resize(kMaxModelName);
  versions_.push_back(std::move(v));
  return static_cast<int>(versions_.size() - 1);
}

ServedVersion ServedLog::VersionAt(int slot) const {
  absl::MutexLock lock(&versions_mu_);
  return versions_.at(static_cast<size_t>(slot));
}

void ServedLog::Record(const ScoredRows& scored) {
  if (scored.model == nullptr || scored.scores.empty()) return;
  // Version names are interned once per batch and version (the champion and
  // at most one challenger), not per row.
  const ModelVersion* slot_model[2] = {nullptr, nullptr};
  int slot_of[2] = {-1, -1};
  auto slot_for = [&](const ModelVersion& model) {
    for (int k = 0; k < 2; ++k) {
      if (slot_model[k] == &model) return slot_of[k];
      if (slot_model[k] == nullptr) {
        slot_model[k] = &model;
        slot_of[k] = SlotOf({model.name(), model.version(),
                             model.manifest().metrics.model_map7});
        return slot_of[k];
      }
    }
    return SlotOf({model.name(), model.version(),
                   model.manifest().metrics.model_map7});
  };
  thread_local std::vector<QueuedRow> rows;
  rows.clear();
  int64_t no_slot = 0;  // rows of a version the version table has no room for
  const size_t n = std::min(scored.scores.size(), scored.requests.size());
  for (size_t i = 0; i < n; ++i) {
    const RowScore& row = scored.scores[i];
    const IntField& id = scored.requests[i].record.ncodpers;
    if (!row.status.ok() || !id.present() || id.value < 0 ||
        id.value > int64_t{0xffffffff}) {
      continue;
    }
    // The version that answered this customer: the champion, or the
    // challenger for a customer in its share.
    const int slot = slot_for(scored.ModelOf(i));
    if (slot < 0) {
      ++no_slot;
      continue;
    }
    rows.push_back({row.target_month, static_cast<uint32_t>(id.value),
                    PackAnswer(slot, row.top)});
  }
  int64_t dropped = no_slot;
  if (!rows.empty()) {
    absl::MutexLock lock(&queue_mu_);
    if (static_cast<int64_t>(queue_.size() + rows.size()) > options_.queue_rows) {
      dropped += static_cast<int64_t>(rows.size());
      queue_dropped_ += static_cast<int64_t>(rows.size());
    } else {
      queue_.insert(queue_.end(), rows.begin(), rows.end());
    }
  }
  if (dropped > 0 && options_.metrics != nullptr)
    options_.metrics->ServedLogRows(0, dropped);
}

void ServedLog::Flush() {
  absl::MutexLock lock(&queue_mu_);
  queue_mu_.Await(absl::Condition(
      +[](ServedLog* log) ABSL_NO_THREAD_SAFETY_ANALYSIS {
        return log->queue_.empty() && !log->writing_;
      },
      this));
}

void ServedLog::WriterLoop() {
  std::vector<QueuedRow> batch;
  for (;;) {
    {
      absl::MutexLock lock(&queue_mu_);
      queue_mu_.Await(absl::Condition(
          +[](ServedLog* log) ABSL_NO_THREAD_SAFETY_ANALYSIS {
            return !log->queue_.empty() || log->stopping_;
          },
          this));
      if (queue_.empty()) return;  // stopping, and everything written
      batch.swap(queue_);
      writing_ = true;
    }
    {
      absl::MutexLock lock(&state_mu_);
      WriteBatch(batch);
    }
    batch.clear();
    absl::MutexLock lock(&queue_mu_);
    writing_ = false;
  }
}

void ServedLog::AppendVersionRecord(int slot, std::string* out) const {
  const ServedVersion v = VersionAt(slot);
  std::string payload;
  Put<uint16_t>(static_cast<uint16_t>(slot), &payload);
  Put<int64_t>(v.version, &payload);
  Put<double>(v.validation_map7, &payload);
  payload.append(v.model);
  AppendRecord(kVersionRecord, payload, out);
}

ServedLog::MonthState* ServedLog::OpenMonthLocked(int month) {
  auto it = months_.find(month);
  if (it != months_.end()) return &it->second;
  if (months_.size() >= static_cast<size_t>(options_.max_months)) {
    auto oldest = months_.begin();
    if (month < oldest->first) return nullptr;
    const std::string path = MonthPath(options_.dir, oldest->first);
    if (oldest->second.fd >= 0) ::close(oldest->second.fd);
    std::error_code error;
    std::filesystem::remove(path, error);
    LogEvent(absl::StrCat("served log: month ", MonthName(oldest->first),
                          " dropped (", oldest->second.answers.size(),
                          " customers) to keep ", options_.max_months,
                          " months (--served-log-months) as ",
                          MonthName(month), " arrives"));
    months_.erase(oldest);
    ++dropped_months_;
    if (options_.metrics != nullptr) options_.metrics->ServedLogMonthDropped();
  }
  const std::string path = MonthPath(options_.dir, month);
  MonthState& state = months_[month];
  state.fd = OpenForAppend(path);
  absl::Status status =
      state.fd < 0
          ? absl::ErrnoToStatus(errno, absl::StrCat("cannot open ", path))
          : WriteAll(state.fd, kMagic, path);
  if (status.ok() && ::fdatasync(state.fd) != 0)
    status = absl::ErrnoToStatus(errno, absl::StrCat("cannot sync ", path));
  if (status.ok()) status = SyncDirectory(options_.dir);
  if (!status.ok()) {
    LogEvent(absl::StrCat("served log: ", status.message(),
                          " (month kept in memory only)"));
    if (state.fd >= 0) ::close(state.fd);
    state.fd = -1;
  }
  state.bytes = static_cast<int64_t>(kMagic.size());
  return &state;
}

void ServedLog::CountDropped(int64_t rows) {
  dropped_rows_ += rows;
  if (options_.metrics != nullptr && rows > 0)
    options_.metrics->ServedLogRows(0, rows);
}

void ServedLog::WriteBatch(const std::vector<QueuedRow>& rows) {
  std::map<int, std::string> out;  // month -> bytes to append
  int64_t logged = 0;
  int64_t dropped = 0;
  for (const QueuedRow& row : rows) {
    MonthState* state = OpenMonthLocked(row.month);
    if (state == nullptr) {
      ++dropped;
      continue;
    }
    auto it = state->answers.find(row.customer);
    if (it == state->answers.end() &&
        static_cast<int64_t>(state->answers.size()) >=
            options_.max_customers_per_month) {
      ++dropped;
      continue;
    }
    std::string& bytes = out[row.month];
    const int slot = static_cast<int>(row.answer[0] & 0xffff);
    if (state->file_slots.size() <= static_cast<size_t>(slot))
      state->file_slots.resize(slot + 1, -1);
    if (state->file_slots[slot] != slot) {
      AppendVersionRecord(slot, &bytes);
      state->file_slots[slot] = slot;
    }
    AppendAnswerRecord(row.customer, row.answer, &bytes);
    if (it == state->answers.end()) {
      state->answers.emplace(row.customer, row.answer);
    } else {
      it->second = row.answer;
    }
    ++logged;
  }
  for (auto& [month, bytes] : out) {
    auto it = months_.find(month);
    if (it == months_.end()) continue;  // dropped by the month cap meanwhile
    MonthState& state = it->second;
    state.bytes += static_cast<int64_t>(bytes.size());
    if (state.fd < 0) continue;
    const std::string path = MonthPath(options_.dir, month);
    absl::Status status = WriteAll(state.fd, bytes, path);
    if (status.ok() && ::fdatasync(state.fd) != 0)
      status = absl::ErrnoToStatus(errno, absl::StrCat("cannot sync ", path));
    if (!status.ok()) {
      LogEvent(absl::StrCat("served log: ", status.message(),
                            " (the month is rewritten at its next compaction)"));
    }
    if (state.bytes > kAnswerRecordBytes * 2 *
                              static_cast<int64_t>(state.answers.size()) +
                          kCompactSlackBytes) {
      CompactLocked(month, &state);
    }
  }
  if (options_.metrics != nullptr) options_.metrics->ServedLogRows(logged, 0);
  CountDropped(dropped);
}

void ServedLog::CompactLocked(int month, MonthState* state) {
  const std::string path = MonthPath(options_.dir, month);
  std::vector<bool> used;
  for (const auto& [customer, answer] : state->answers) {
    const size_t slot = answer[0] & 0xffff;
    if (used.size() <= slot) used.resize(slot + 1, false);
    used[slot] = true;
  }
  std::string bytes(kMagic);
  bytes.reserve(static_cast<size_t>(kAnswerRecordBytes) * state->answers.size() +
                kMagic.size());
  std::vector<int> file_slots(used.size(), -1);
  for (size_t slot = 0; slot < used.size(); ++slot) {
    if (!used[slot]) continue;
    AppendVersionRecord(static_cast<int>(slot), &bytes);
    file_slots[slot] = static_cast<int>(slot);
  }
  for (const auto& [customer, answer] : state->answers)
    AppendAnswerRecord(customer, answer, &bytes);
  absl::Status status = WriteFileAtomically(path, bytes);
  if (!status.ok()) {
    LogEvent(absl::StrCat("served log: compaction of ", path, " failed: ",
                          status.message()));
    return;
  }
  if (state->fd >= 0) ::close(state->fd);
  state->fd = OpenForAppend(path);
  state->bytes = static_cast<int64_t>(bytes.size());
  state->file_slots = std::move(file_slots);
}

void ServedLog::CloseAllLocked() {
  for (auto& [month, state] : months_) {
    if (state.fd < 0) continue;
    ::fdatasync(state.fd);
    ::close(state.fd);
    state.fd = -1;
  }
}

std::vector<int> ServedLog::Months() const {
  absl::ReaderMutexLock lock(&state_mu_);
  std::vector<int> months;
  for (const auto& [month, state] : months_) months.push_back(month);
  return months;
}

ServedMonth ServedLog::Month(int month) const {
  ServedMonth copy;
  copy.month = month;
  {
    absl::MutexLock lock(&versions_mu_);
    copy.versions = versions_;
  }
  absl::ReaderMutexLock lock(&state_mu_);
  auto it = months_.find(month);
  if (it != months_.end()) copy.answers = it->second.answers;
  return copy;
}

int64_t ServedLog::dropped_rows() const {
  int64_t queued;
  {
    absl::MutexLock lock(&queue_mu_);
    queued = queue_dropped_;
  }
  absl::ReaderMutexLock lock(&state_mu_);
  return dropped_rows_ + queued;
}

int64_t ServedLog::dropped_months() const {
  absl::ReaderMutexLock lock(&state_mu_);
  return dropped_months_;
}

int64_t ServedLog::disk_bytes() const {
  absl::ReaderMutexLock lock(&state_mu_);
  int64_t total = 0;
  for (const auto& [month, state] : months_) total += state.bytes;
  return total;
}

}  // namespace recsys
