#include "resolver/posix_spawn_launcher.hpp"

#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <unistd.h>

extern char** environ;

namespace keyreq {

boost::asio::io_context& process_handle_context() {
  static boost::asio::io_context context;
  return context;
}

int PosixSpawnLauncher::open_pidfd(int pid) {
  return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));  // close-on-exec by default
}

boost::system::error_code PosixSpawnLauncher::spawn(const std::filesystem::path& executable,
                                                    const std::vector<std::string>& args, const SpawnStdio& stdio,
                                                    int& pid) const {
  std::vector<char*> argv;
  argv.reserve(args.size() + 2);
  argv.push_back(const_cast<char*>(executable.c_str()));
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&actions);
  posix_spawnattr_init(&attr);

  posix_spawn_file_actions_adddup2(&actions, stdio.in, 0);
  posix_spawn_file_actions_adddup2(&actions, stdio.out, 1);
  posix_spawn_file_actions_adddup2(&actions, stdio.err, 2);
  // Nothing of ours (client sockets, client.keys, other calls' pipes) leaks into providers.
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);

  short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
  if (new_process_group) {
    flags |= POSIX_SPAWN_SETPGROUP;
    posix_spawnattr_setpgroup(&attr, 0);
  }
  sigset_t empty;
  sigemptyset(&empty);
  posix_spawnattr_setsigmask(&attr, &empty);
  // A daemon ignoring SIGPIPE would pass the ignore on through exec.
  sigset_t defaults;
  sigemptyset(&defaults);
  for (int sig : {SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGCHLD, SIGUSR1, SIGUSR2}) sigaddset(&defaults, sig);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, flags);

  const int rc = posix_spawn(&pid, executable.c_str(), &actions, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return {rc, boost::system::system_category()};
  return {};
}

}  // namespace keyreq
