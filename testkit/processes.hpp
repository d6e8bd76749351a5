#pragma once
// Running programs from tests: to completion with their output captured, and
// looking at processes (alive, members of a group). Children are started with
// keyreq_platform's launcher (resolver/platform/posix_spawn_launcher.hpp):
// default signal dispositions, empty mask, each child leads its own group.
#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace keyreq::testkit {

// Starts argv[0] (a path; PATH is searched when it holds no '/') with the
// given stdio descriptors and our environment plus `extra_env` ("NAME=value").
// Returns the pid; throws std::runtime_error naming the program when it cannot start.
pid_t spawn_process(const std::vector<std::string>& argv, int in, int out, int err,
                    const std::vector<std::string>& extra_env = {});

// The shell's reading of a wait status: the exit code, or 128 + the signal.
int shell_status(int wait_status);

struct CommandResult {
  int exit_code = -1;  // -1 when killed by a signal or timed out
  int signal = 0;      // the signal that ended it, 0 when it exited
  bool timed_out = false;
  std::string out;
  std::string err;     // empty when merged into out
  double seconds = 0;  // from start to end (or to the timeout)
};

struct CommandOptions {
  bool merge_stderr = false;                  // stderr into `out` (messages printed there)
  std::vector<std::string> extra_env;         // "NAME=value" added to ours
  std::chrono::milliseconds timeout{60'000};  // then its whole process group is killed

  CommandOptions& with_env(std::vector<std::string> env) {
    extra_env = std::move(env);
    return *this;
  }
  CommandOptions& with_timeout(std::chrono::milliseconds limit) {
    timeout = limit;
    return *this;
  }
};

// Runs argv (no shell), stdin /dev/null, until it exits and closes its output.
CommandResult run_command(const std::vector<std::string>& argv, const CommandOptions& options = {});
inline CommandResult run_command(const std::vector<std::string>& argv, bool merge_stderr) {
  CommandOptions options;
  options.merge_stderr = merge_stderr;
  return run_command(argv, options);
}

// Exit code of `command_line` run by /bin/sh (redirections allowed), -1 when it did not exit.
int run_shell(const std::string& command_line);

// Polls `done` every 10 ms for at most `timeout`; whether it became true.
bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout);

// Running or sleeping; a zombie waiting for its reaper counts as gone.
// Gives a just-killed process up to 1 s to die.
bool process_alive(pid_t pid);

// Every live process whose process group is `pgid` (zombies excluded).
std::vector<pid_t> processes_in_group(pid_t pgid);

}  // namespace keyreq::testkit
