// FNV-1a 64: a small, stable, non-cryptographic hash for the feature spec
// hash, the product-history snapshot checksum and the bundle file checksums.
//
//   uint64_t h = Fnv1a64("abc");
//   h = Fnv1a64("more", h);  // continue over several pieces
#ifndef RECSYS_COMMON_FNV_H_
#define RECSYS_COMMON_FNV_H_

#include <cstdint>

#include "absl/strings/string_view.h"

namespace recsys {

inline constexpr uint64_t kFnv1a64Offset = 14695981039346656037ull;

// The FNV-1a 64 hash of `bytes`, continuing from `hash` (the offset basis for
// a fresh hash).
inline uint64_t Fnv1a64(absl::string_view bytes,
                        uint64_t hash = kFnv1a64Offset) {
  for (unsigned char c : bytes) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  return hash;
}

}  // namespace recsys

#endif  // RECSYS_COMMON_FNV_H_
