// ReadBundleFile: what a bundle reader refuses before reading (FIFOs,
// devices, symlinks out of the store, files over the cap or of another size
// than the manifest), and that errno codes keep their meaning.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "common/file_util.h"
#include "model_store/bundle.h"

namespace recsys {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class ReadBundleFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/bundle-test-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    root_ = pattern;
    dir_ = root_ + "/santander/1";
    fs::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  std::string Write(const std::string& name, const std::string& bytes) {
    const std::string path = absl::StrCat(dir_, "/", name);
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }
  BundleReadLimits Limits(int64_t cap = kDefaultMaxBundleFileBytes) {
    BundleReadLimits limits;
    limits.max_file_bytes = cap;
    limits.root = root_;
    return limits;
  }

  std::string root_, dir_;
};

TEST_F(ReadBundleFileTest, ReadsARegularFileOfTheManifestSize) {
  const std::string path = Write("model.ubj", "12345");
  absl::StatusOr<std::string> bytes = ReadBundleFile(path, 5, Limits());
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  EXPECT_EQ(*bytes, "12345");
  EXPECT_TRUE(ReadBundleFile(path, -1, Limits()).ok()) << "size unknown";
}

TEST_F(ReadBundleFileTest, AFifoIsRefusedWithoutWaitingForAWriter) {
  const std::string path = absl::StrCat(dir_, "/model.ubj");
  ASSERT_EQ(::mkfifo(path.c_str(), 0644), 0);
  // Before the fix, open() blocked forever; the bound turns a regression
  // into a failure (the blocked thread then keeps the binary from exiting,
  // so the FIFO is opened for writing to release it).
  auto read = std::async(std::launch::async,
                         [&] { return ReadBundleFile(path, -1, Limits()); });
  if (read.wait_for(std::chrono::seconds(30)) != std::future_status::ready) {
    const int fd = ::open(path.c_str(), O_WRONLY);
    ::close(fd);
    FAIL() << "reading a FIFO blocked";
  }
  absl::Status status = read.get().status();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(), HasSubstr("model.ubj is a FIFO"));
}

TEST_F(ReadBundleFileTest, ASymlinkToDevZeroIsRefused) {
  const std::string path = absl::StrCat(dir_, "/model.ubj");
  fs::create_symlink("/dev/zero", path);
  absl::Status status = ReadBundleFile(path, -1, Limits()).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(), HasSubstr("symbolic link to /dev/zero"));
  EXPECT_THAT(status.message(), HasSubstr("outside"));
}

TEST_F(ReadBundleFileTest, ADeviceInsideTheRootIsRefusedAsNotRegular) {
  // Even with / as the root, a character device is not a bundle file.
  const std::string path = absl::StrCat(dir_, "/history.bin");
  fs::create_symlink("/dev/zero", path);
  BundleReadLimits limits = Limits();
  limits.root = "/";
  absl::Status status = ReadBundleFile(path, -1, limits).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(), HasSubstr("a character device"));
}

TEST_F(ReadBundleFileTest, ASymlinkToAnotherVersionInTheStoreIsRead) {
  fs::create_directories(root_ + "/santander/2");
  std::ofstream(root_ + "/santander/2/history.bin") << "shared";
  const std::string path = absl::StrCat(dir_, "/history.bin");
  fs::create_symlink("../2/history.bin", path);
  absl::StatusOr<std::string> bytes = ReadBundleFile(path, 6, Limits());
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  EXPECT_EQ(*bytes, "shared");
}

TEST_F(ReadBundleFileTest, AFileOverTheCapIsRefusedNamingBothSizes) {
  const std::string path = Write("model.ubj", std::string(100, 'x'));
  absl::Status status = ReadBundleFile(path, -1, Limits(64)).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(status.message(), HasSubstr("model.ubj is 100 bytes, over the "
                                          "limit of 64 bytes"));
}

TEST_F(ReadBundleFileTest, AFileOfAnotherSizeThanTheManifestIsDataLoss) {
  const std::string path = Write("model.ubj", "1234");
  absl::Status status = ReadBundleFile(path, 5, Limits()).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(status.message(),
              HasSubstr("model.ubj is 4 bytes; the manifest says 5 bytes"));
}

TEST_F(ReadBundleFileTest, AMissingFileIsNotFound) {
  EXPECT_EQ(ReadBundleFile(dir_ + "/nope", -1, Limits()).status().code(),
            absl::StatusCode::kNotFound);
}

// chmod 000 does not stop root, and tests run as root: the read then runs
// in a child process that gives up root first (setuid to "nobody").
TEST_F(ReadBundleFileTest, AnUnreadableFileIsPermissionDenied) {
  const std::string path = Write("model.ubj", "secret");
  ASSERT_EQ(::chmod(path.c_str(), 0), 0);
  ASSERT_EQ(::chmod(root_.c_str(), 0755), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    if (::geteuid() == 0 && ::setuid(65534) != 0) ::_exit(100);
    const absl::StatusCode code =
        ReadBundleFile(path, -1, Limits()).status().code();
    ::_exit(static_cast<int>(code));
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status),
            static_cast<int>(absl::StatusCode::kPermissionDenied))
      << "5 = NOT_FOUND, 7 = PERMISSION_DENIED, 100 = could not drop root";
}

// The same through common/file_util's ReadFileToString, which every other
// reader uses: before, any open() failure read as NOT_FOUND.
TEST_F(ReadBundleFileTest, ReadFileToStringSaysPermissionDeniedToo) {
  const std::string path = Write("history.bin", "secret");
  ASSERT_EQ(::chmod(path.c_str(), 0), 0);
  ASSERT_EQ(::chmod(root_.c_str(), 0755), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    if (::geteuid() == 0 && ::setuid(65534) != 0) ::_exit(100);
    ::_exit(static_cast<int>(ReadFileToString(path).status().code()));
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status),
            static_cast<int>(absl::StatusCode::kPermissionDenied))
      << "5 = NOT_FOUND, 7 = PERMISSION_DENIED, 100 = could not drop root";
  EXPECT_EQ(ReadFileToString(root_ + "/missing").status().code(),
            absl::StatusCode::kNotFound);
}

TEST(ManifestSizesTest, SizesRoundTripAndOldManifestsHaveNone) {
  BundleManifest m;
  m.model_name = "santander";
  m.products.assign(24, "p");
  m.golden.push_back({1, {1.0f}, {0.5f}});
  m.feature_spec = nlohmann::json::object();
  m.vocabularies = nlohmann::json::object();
  m.params = nlohmann::json::object();
  m.reference = nlohmann::json::object();
  m.model_size = 123;
  m.history_size = 456;
  nlohmann::json j = ManifestToJson(m);
  absl::StatusOr<BundleManifest> back = ManifestFromJson(j);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->model_size, 123);
  EXPECT_EQ(back->history_size, 456);
  j["files"].erase("model_bytes");
  j["files"].erase("history_bytes");
  back = ManifestFromJson(j);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->model_size, -1);
  j["files"]["model_bytes"] = -4;
  EXPECT_THAT(ManifestFromJson(j).status().message(),
              HasSubstr("files.model_bytes must be a non-negative integer"));
}

}  // namespace
}  // namespace recsys
