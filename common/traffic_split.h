// Champion / challenger traffic split: which customers a challenger model
// version answers. A customer's place in [0, 1) comes from a stable hash of
// the customer code (ncodpers) alone, so a customer always sees the same
// version for a given share, on every replica and across restarts, and a
// larger share only adds customers (those under the old share stay).
//
//   if (RoutesToChallenger(record.ncodpers.value, share)) ... challenger ...
//
// The function, for other services that must reproduce it (e.g. to join what
// a customer was served with the version that served it):
//   h = FNV-1a 64 (offset basis 14695981039346656037, prime 1099511628211)
//       over the 8 bytes of ncodpers as a two's-complement int64, least
//       significant byte first;
//   h = SplitMix64 finalizer of h:  h ^= h >> 30; h *= 0xbf58476d1ce4e5b9;
//       h ^= h >> 27; h *= 0x94d049bb133111eb; h ^= h >> 31;
//   bucket = (h >> 11) * 2^-53                    (a double in [0, 1));
//   challenger = bucket < share.
// (FNV-1a alone leaves the high bits of short inputs poorly mixed: the
// finalizer spreads consecutive customer codes evenly.)
//
// Pure functions; thread-safe.
#ifndef RECSYS_COMMON_TRAFFIC_SPLIT_H_
#define RECSYS_COMMON_TRAFFIC_SPLIT_H_

#include <cstdint>

#include "common/fnv.h"

namespace recsys {

// The customer's stable place in [0, 1) (see above).
inline double CustomerBucket(int64_t ncodpers) {
  const uint64_t u = static_cast<uint64_t>(ncodpers);
  char bytes[8];
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>((u >> (8 * i)) & 0xff);
  uint64_t h = Fnv1a64(absl::string_view(bytes, sizeof(bytes)));
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebull;
  h ^= h >> 31;
  return static_cast<double>(h >> 11) * (1.0 / 9007199254740992.0);  // 2^53
}

// Whether the customer is answered by the challenger when it takes `share`
// of the customers (0 = none, 1 = all).
inline bool RoutesToChallenger(int64_t ncodpers, double share) {
  return share > 0 && CustomerBucket(ncodpers) < share;
}

}  // namespace recsys

#endif  // RECSYS_COMMON_TRAFFIC_SPLIT_H_
