#include "resolver/transport/exec_client.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <cerrno>
#include <cstring>

#include "resolver/platform/deadline.hpp"
#include "resolver/platform/errno_text.hpp"
#include "resolver/platform/escape.hpp"
#include "resolver/platform/posix_spawn_launcher.hpp"
#include "resolver/platform/unique_fd.hpp"
#include "resolver/transport/command_line.hpp"

namespace keyreq {
namespace bp2 = boost::process::v2;
using Clock = std::chrono::steady_clock;

namespace {

std::string describe_status(int status) {
  if (WIFEXITED(status)) return "exit status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return std::string("killed by signal ") + ::strsignal(WTERMSIG(status));
  return "status " + std::to_string(status);
}

}  // namespace

ExecClient::ExecClient(std::vector<std::string> command, CallLimits limits)
    : command_(std::move(command)), limits_(limits) {
  if (!command_.empty()) resolved_program_ = find_in_path(command_.front());
}

std::string ExecClient::describe() const {
  std::string s = "exec:";
  for (std::size_t i = 0; i < command_.size(); ++i) s += (i ? " " : "") + command_[i];
  return s;
}

ProviderResult ExecClient::call(const Request& request) {
  const auto deadline = Clock::now() + limits_.timeout;
  if (command_.empty()) return ProviderFailure{ProviderFailureClass::cannot_start, "exec_path is empty", {}};
  if (resolved_program_.empty()) {
    return ProviderFailure{
        ProviderFailureClass::cannot_start, "\"" + escape_bytes(command_.front()) + "\" not found in PATH", {}};
  }

  UniqueFd out_read, out_write, err_read, err_write;
  if (!make_pipe(out_read, out_write) || !make_pipe(err_read, err_write)) {
    return ProviderFailure{ProviderFailureClass::cannot_start, "pipe: " + errno_text(errno), {}};
  }

  std::vector<std::string> args(command_.begin() + 1, command_.end());
  args.emplace_back(request.kind_word());
  args.push_back(request.value);

  boost::system::error_code ec;
  int pidfd = -1;
  PosixSpawnLauncher launcher;
  launcher.pidfd_out = &pidfd;
  auto process = launcher(process_handle_context().get_executor(), ec, resolved_program_, args,
                          SpawnStdio{dev_null_fd(O_RDONLY), out_write.get(), err_write.get()});
  out_write.reset();
  err_write.reset();
  if (ec) {
    return ProviderFailure{ProviderFailureClass::cannot_start,
                           "cannot start \"" + escape_bytes(resolved_program_) + "\": " + ec.message(),
                           {}};
  }
  const pid_t pid = process.id();
  if (pidfd < 0) {
    ::kill(-pid, SIGKILL);
    process.wait(ec);
    return ProviderFailure{ProviderFailureClass::io_error, "pidfd_open: " + errno_text(errno), {}};
  }

  ProviderOutput output;
  std::size_t out_total = 0, err_total = 0;
  bool out_open = true, err_open = true, exited = false;
  bool too_large = false, timed_out = false;

  // Done when stdout is closed and the provider has exited; stderr is drained
  // but a process holding it open does not keep us waiting.
  while (!(exited && !out_open)) {
    pollfd fds[3];
    nfds_t n = 0;
    if (out_open) fds[n++] = {out_read.get(), POLLIN, 0};
    if (err_open) fds[n++] = {err_read.get(), POLLIN, 0};
    if (!exited) fds[n++] = {pidfd, POLLIN, 0};
    const int wait_ms = poll_timeout_ms(deadline);
    if (wait_ms == 0) {
      timed_out = true;
      break;
    }
    const int ready = ::poll(fds, n, wait_ms);
    if (ready < 0 && errno != EINTR) {
      timed_out = true;  // cannot watch the provider any more: cut it off rather than block
      break;
    }
    for (nfds_t i = 0; i < n && ready > 0; ++i) {
      if (fds[i].revents == 0) continue;
      if (fds[i].fd == out_read.get()) {
        out_open = read_available(out_read.get(), output.stdout_bytes, limits_.max_output + 1, out_total);
      } else if (fds[i].fd == err_read.get()) {
        err_open = read_available(err_read.get(), output.stderr_bytes, limits_.max_stderr, err_total);
      } else {
        exited = true;
      }
    }
    if (out_total > limits_.max_output) {
      too_large = true;
      break;
    }
  }
  if (err_open) read_available(err_read.get(), output.stderr_bytes, limits_.max_stderr, err_total);

  // What the deadline found, for the detail: the provider gone and only a
  // process it left holding stdout, or the provider itself still running.
  const bool exited_before_deadline = exited;
  bool exited_on_sigterm = false;
  if (too_large || timed_out) {
    // The zombie (if it exited) still holds the process group id, so the group
    // cannot have been reused: signal every process the provider started.
    if (timed_out) {
      ::kill(-pid, SIGTERM);
      pollfd exit_fd{pidfd, POLLIN, 0};
      if (!exited && ::poll(&exit_fd, 1, static_cast<int>(limits_.kill_grace.count())) > 0) exited_on_sigterm = true;
    }
    ::kill(-pid, SIGKILL);
  }
  process.wait(ec);  // always reaped
  const int status = process.native_exit_code();

  if (too_large) {
    return ProviderFailure{ProviderFailureClass::output_too_large,
                           "stdout exceeded " + std::to_string(limits_.max_output) + " bytes", output.stderr_bytes};
  }
  if (timed_out) {
    std::string detail = "no answer within " + std::to_string(limits_.timeout.count()) + " ms";
    if (exited_before_deadline && out_open)
      detail += " (the provider exited but a process it left holds stdout open)";
    else if (exited_on_sigterm)
      detail += " (still running at the deadline; stopped with SIGTERM)";
    else if (!exited_before_deadline)
      detail += " (still running at the deadline; did not exit within " + std::to_string(limits_.kill_grace.count()) +
                " ms of SIGTERM, killed with SIGKILL)";
    return ProviderFailure{ProviderFailureClass::timeout, detail, output.stderr_bytes};
  }
  if (ec) return ProviderFailure{ProviderFailureClass::io_error, "wait: " + ec.message(), output.stderr_bytes};
  if (WIFSIGNALED(status)) {
    return ProviderFailure{ProviderFailureClass::signal, describe_status(status), output.stderr_bytes};
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return ProviderFailure{ProviderFailureClass::exit_code, describe_status(status), output.stderr_bytes};
  }
  return output;
}

}  // namespace keyreq
