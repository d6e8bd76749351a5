// The platform kit's file routines: TempDir (resolver/platform/temp_dir.hpp)
// and the atomic writer (resolver/platform/atomic_file.hpp).
#include <sys/stat.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "resolver/platform/atomic_file.hpp"
#include "resolver/platform/temp_dir.hpp"

namespace keyreq {
namespace {
namespace fs = std::filesystem;

std::string read(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(PlatformTempDir, PrivateDirectoryRemovedWithItsContentUnlessKept) {
  fs::path removed, kept;
  {
    TempDir dir("keyreq-kit-test");
    removed = dir.path();
    EXPECT_EQ(removed.filename().string().rfind("keyreq-kit-test-", 0), 0u) << removed;
    struct stat st {};
    ASSERT_EQ(::stat(removed.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700u);
    std::ofstream(removed / "file") << "x";
    fs::create_directories(removed / "a" / "b");
    TempDir other("keyreq-kit-test", removed.string());  // under a given parent
    EXPECT_EQ(other.path().parent_path(), removed);
    TempDir left("keyreq-kit-test");
    kept = left.path();
    left.keep();
  }
  EXPECT_FALSE(fs::exists(removed));
  EXPECT_TRUE(fs::is_directory(kept));
  fs::remove_all(kept);
}

TEST(PlatformTempDir, AParentThatCannotHoldItIsNamedInTheError) {
  EXPECT_THROW(TempDir("x", "/no/such/parent"), std::runtime_error);
  std::string error;
  EXPECT_FALSE(TempDir::create("x", error, "/no/such/parent"));
  EXPECT_NE(error.find("/no/such/parent"), std::string::npos) << error;
}

TEST(PlatformAtomicFile, ReplacesTheWholeFileAndLeavesNoTemporary) {
  TempDir dir("keyreq-kit-test");
  const std::string path = (dir.path() / "report.json").string();
  ASSERT_FALSE(write_file_atomically(path, "first, longer content\n"));
  ASSERT_FALSE(write_file_atomically(path, "second\n"));
  EXPECT_EQ(read(path), "second\n");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 1);
}

TEST(PlatformAtomicFile, AMissingDirectoryIsAnErrorNamingTheFile) {
  TempDir dir("keyreq-kit-test");
  const std::string path = (dir.path() / "missing" / "m.prom").string();
  const auto error = write_file_atomically(path, "x");
  ASSERT_TRUE(error);
  EXPECT_NE(error->find(path), std::string::npos) << *error;
}

TEST(PlatformAtomicFile, CommitTemporaryRenamesAFilledTemporaryIntoPlace) {
  TempDir dir("keyreq-kit-test");
  const std::string path = (dir.path() / "agents.csv").string();
  const std::string tmp = temporary_path_beside(path);
  EXPECT_NE(tmp, temporary_path_beside(path));  // unique per call
  std::ofstream(tmp) << "id,name\n";
  ASSERT_FALSE(commit_temporary(tmp, path));
  EXPECT_EQ(read(path), "id,name\n");
  EXPECT_FALSE(fs::exists(tmp));
  EXPECT_TRUE(commit_temporary(tmp, path));  // nothing to commit any more
}

}  // namespace
}  // namespace keyreq
