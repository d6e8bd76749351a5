// The platform kit's /proc readers, and the /proc scans built on them, while
// processes on the machine come and go (CI: a /proc scan threw
// "basic_filebuf::underflow error reading the file: No such process" when a
// process exited between listing /proc and reading its file).
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <string>
#include <vector>

#include "resolver/platform/child_process_groups.hpp"
#include "resolver/platform/proc_files.hpp"

namespace keyreq {
namespace {
using namespace std::chrono_literals;

// Shells that start short-lived processes without pause, so that /proc
// entries appear and vanish all the time while the test scans.
class ProcessChurn {
 public:
  explicit ProcessChurn(int shells) {
    for (int i = 0; i < shells; ++i) {
      const pid_t pid = ::fork();
      if (pid == 0) {
        ::execl("/bin/sh", "sh", "-c", "while :; do /bin/true; done", static_cast<char*>(nullptr));
        ::_exit(127);
      }
      if (pid > 0) shells_.push_back(pid);
    }
  }
  ~ProcessChurn() {
    for (const pid_t pid : shells_) {
      ::kill(pid, SIGKILL);
      while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
      }
    }
  }
  ProcessChurn(const ProcessChurn&) = delete;
  ProcessChurn& operator=(const ProcessChurn&) = delete;

 private:
  std::vector<pid_t> shells_;
};

// A `sleep` child whose whole environment is KEYREQ_PROC_FILES_TEST=present
// (/proc/PID/environ shows the environment a program was started with).
pid_t start_idle_child() {
  const pid_t pid = ::fork();
  if (pid == 0) {
    char variable[] = "KEYREQ_PROC_FILES_TEST=present";
    char* const environment[] = {variable, nullptr};
    ::execle("/bin/sleep", "sleep", "30", static_cast<char*>(nullptr), environment);
    ::_exit(127);
  }
  return pid;
}

bool wait_until_exec(pid_t pid) {
  for (int i = 0; i < 500; ++i) {
    const auto cmdline = read_proc_file(pid, "cmdline");
    if (cmdline && cmdline->rfind("sleep", 0) == 0) return true;
    ::usleep(10'000);
  }
  return false;
}

void kill_and_reap(pid_t pid) {
  ::kill(pid, SIGKILL);
  while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
}

TEST(ProcFiles, ALiveProcessHasItsStatAndEnvironment) {
  const auto self = read_proc_stat(::getpid());
  ASSERT_TRUE(self.has_value());
  EXPECT_EQ(self->ppid, ::getppid());
  EXPECT_EQ(self->pgrp, ::getpgrp());
  EXPECT_FALSE(self->gone());
  // RSS follows memory this process touches.
  const auto rss_before = read_rss_bytes(::getpid());
  ASSERT_TRUE(rss_before.has_value());
  EXPECT_GT(*rss_before, 0u);
  std::vector<char> touched(64u << 20, 1);
  const auto rss_after = read_rss_bytes(::getpid());
  ASSERT_TRUE(rss_after.has_value());
  EXPECT_GE(*rss_after, *rss_before + (60u << 20)) << touched[touched.size() / 2];
  const pid_t child = start_idle_child();
  ASSERT_GT(child, 0);
  // Until exec replaced the forked copy, /proc shows our environment.
  ASSERT_TRUE(wait_until_exec(child));
  EXPECT_TRUE(process_environment_has(child, "KEYREQ_PROC_FILES_TEST=present"));
  EXPECT_FALSE(process_environment_has(child, "KEYREQ_PROC_FILES_TEST=pres"));  // whole variables only
  const auto listed = list_process_ids();
  EXPECT_NE(std::find(listed.begin(), listed.end(), child), listed.end());
  kill_and_reap(child);
}

// A child that spins until it has used 200 ms of CPU (by its own clock): read
// from here, the count is in nanoseconds, where /proc/PID/stat would give 20
// ticks.
TEST(ProcFiles, AnotherProcessesCpuTimeIsReadInNanoseconds) {
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t child = ::fork();
  if (child == 0) {
    timespec used{};
    while (::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &used) == 0 && used.tv_sec == 0 && used.tv_nsec < 200'000'000) {
    }
    (void)!::write(ready[1], "x", 1);
    ::pause();
    ::_exit(0);
  }
  ASSERT_GT(child, 0);
  char byte = 0;
  ASSERT_EQ(::read(ready[0], &byte, 1), 1);
  const auto spent = process_cpu_ns(child);
  ASSERT_TRUE(spent.has_value());
  EXPECT_GE(*spent, 200'000'000u);
  EXPECT_LT(*spent, 2'000'000'000u);  // it stopped spinning: paused
  EXPECT_NE(*spent % 10'000'000u, 0u) << "a whole number of 10 ms ticks: not the CPU-time clock";
  const auto stat = read_proc_stat(child);  // the same time in ticks, within a tick or two
  ASSERT_TRUE(stat.has_value());
  EXPECT_NEAR(stat->cpu_s(), static_cast<double>(*spent) / 1e9, 0.03);
  EXPECT_EQ(stat->reaped_children_s(), 0.0);
  const auto self = process_cpu_ns(::getpid());
  ASSERT_TRUE(self.has_value());
  EXPECT_GT(*self, 0u);
  kill_and_reap(child);
  ::close(ready[0]);
  ::close(ready[1]);
  EXPECT_FALSE(process_cpu_ns(child).has_value());
}

TEST(ProcFiles, AProcessThatIsGoneIsAbsentNotAnError) {
  const pid_t child = start_idle_child();
  ASSERT_GT(child, 0);
  kill_and_reap(child);
  EXPECT_FALSE(read_proc_stat(child).has_value());
  EXPECT_FALSE(read_rss_bytes(child).has_value());
  EXPECT_FALSE(read_proc_file(child, "cmdline").has_value());
  EXPECT_FALSE(process_environment_has(child, "PATH=/bin"));
}

// The bug CI met: scanning /proc while other processes exit. Before the fix
// child_process_groups() threw about once in 300 scans here.
TEST(ProcFiles, ScanningProcWhileProcessesComeAndGoNeverThrows) {
  const ProcessChurn churn(2);
  int scans = 0;
  const auto end = std::chrono::steady_clock::now() + 1500ms;
  while (std::chrono::steady_clock::now() < end) {
    ASSERT_NO_THROW(child_process_groups()) << "after " << scans << " scans";
    for (const pid_t pid : list_process_ids()) {
      ASSERT_NO_THROW(read_proc_file(pid, "environ"));
      ASSERT_NO_THROW(read_proc_stat(pid));
    }
    ++scans;
  }
  EXPECT_GT(scans, 10);
}

}  // namespace
}  // namespace keyreq
