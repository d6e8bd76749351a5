#pragma once
// A Boost.Process v2 launcher on clone(CLONE_VM | CLONE_VFORK): what glibc's
// posix_spawn does inside, plus one step posix_spawn cannot take —
// PR_SET_PDEATHSIG, so a provider is sent SIGTERM when the keyreq thread that
// started it dies (kill -9 of serve or resolve included) instead of living on
// as an orphan with PPID 1 (issue 11 item 7).
//
// Why not fork: Boost.Process v2's default launcher forks, which costs
// ≈ 1.36× a bare posix_spawn on Debian 12 and grows with the parent's memory
// (page tables are copied); its vfork_launcher aborts on Boost 1.81
// ("assign: Invalid argument"). A shared-memory vfork child costs the same as
// posix_spawn whatever the parent's size, and exec failures (ENOENT, EACCES)
// come back as the return value instead of as exit status 127 — which lets us
// tell "cannot start" from a provider that exits 127 (SPEC §3).
//
// Between clone and execve the child only makes raw system calls (no libc
// state, no locks, no sanitizer interceptors): default dispositions, empty
// signal mask, its own process group, PR_SET_PDEATHSIG(SIGTERM) and a check
// that the parent did not die before that, dup2 of stdio, close_range(3..).
//
// PDEATHSIG fires when the *thread* that spawned the child exits, not the
// process. Every spawner here outlives its children: the supervisor's thread
// reaps its daemon before it returns, an ExecClient call waits for (or kills
// and reaps) its child on the calling thread, and resolve spawns from main.
// A new caller must keep that rule.
//
// It has the launcher call shape of Boost.Process v2 (executor, error_code,
// executable, args, inits) and returns a bp2::basic_process, so waiting,
// exit codes and the pidfd come from Boost.Process.
// Boost 1.81's Process v2 config names boost::optional without including it.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/optional.hpp>
#include <boost/process/v2/process.hpp>

#include <signal.h>
#include <sys/types.h>

#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

namespace keyreq {

// Boost.Process needs an executor for a process handle (a pidfd on Linux).
// Nobody runs this context: callers poll the pidfd themselves.
boost::asio::io_context& process_handle_context();

// The child's stdin, stdout and stderr (all three open descriptors; dev_null_fd
// for none); every other descriptor is closed in it.
struct SpawnStdio {
  int in = -1;
  int out = -1;
  int err = -1;
};

// How the child starts, besides its stdio.
struct SpawnOptions {
  // The child leads a new process group, so a timeout can signal the whole
  // group (the provider and anything it started).
  bool new_process_group = true;
  // Sent to the child when the spawning thread dies (0: none).
  int parent_death_signal = SIGTERM;
  // The child's environment; null: ours.
  char* const* envp = nullptr;
};

// The lowest-level call, the one every spawn in keyreq goes through: runs
// `program` (a path, not looked up in PATH) with `argv` (argv[0] included,
// null-terminated). Returns 0 with `pid` set, or the errno why the program
// could not run (ENOENT, EACCES, ...; that child is already reaped), as
// posix_spawn does.
int spawn_process(const char* program, char* const* argv, const SpawnStdio& stdio, const SpawnOptions& options,
                  pid_t& pid);

// The same with argv as strings (argv[0] included).
int spawn_process(const std::string& program, const std::vector<std::string>& argv, const SpawnStdio& stdio,
                  const SpawnOptions& options, pid_t& pid);

// /dev/null opened once per mode (O_RDONLY or O_WRONLY), close-on-exec: the
// stdin (or discarded output) of spawned children.
int dev_null_fd(int flags);

// A pidfd for `pid` (close-on-exec), to poll() for its exit; -1 with errno set.
int open_pidfd(pid_t pid);

// The Boost.Process v2 launcher over spawn_process (the options are its fields).
struct PosixSpawnLauncher : SpawnOptions {
  // Receives the pidfd Boost.Process holds for the child (owned by the
  // returned process object), so callers can poll() for its exit.
  int* pidfd_out = nullptr;

  template <typename Executor>
  boost::process::v2::basic_process<Executor> operator()(Executor exec, boost::system::error_code& ec,
                                                         const std::filesystem::path& executable,
                                                         const std::vector<std::string>& args,
                                                         const SpawnStdio& stdio) const {
    int pid = -1;
    ec = spawn(executable, args, stdio, pid);
    if (ec) return boost::process::v2::basic_process<Executor>(exec);
    const int pidfd = open_pidfd(pid);
    if (pidfd_out != nullptr) *pidfd_out = pidfd;
    return boost::process::v2::basic_process<Executor>(exec, pid, pidfd);
  }

 private:
  boost::system::error_code spawn(const std::filesystem::path& executable, const std::vector<std::string>& args,
                                  const SpawnStdio& stdio, int& pid) const;
};

}  // namespace keyreq
