// The platform kit's process routines: spawn_process (the one set-up every
// spawn in keyreq goes through), read_available and stop_process_group.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <string>
#include <thread>

#include "resolver/platform/child_process_groups.hpp"
#include "resolver/platform/posix_spawn_launcher.hpp"
#include "resolver/platform/unique_fd.hpp"

namespace keyreq {
namespace {
using namespace std::chrono_literals;

// Everything the child writes to the read end, until EOF (bounded by 10 s).
std::string read_all(UniqueFd& read_end) {
  std::string out;
  std::size_t total = 0;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{read_end.get(), POLLIN, 0};
    ::poll(&p, 1, 100);
    if (!read_available(read_end.get(), out, 1 << 20, total)) break;
  }
  return out;
}

const SpawnStdio kNoStdio{dev_null_fd(O_RDONLY), dev_null_fd(O_WRONLY), dev_null_fd(O_WRONLY)};

int wait_status(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

TEST(PlatformSpawn, PassesArgvAsGivenAndStdioAndLeadsItsOwnGroup) {
  UniqueFd out_read, out_write;
  ASSERT_TRUE(make_pipe(out_read, out_write));
  pid_t pid = -1;
  // argv[0] is passed as given (not the program path), the words unsplit;
  // stdin is /dev/null (cat prints nothing). Prints "argv0|$0|$1|pgid".
  const char* script = "cat; head -c 10 /proc/$$/cmdline; printf '|%s|%s|' \"$0\" \"$1\"; cut -d' ' -f5 /proc/$$/stat";
  const int rc = spawn_process("/bin/sh", {"named-zero", "-c", script, "zero", "a b"},
                               SpawnStdio{dev_null_fd(O_RDONLY), out_write.get(), dev_null_fd(O_WRONLY)}, {}, pid);
  ASSERT_EQ(rc, 0);
  out_write.reset();
  const std::string out = read_all(out_read);
  const int status = wait_status(pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_EQ(out.substr(0, out.rfind('|') + 1), "named-zero|zero|a b|");
  EXPECT_EQ(std::stol(out.substr(out.rfind('|') + 1)), static_cast<long>(pid)) << out;
}

TEST(PlatformSpawn, AProgramThatCannotRunIsAnErrorNotAChild) {
  pid_t pid = 12345;
  EXPECT_EQ(spawn_process("/no/such/program", {"x"}, kNoStdio, {}, pid), ENOENT);
  EXPECT_EQ(pid, -1);
  EXPECT_EQ(spawn_process("/etc/passwd", {"x"}, kNoStdio, {}, pid), EACCES);
}

// PR_SET_PDEATHSIG: the child dies with the thread that started it.
TEST(PlatformSpawn, TheChildIsSignalledWhenTheSpawningThreadDies) {
  pid_t pid = -1;
  int rc = -1;
  std::thread spawner([&] { rc = spawn_process("/bin/sleep", {"sleep", "30"}, kNoStdio, {}, pid); });
  spawner.join();
  ASSERT_EQ(rc, 0);
  const int status = wait_status(pid);  // returns within the test's timeout only if SIGTERM came
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(WTERMSIG(status), SIGTERM);
}

TEST(PlatformSpawn, StopProcessGroupKillsALeaderThatIgnoresSigtermAndWhatItStarted) {
  UniqueFd out_read, out_write;
  ASSERT_TRUE(make_pipe(out_read, out_write));
  pid_t pid = -1;
  // The leader ignores SIGTERM; its background child holds the pipe open.
  ASSERT_EQ(spawn_process("/bin/sh", {"sh", "-c", "trap '' TERM; sleep 30 & echo started; wait"},
                          SpawnStdio{dev_null_fd(O_RDONLY), out_write.get(), dev_null_fd(O_WRONLY)}, {}, pid),
            0);
  out_write.reset();
  std::string first;
  std::size_t total = 0;
  for (int i = 0; i < 100 && first.empty(); ++i) {
    pollfd p{out_read.get(), POLLIN, 0};
    ::poll(&p, 1, 100);
    read_available(out_read.get(), first, 64, total);
  }
  ASSERT_EQ(first, "started\n");
  const auto start = std::chrono::steady_clock::now();
  stop_process_group(pid, 200ms);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  EXPECT_EQ(::waitpid(pid, nullptr, WNOHANG), -1);  // already reaped
  EXPECT_EQ(errno, ECHILD);
  // EOF only once the background sleep is gone too.
  EXPECT_EQ(read_all(out_read), "");
}

}  // namespace
}  // namespace keyreq
