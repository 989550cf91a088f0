// Fuzz target: featurizer/product_history's snapshot reader (history.bin).
// The input is a snapshot file whose last 8 bytes are replaced by the right
// FNV-1a checksum of the others before parsing, so the fuzzer gets past the
// checksum to the checks behind it. A snapshot that parses is then looked up
// as the server does: a few of its customers and an unknown one, for its
// target month and later months.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>

#include "common/fnv.h"
#include "featurizer/product_history.h"

namespace {

void Check(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  if (bytes.size() >= 8) {
    const uint64_t checksum =
        recsys::Fnv1a64(absl::string_view(bytes).substr(0, bytes.size() - 8));
    std::memcpy(&bytes[bytes.size() - 8], &checksum, 8);  // little-endian
  }
  auto snapshot = recsys::ProductHistorySnapshot::Parse(bytes);
  if (!snapshot.ok()) {
    Check(!snapshot.status().message().empty());
    return 0;
  }
  const recsys::ProductHistorySnapshot& s = **snapshot;
  Check(s.depth() >= 1 && s.depth() <= recsys::kMaxHistoryMonths);
  s.MemoryBytes();
  // Customer ids to look up: 1..3 (likely present in small seeds), and
  // ids outside the 32-bit range the file can hold.
  for (int64_t id : {int64_t{1}, int64_t{2}, int64_t{3}, int64_t{-1},
                     int64_t{1} << 40}) {
    for (int later : {0, 1, 13}) {
      if (s.target_month() > std::numeric_limits<int>::max() - later) continue;
      auto view = s.Lookup(id, s.target_month() + later);
      if (!view.ok()) continue;
      Check((view->present & ~view->months_in_data) == 0);
    }
  }
  return 0;
}
