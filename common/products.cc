#include "common/products.h"

namespace recsys {

std::optional<int> FindProduct(absl::string_view name) {
  for (int i = 0; i < kNumProducts; ++i) {
    if (kProducts[i].column == name || kProducts[i].english == name) return i;
  }
  return std::nullopt;
}

}  // namespace recsys
