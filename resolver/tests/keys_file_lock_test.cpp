// One writer per client.keys (docs/keystore.md): the lock beside the file,
// the open path that takes it before touching the file, and non-regular
// files refused without blocking.
#include "resolver/keystore/keys_file_lock.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "resolver/keystore/keystore.hpp"
#include "testkit/files.hpp"
#include "testkit/processes.hpp"
#include "testkit/temp_dir.hpp"

namespace keyreq {
namespace {

using testkit::TempDir;

std::string read_all(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

constexpr const char* kTorn = "001 web1 10.0.0.1 0123456789abcdef\n002 web";

TEST(KeysFileLock, SecondStoreOnTheSameFileIsRefusedNamingTheHolderAndLeavesTheFileAlone) {
  TempDir dir;
  const std::string keys = dir / "client.keys";
  std::ofstream(keys) << "001 web1 10.0.0.1 0123456789abcdef\n";
  auto first = KeyStore::open(keys);
  ASSERT_TRUE(std::holds_alternative<std::unique_ptr<KeyStore>>(first));
  // A torn tail a second opener would cut off: it must not.
  std::ofstream(keys, std::ios::app) << "002 web";
  auto second = KeyStore::open(keys);
  ASSERT_TRUE(std::holds_alternative<KeyStoreError>(second));
  const std::string message = std::get<KeyStoreError>(second).message();
  EXPECT_NE(message.find("in use by pid " + std::to_string(::getpid())), std::string::npos) << message;
  EXPECT_EQ(read_all(keys), kTorn);
  EXPECT_FALSE(std::filesystem::exists(dir / "client.keys.torn"));
}

TEST(KeysFileLock, HolderInAnotherProcessIsNamedAndReleasedWhenItDies) {
  TempDir dir;
  const std::string keys = dir / "client.keys";
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto held = KeysFileLock::acquire(keys);
    const char c = std::holds_alternative<KeysFileLock>(held) ? 'y' : 'n';
    if (::write(ready[1], &c, 1) != 1) ::_exit(1);
    ::pause();  // killed by the parent
    ::_exit(0);
  }
  ::close(ready[1]);
  char c = 0;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  ::close(ready[0]);
  ASSERT_EQ(c, 'y');

  auto refused = KeysFileLock::acquire(keys);
  ASSERT_TRUE(std::holds_alternative<KeysFileLockError>(refused));
  EXPECT_EQ(std::get<KeysFileLockError>(refused).holder, child);
  EXPECT_NE(std::get<KeysFileLockError>(refused).reason.find("pid " + std::to_string(child)), std::string::npos);

  ::kill(child, SIGKILL);  // no stale lock after kill -9
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  auto opened = KeyStore::open(keys);
  ASSERT_TRUE(std::holds_alternative<std::unique_ptr<KeyStore>>(opened)) << std::get<KeyStoreError>(opened).message();
}

TEST(KeysFileLock, ReleasedWhenTheStoreCloses) {
  TempDir dir;
  const std::string keys = dir / "client.keys";
  { ASSERT_TRUE(std::holds_alternative<std::unique_ptr<KeyStore>>(KeyStore::open(keys))); }
  auto again = KeyStore::open(keys);
  EXPECT_TRUE(std::holds_alternative<std::unique_ptr<KeyStore>>(again));
}

TEST(KeysFileLock, StoreOpenedWithAHeldLockKeepsIt) {
  TempDir dir;
  const std::string keys = dir / "client.keys";
  auto lock = KeysFileLock::acquire(keys);
  ASSERT_TRUE(std::holds_alternative<KeysFileLock>(lock));
  auto store = KeyStore::open(keys, {}, std::get<KeysFileLock>(std::move(lock)));
  ASSERT_TRUE(std::holds_alternative<std::unique_ptr<KeyStore>>(store));
  EXPECT_TRUE(std::holds_alternative<KeysFileLockError>(KeysFileLock::acquire(keys)));
}

// Runs KeyStore::open in a child bounded by alarm(): a blocking open() dies
// by SIGALRM instead of hanging the test. Returns the child's exit code
// (0 refused with "not a regular file", 1 opened, 2 other error) or -signal.
int open_in_bounded_child(const std::string& keys) {
  const pid_t child = ::fork();
  if (child == 0) {
    ::alarm(5);
    auto r = KeyStore::open(keys);
    if (auto* e = std::get_if<KeyStoreError>(&r)) {
      ::_exit(e->message().find("not a regular file") != std::string::npos ? 0 : 2);
    }
    ::_exit(1);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

TEST(KeysFileOpen, FifoIsRefusedAtOnceInsteadOfBlocking) {
  TempDir dir;
  const std::string keys = dir / "client.keys";
  ASSERT_EQ(::mkfifo(keys.c_str(), 0600), 0);
  EXPECT_EQ(open_in_bounded_child(keys), 0);
}

TEST(KeysFileOpen, DirectoryIsRefused) {
  TempDir dir;
  const std::string keys = dir / "client.keys";
  std::filesystem::create_directories(keys);
  EXPECT_EQ(open_in_bounded_child(keys), 0);
}

}  // namespace
}  // namespace keyreq
