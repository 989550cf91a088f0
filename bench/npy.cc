#include "bench/npy.h"

#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace recsys {
namespace {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "the .npy files are written as little-endian");

template <typename T>
absl::Status Write(const std::string& path, const std::string& descr,
                   const T* data, const std::vector<int64_t>& shape) {
  int64_t count = 1;
  for (int64_t d : shape) count *= d;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  const std::string header = NpyHeader(descr, shape);
  out.write(header.data(), static_cast<std::streamsize>(header.size()));
  out.write(reinterpret_cast<const char*>(data),
            static_cast<std::streamsize>(count * sizeof(T)));
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

}  // namespace

std::string NpyHeader(const std::string& descr,
                      const std::vector<int64_t>& shape) {
  std::string dims = absl::StrJoin(shape, ", ");
  if (shape.size() == 1) dims += ",";
  std::string dict =
      absl::StrCat("{'descr': '", descr,
                   "', 'fortran_order': False, 'shape': (", dims, "), }");
  // magic (6) + version (2) + header length (2) + dict + '\n', padded with
  // spaces to a multiple of 64.
  const size_t unpadded = 10 + dict.size() + 1;
  dict.append((64 - unpadded % 64) % 64, ' ');
  dict.push_back('\n');
  std::string header("\x93NUMPY\x01\x00", 8);
  header.push_back(static_cast<char>(dict.size() & 0xff));
  header.push_back(static_cast<char>(dict.size() >> 8));
  return header + dict;
}

absl::Status WriteNpy(const std::string& path, const float* data,
                      const std::vector<int64_t>& shape) {
  return Write(path, "<f4", data, shape);
}
absl::Status WriteNpy(const std::string& path, const uint32_t* data,
                      const std::vector<int64_t>& shape) {
  return Write(path, "<u4", data, shape);
}
absl::Status WriteNpy(const std::string& path, const int64_t* data,
                      const std::vector<int64_t>& shape) {
  return Write(path, "<i8", data, shape);
}

}  // namespace recsys
