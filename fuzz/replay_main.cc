// Runs a fuzz target's LLVMFuzzerTestOneInput once on each file given (a
// directory stands for every regular file under it), without libFuzzer: the
// corpus replay that the ordinary build registers with ctest.
//
//   csv_tokenizer_replay fuzz/corpus/csv_tokenizer
//
// A crash or sanitizer report fails the run; so does a path that cannot be
// read or a directory that holds no file. Prints the number of inputs run.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <system_error>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

// Appends the regular files at `path` (itself, or under it) to `files`.
bool CollectFiles(const std::filesystem::path& path,
                  std::vector<std::filesystem::path>* files) {
  std::error_code error;
  if (std::filesystem::is_directory(path, error)) {
    for (const auto& entry :
         std::filesystem::recursive_directory_iterator(path, error)) {
      if (entry.is_regular_file()) files->push_back(entry.path());
    }
  } else if (std::filesystem::is_regular_file(path, error)) {
    files->push_back(path);
  } else {
    std::fprintf(stderr, "replay: %s is neither a file nor a directory\n",
                 path.c_str());
    return false;
  }
  return !error;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s FILE_OR_DIR...\n", argv[0]);
    return 2;
  }
  std::vector<std::filesystem::path> files;
  for (int i = 1; i < argc; ++i) {
    if (!CollectFiles(argv[i], &files)) return 1;
  }
  if (files.empty()) {
    std::fprintf(stderr, "replay: no input files\n");
    return 1;
  }
  std::sort(files.begin(), files.end());
  for (const auto& file : files) {
    std::ifstream in(file, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)),
                            std::istreambuf_iterator<char>());
    if (in.bad()) {
      std::fprintf(stderr, "replay: cannot read %s\n", file.c_str());
      return 1;
    }
    // A copy in its own allocation, so that AddressSanitizer sees reads past
    // its end.
    std::vector<uint8_t> data(bytes.begin(), bytes.end());
    LLVMFuzzerTestOneInput(data.data(), data.size());
  }
  std::printf("replayed %zu inputs\n", files.size());
  return 0;
}
