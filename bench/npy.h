// Writing NumPy .npy files (format version 1.0), so that Python reads what
// our featurizer computed with numpy.load():
//
//   RECSYS_RETURN_IF_ERROR(WriteNpy("features.npy", features.data(),
//                                   {rows, num_features}));
//
// Little-endian, C order; element types float32, uint32 and int64.
#ifndef RECSYS_BENCH_NPY_H_
#define RECSYS_BENCH_NPY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace recsys {

// The .npy header (magic, version, length, dict padded to 64 bytes) for an
// array of dtype `descr` (e.g. "<f4") and `shape`.
std::string NpyHeader(const std::string& descr,
                      const std::vector<int64_t>& shape);

// Writes `data` (product of `shape` elements) to `path`. INTERNAL on an I/O
// error.
absl::Status WriteNpy(const std::string& path, const float* data,
                      const std::vector<int64_t>& shape);
absl::Status WriteNpy(const std::string& path, const uint32_t* data,
                      const std::vector<int64_t>& shape);
absl::Status WriteNpy(const std::string& path, const int64_t* data,
                      const std::vector<int64_t>& shape);

}  // namespace recsys

#endif  // RECSYS_BENCH_NPY_H_
