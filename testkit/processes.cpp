#include "testkit/processes.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <stdexcept>
#include <thread>

#include "resolver/platform/deadline.hpp"
#include "resolver/platform/errno_text.hpp"
#include "resolver/platform/posix_spawn_launcher.hpp"
#include "resolver/platform/proc_files.hpp"
#include "resolver/platform/unique_fd.hpp"
#include "resolver/transport/command_line.hpp"

extern char** environ;

namespace keyreq::testkit {

pid_t spawn_process(const std::vector<std::string>& argv, int in, int out, int err,
                    const std::vector<std::string>& extra_env) {
  if (argv.empty()) throw std::runtime_error("spawn_process: empty argv");
  const std::string program = find_in_path(argv.front());
  if (program.empty()) throw std::runtime_error("cannot start \"" + argv.front() + "\": not found in PATH");

  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) env_strings.emplace_back(*e);
  env_strings.insert(env_strings.end(), extra_env.begin(), extra_env.end());
  std::vector<char*> envp;
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);

  PosixSpawnLauncher launcher;
  // The test thread that starts a daemon may end before it (a fixture's
  // helper thread): no parent-death signal, the owner kills and reaps.
  launcher.parent_death_signal = 0;
  launcher.envp = envp.data();
  boost::system::error_code ec;
  const std::vector<std::string> args(argv.begin() + 1, argv.end());
  auto process = launcher(process_handle_context().get_executor(), ec, program, args, SpawnStdio{in, out, err});
  if (ec) throw std::runtime_error("cannot start \"" + program + "\": " + ec.message());
  const pid_t pid = process.id();
  process.detach();  // waited for with waitpid by the caller
  return pid;
}

int shell_status(int wait_status) {
  return WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : 128 + WTERMSIG(wait_status);
}

namespace {

// Reads both pipes until they close or the deadline passes; false on timeout.
bool collect_output(int out_fd, int err_fd, std::string& out, std::string& err,
                    std::chrono::steady_clock::time_point deadline) {
  pollfd fds[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
  int open_fds = err_fd >= 0 ? 2 : 1;
  if (err_fd < 0) fds[1].fd = -1;
  char buf[65536];
  while (open_fds > 0) {
    const int wait_ms = poll_timeout_ms(deadline);
    if (wait_ms == 0) return false;
    if (::poll(fds, 2, wait_ms) < 0) continue;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      const ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
      if (n > 0) {
        (i == 0 ? out : err).append(buf, static_cast<std::size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  return true;
}

}  // namespace

CommandResult run_command(const std::vector<std::string>& argv, const CommandOptions& options) {
  UniqueFd out_read, out_write, err_read, err_write;
  if (!make_pipe(out_read, out_write) || !make_pipe(err_read, err_write)) {
    throw std::runtime_error("pipe: " + errno_text(errno));
  }
  const UniqueFd dev_null(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  const int err_target = options.merge_stderr ? out_write.get() : err_write.get();
  const pid_t pid = spawn_process(argv, dev_null.get(), out_write.get(), err_target, options.extra_env);
  out_write.reset();
  err_write.reset();
  if (options.merge_stderr) err_read.reset();

  CommandResult result;
  const auto start = std::chrono::steady_clock::now();
  const auto deadline = start + options.timeout;
  if (!collect_output(out_read.get(), err_read.get(), result.out, result.err, deadline)) {
    result.timed_out = true;
    ::kill(-pid, SIGKILL);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (result.timed_out) return result;
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) result.signal = WTERMSIG(status);
  return result;
}

int run_shell(const std::string& command_line) {
  const int status = std::system(command_line.c_str());
  return status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

bool process_alive(pid_t pid) {
  if (pid <= 0) return false;
  for (int i = 0; i < 100; ++i) {
    const auto stat = read_proc_stat(pid);
    if (!stat || stat->gone()) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

std::vector<pid_t> processes_in_group(pid_t pgid) {
  std::vector<pid_t> found;
  for (const pid_t pid : list_process_ids()) {
    const auto stat = read_proc_stat(pid);
    if (stat && stat->pgrp == pgid && !stat->gone()) found.push_back(pid);
  }
  return found;
}

}  // namespace keyreq::testkit
