#include "testkit/background_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "resolver/platform/unique_fd.hpp"
#include "testkit/files.hpp"
#include "testkit/processes.hpp"

namespace keyreq::testkit {

BackgroundProcess::BackgroundProcess(const std::vector<std::string>& argv, const std::string& log_path,
                                     const std::vector<std::string>& extra_env) {
  if (!start(argv, log_path, extra_env)) throw std::runtime_error("cannot start " + argv.front());
}

BackgroundProcess::~BackgroundProcess() {
  if (pid_ > 0 && !status_) {
    ::kill(-pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
}

bool BackgroundProcess::start(const std::vector<std::string>& argv, const std::string& log_path,
                              const std::vector<std::string>& extra_env) {
  log_path_ = log_path;
  status_.reset();
  pid_ = -1;
  const UniqueFd in(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  const UniqueFd log(::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  if (in.get() < 0 || log.get() < 0) return false;
  try {
    pid_ = spawn_process(argv, in.get(), log.get(), log.get(), extra_env);
  } catch (const std::runtime_error&) {
    return false;
  }
  return true;
}

void BackgroundProcess::signal(int sig) const {
  if (pid_ > 0 && !status_) ::kill(pid_, sig);
}

std::optional<int> BackgroundProcess::wait(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return std::nullopt;
  if (!status_) {
    wait_until(
        [&] {
          int s = 0;
          if (::waitpid(pid_, &s, WNOHANG) == pid_) status_ = s;
          return status_.has_value();
        },
        timeout);
  }
  if (!status_) return std::nullopt;
  return shell_status(*status_);
}

int BackgroundProcess::exit_code(std::chrono::milliseconds timeout) {
  wait(timeout);
  return status_ && WIFEXITED(*status_) ? WEXITSTATUS(*status_) : -1;
}

std::string BackgroundProcess::output() const { return read_file(log_path_); }

}  // namespace keyreq::testkit
