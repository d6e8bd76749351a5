#pragma once
// A Boost.Process v2 launcher on posix_spawn.
//
// Why: Boost.Process v2's default launcher forks, which costs ≈ 1.36× a bare
// posix_spawn on Debian 12 and grows with the parent's memory (page tables
// are copied); its vfork_launcher aborts on Boost 1.81 ("assign: Invalid
// argument"). glibc's posix_spawn uses clone(CLONE_VFORK): cost independent
// of the parent's size, and exec failures (ENOENT, EACCES) come back as the
// return value instead of as exit status 127 — which lets us tell "cannot
// start" from a provider that exits 127 (SPEC §3).
//
// It has the launcher call shape of Boost.Process v2 (executor, error_code,
// executable, args, inits) and returns a bp2::basic_process, so waiting,
// exit codes and the pidfd come from Boost.Process.
// Boost 1.81's Process v2 config names boost::optional without including it.
#include <boost/optional.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/process/v2/process.hpp>

#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

namespace keyreq {

// Boost.Process needs an executor for a process handle (a pidfd on Linux).
// Nobody runs this context: callers poll the pidfd themselves.
boost::asio::io_context& process_handle_context();

// The child's stdin, stdout and stderr; every other descriptor is closed in it.
struct SpawnStdio {
  int in = -1;
  int out = -1;
  int err = -1;
};

struct PosixSpawnLauncher {
  // The child leads a new process group, so a timeout can signal the whole
  // group (the provider and anything it started).
  bool new_process_group = true;
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
  static int open_pidfd(int pid);
};

}  // namespace keyreq
