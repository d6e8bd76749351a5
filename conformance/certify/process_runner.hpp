#pragma once
// Runs a provider with any argv — including ones the resolver would never
// send — and records everything certification needs: stdout and stderr kept
// apart, exit status or signal, timing, whether the deadline was hit and
// whether the provider ignored SIGTERM. The platform kit's spawn_process + poll on a
// pidfd, no shell.
#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

namespace keyreq::certify {

struct RunLimits {
  std::chrono::milliseconds timeout{5'000};
  std::chrono::milliseconds kill_grace{500};  // SIGTERM at the deadline, SIGKILL this long after
  std::size_t max_stdout = 64 * 1024;         // the resolver's cap (SPEC §3)
  std::size_t max_stderr = 16 * 1024;
};

struct ProcessRun {
  bool started = false;
  std::string start_error;   // why it could not start (not found, not executable)
  std::string stdout_bytes;  // at most max_stdout + 1 bytes kept
  std::string stderr_bytes;  // at most max_stderr bytes kept
  std::size_t stdout_total = 0;
  std::size_t stderr_total = 0;
  bool exited = false;  // exited normally (exit_code is valid)
  int exit_code = -1;
  int signal = 0;  // killed by this signal (ours after a timeout, or its own crash)
  bool timed_out = false;
  bool stdout_held_open = false;  // exited, but something it left kept stdout open
  bool ignored_sigterm = false;   // still alive kill_grace after SIGTERM: needed SIGKILL
  bool too_large = false;         // stdout went past max_stdout
  std::chrono::nanoseconds elapsed{0};
};

// argv[0] is run as given when it holds a slash, otherwise looked up in PATH.
// stdin is /dev/null; the child gets its own process group, which is what is
// signalled at the deadline. Always reaps the child. Thread-safe.
ProcessRun run_process(const std::vector<std::string>& argv, const RunLimits& limits);

// SIGKILL to the process group of every provider run_process has started and
// not reaped yet; returns how many. For an interrupted certify (Ctrl-C,
// SIGTERM): called from a normal thread, not from a signal handler.
std::size_t stop_running_providers();

}  // namespace keyreq::certify
