#include "conformance/certify/process_runner.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <mutex>
#include <set>
#include <utility>

#include "conformance/certify/provider_guardian.hpp"
#include "resolver/platform/deadline.hpp"
#include "resolver/platform/errno_text.hpp"
#include "resolver/platform/posix_spawn_launcher.hpp"
#include "resolver/platform/unique_fd.hpp"
#include "resolver/transport/command_line.hpp"

namespace keyreq::certify {
namespace {
using Clock = std::chrono::steady_clock;

// The providers started and not reaped yet (their pids lead their process
// groups). Reaping happens under the same lock as stop_running_providers'
// kills, so a group id is never signalled after it could have been reused.
class RunningProviders {
 public:
  void add(pid_t pid) {
    std::lock_guard lock(mutex_);
    pids_.insert(pid);
    guardian_provider_started(pid);
    if (stopping_) ::kill(-pid, SIGKILL);  // started while certify was being interrupted
  }
  // waitpid under the lock; forgets the pid once reaped.
  pid_t reap(pid_t pid, int& status, int options) {
    std::lock_guard lock(mutex_);
    pid_t r;
    do {
      r = ::waitpid(pid, &status, options);
    } while (r < 0 && errno == EINTR);
    if (r == pid || (r < 0 && errno == ECHILD)) {
      pids_.erase(pid);
      guardian_provider_reaped(pid);
    }
    return r;
  }
  std::size_t kill_all() {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    for (pid_t pid : pids_) ::kill(-pid, SIGKILL);
    return pids_.size();
  }

 private:
  std::mutex mutex_;
  std::set<pid_t> pids_;
  bool stopping_ = false;
};

RunningProviders& running_providers() {
  static RunningProviders instance;
  return instance;
}

// Waits up to `ms` for the child to exit (pidfd when we have one, else polling waitpid).
bool wait_exit(pid_t pid, int pidfd, int ms, int& status) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(ms);
  while (true) {
    const pid_t w = running_providers().reap(pid, status, WNOHANG);
    if (w == pid) return true;
    const int left = poll_timeout_ms(deadline);
    if (left == 0) return false;
    if (pidfd >= 0) {
      pollfd p{pidfd, POLLIN, 0};
      ::poll(&p, 1, left);
    } else {
      ::usleep(1000);
    }
  }
}

}  // namespace

ProcessRun run_process(const std::vector<std::string>& argv, const RunLimits& limits) {
  ProcessRun run;
  const auto start = Clock::now();
  const auto deadline = start + limits.timeout;
  if (argv.empty()) {
    run.start_error = "empty command";
    return run;
  }
  const std::string program = find_in_path(argv.front());
  if (program.empty()) {
    run.start_error = "\"" + argv.front() + "\" not found in PATH";
    return run;
  }

  UniqueFd out_read, out_write, err_read, err_write;
  if (!make_pipe(out_read, out_write) || !make_pipe(err_read, err_write)) {
    run.start_error = "pipe: " + errno_text(errno);
    return run;
  }

  // Its own process group (what the deadline signals), default signal
  // dispositions, an empty mask, and PR_SET_PDEATHSIG: a killed certify
  // leaves no provider behind (run_process reaps before it returns, so the
  // calling thread always outlives the child).
  pid_t pid = -1;
  const int rc =
      spawn_process(program, argv, SpawnStdio{dev_null_fd(O_RDONLY), out_write.get(), err_write.get()}, {}, pid);
  out_write.reset();
  err_write.reset();
  if (rc != 0) {
    run.start_error = "cannot start \"" + program + "\": " + errno_text(rc);
    return run;
  }
  run.started = true;
  running_providers().add(pid);
  UniqueFd pidfd(open_pidfd(pid));

  bool out_open = true, err_open = true, exited = false;
  int status = 0;
  // Done when stdout is closed and the provider has exited (as the resolver
  // does); stderr is drained but does not keep us waiting.
  while (!(exited && !out_open)) {
    pollfd fds[3];
    nfds_t n = 0;
    if (out_open) fds[n++] = {out_read.get(), POLLIN, 0};
    if (err_open) fds[n++] = {err_read.get(), POLLIN, 0};
    if (!exited && pidfd.get() >= 0) fds[n++] = {pidfd.get(), POLLIN, 0};
    int wait_ms = poll_timeout_ms(deadline);
    if (wait_ms == 0) {
      run.timed_out = true;
      break;
    }
    if (!exited && pidfd.get() < 0) wait_ms = std::min(wait_ms, 5);
    const int ready = ::poll(fds, n, wait_ms);
    if (ready < 0 && errno != EINTR) {
      run.timed_out = true;
      break;
    }
    for (nfds_t i = 0; i < n && ready > 0; ++i) {
      if (fds[i].revents == 0) continue;
      if (fds[i].fd == out_read.get()) {
        out_open = read_available(out_read.get(), run.stdout_bytes, limits.max_stdout + 1, run.stdout_total);
      } else if (fds[i].fd == err_read.get()) {
        err_open = read_available(err_read.get(), run.stderr_bytes, limits.max_stderr, run.stderr_total);
      }
    }
    if (!exited && running_providers().reap(pid, status, WNOHANG) == pid) exited = true;
    if (run.stdout_total > limits.max_stdout) {
      run.too_large = true;
      break;
    }
  }
  if (err_open) read_available(err_read.get(), run.stderr_bytes, limits.max_stderr, run.stderr_total);
  run.elapsed = Clock::now() - start;

  if (run.timed_out || run.too_large) {
    if (exited && out_open) run.stdout_held_open = true;
    // A zombie still owns its process group id, so the group cannot have been
    // reused: signal every process the provider started.
    if (run.timed_out) {
      ::kill(-pid, SIGTERM);
      if (!exited) {
        exited = wait_exit(pid, pidfd.get(), static_cast<int>(limits.kill_grace.count()), status);
        if (!exited) run.ignored_sigterm = true;
      }
    }
    ::kill(-pid, SIGKILL);
  }
  if (!exited) running_providers().reap(pid, status, 0);
  if (WIFEXITED(status)) {
    run.exited = true;
    run.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    run.signal = WTERMSIG(status);
  }
  return run;
}

std::size_t stop_running_providers() { return running_providers().kill_all(); }

}  // namespace keyreq::certify
