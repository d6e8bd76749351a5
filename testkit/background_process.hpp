#pragma once
// A program running beside the test (keyreq serve, a provider, a certify run)
// with stdin /dev/null and stdout and stderr appended to a log file. It leads
// its own process group; what is still running at the end of the scope is
// killed (SIGKILL to the group) and reaped.
#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace keyreq::testkit {

class BackgroundProcess {
 public:
  BackgroundProcess() = default;
  // Starts at once; throws std::runtime_error when it cannot start.
  BackgroundProcess(const std::vector<std::string>& argv, const std::string& log_path,
                    const std::vector<std::string>& extra_env = {});
  BackgroundProcess(const BackgroundProcess&) = delete;
  BackgroundProcess& operator=(const BackgroundProcess&) = delete;
  ~BackgroundProcess();

  // Starts (again, once the previous run has ended); false when it cannot start.
  bool start(const std::vector<std::string>& argv, const std::string& log_path,
             const std::vector<std::string>& extra_env = {});
  pid_t pid() const { return pid_; }
  // To the process itself (not its group); nothing once it has been reaped.
  void signal(int sig) const;

  // Its end within `timeout`: the exit code, or 128 + the signal that killed it.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  // The exit code once ended within `timeout`; -1 when still running or killed by a signal.
  int exit_code(std::chrono::milliseconds timeout);
  // The raw waitpid() status once it has ended.
  std::optional<int> wait_status() const { return status_; }
  // What it wrote so far.
  std::string output() const;

 private:
  pid_t pid_ = -1;
  std::string log_path_;
  std::optional<int> status_;
};

}  // namespace keyreq::testkit
