// version_memory: what one loaded model version holds in memory, measured in
// process (README.md, "Model versions in requests and in memory").
//
//   build/bin/version_memory models/santander/1 1 [copies=3]
//
// Loads the bundle in DIR (its manifest's VERSION) `copies` times with
// LoadModelVersion, as the model store does for each version it keeps, holds
// every copy, then releases them. After each step it prints the heap in use
// (glibc mallinfo2: uordblks + hblkhd, i.e. what the process has allocated
// and not freed, blocks and mmapped chunks alike) and the resident size
// (VmRSS). The heap delta per copy is what a version holds; the RSS delta is
// that plus what the allocator keeps from the load's temporary buffers.
#include <malloc.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "model_store/model_version.h"

namespace {

int64_t HeapInUse() {
  const struct mallinfo2 info = mallinfo2();
  return static_cast<int64_t>(info.uordblks + info.hblkhd);
}

int64_t RssBytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    int64_t kib = 0;
    if (line.rfind("VmRSS:", 0) == 0 &&
        absl::SimpleAtoi(line.substr(6, line.size() - 6 - 3), &kib))
      return kib * 1024;
  }
  return 0;
}

void Print(const char* what, int64_t heap0, int64_t rss0) {
  std::printf("%-22s heap in use %+8.2f MiB   RSS %+8.2f MiB\n", what,
              (HeapInUse() - heap0) / 1048576.0, (RssBytes() - rss0) / 1048576.0);
}

}  // namespace

int main(int argc, char** argv) {
  int64_t version = 0;
  int copies = 3;
  if (argc < 3 || !absl::SimpleAtoi(argv[2], &version) ||
      (argc > 3 && !absl::SimpleAtoi(argv[3], &copies)) || copies < 1) {
    std::fprintf(stderr, "usage: version_memory DIR VERSION [COPIES]\n");
    return 2;
  }
  const int64_t heap0 = HeapInUse();
  const int64_t rss0 = RssBytes();
  Print("before", heap0, rss0);
  std::vector<std::shared_ptr<const recsys::ModelVersion>> held;
  for (int i = 0; i < copies; ++i) {
    absl::StatusOr<std::shared_ptr<const recsys::ModelVersion>> model =
        recsys::LoadModelVersion(argv[1], version);
    if (!model.ok()) {
      std::fprintf(stderr, "%s\n", model.status().ToString().c_str());
      return 1;
    }
    held.push_back(*std::move(model));
    const std::string what = std::to_string(i + 1) + " version(s) held";
    Print(what.c_str(), heap0, rss0);
  }
  held.clear();
  Print("all released", heap0, rss0);
  malloc_trim(0);
  Print("after malloc_trim", heap0, rss0);
  return 0;
}
