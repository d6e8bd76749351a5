#pragma once
// Helpers for the tests that run real processes: the keyreq binaries, a
// dataset, child processes with their output in a file, waiting for a
// condition with a bound, reading metrics, finding leftover processes.
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <dirent.h>
#include <fcntl.h>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "resolver/tests/test_support.hpp"

extern char** environ;

namespace keyreq::testing {

inline std::string bin_dir() {
  const char* d = std::getenv("KEYREQ_BIN_DIR");
  if (d != nullptr && *d != '\0') return d;
#ifdef KEYREQ_DEFAULT_BIN_DIR
  return KEYREQ_DEFAULT_BIN_DIR;
#else
  return "";
#endif
}
inline std::string bin(const std::string& name) { return bin_dir() + "/" + name; }

// Polls `done` every 10 ms for at most `timeout`.
inline bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

// A child process whose stdout and stderr go to a file.
class Child {
 public:
  Child() = default;
  Child(const std::vector<std::string>& argv, const std::string& output_path) { start(argv, output_path); }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child() {
    if (pid_ > 0 && !status_) {
      ::kill(pid_, SIGKILL);
      int s;
      ::waitpid(pid_, &s, 0);
    }
  }
  bool start(const std::vector<std::string>& argv, const std::string& output_path) {
    output_ = output_path;
    status_.reset();
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, output_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    const int rc = posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) pid_ = -1;
    return rc == 0;
  }
  pid_t pid() const { return pid_; }
  void signal(int sig) const {
    if (pid_ > 0 && !status_) ::kill(pid_, sig);
  }
  // The wait status once it has exited within `timeout`.
  std::optional<int> wait(std::chrono::milliseconds timeout) {
    if (status_) return status_;
    wait_until(
        [&] {
          int s;
          if (::waitpid(pid_, &s, WNOHANG) == pid_) status_ = s;
          return status_.has_value();
        },
        timeout);
    return status_;
  }
  // Exit code, or -1 (not exited / killed by a signal).
  int exit_code(std::chrono::milliseconds timeout) {
    auto s = wait(timeout);
    return s && WIFEXITED(*s) ? WEXITSTATUS(*s) : -1;
  }
  std::string output() const { return read_file(output_); }

 private:
  pid_t pid_ = -1;
  std::string output_;
  std::optional<int> status_;
};

// Runs to completion (at most `timeout`); returns {exit code or -1, output}.
inline std::pair<int, std::string> run(const std::vector<std::string>& argv, const std::string& output_path,
                                       std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
  Child child(argv, output_path);
  const int code = child.exit_code(timeout);
  return {code, child.output()};
}

inline std::string make_dataset(const TempDir& dir, int agents) {
  const std::string db = dir / "agents.db";
  auto [code, out] = run({bin("keyreq"), "dataset", "--agents", std::to_string(agents), "--sqlite", db},
                         dir / "dataset.log");
  if (code != 0) throw std::runtime_error("keyreq dataset failed: " + out);
  return db;
}

inline std::size_t count(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + needle.size())) ++n;
  return n;
}

// The value of one sample ("name" or "name{labels}") in Prometheus text; -1 when absent.
inline long long metric(const std::string& text, const std::string& sample) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(sample + " ", 0) == 0) return std::stoll(line.substr(sample.size() + 1));
  }
  return -1;
}

// Every live process whose process group is `pgid` (zombies excluded).
inline std::vector<pid_t> processes_in_group(pid_t pgid) {
  std::vector<pid_t> found;
  DIR* proc = ::opendir("/proc");
  if (!proc) return found;
  while (dirent* e = ::readdir(proc)) {
    const pid_t pid = static_cast<pid_t>(std::atoi(e->d_name));
    if (pid <= 0) continue;
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string text((std::istreambuf_iterator<char>(stat)), {});
    const auto paren = text.rfind(')');
    if (paren == std::string::npos) continue;
    std::istringstream rest(text.substr(paren + 2));
    char state;
    long ppid, pgrp;
    if (!(rest >> state >> ppid >> pgrp)) continue;
    if (pgrp == pgid && state != 'Z' && state != 'X') found.push_back(pid);
  }
  ::closedir(proc);
  return found;
}

// The first number after `key=` in the last line holding `event`; 0 when none.
inline long long last_field(const std::string& log, const std::string& event, const std::string& key) {
  const auto line_at = log.rfind("event=" + event + " ");
  if (line_at == std::string::npos) return 0;
  const auto end = log.find('\n', line_at);
  const std::string line = log.substr(line_at, end == std::string::npos ? std::string::npos : end - line_at);
  const auto k = line.find(" " + key + "=");
  if (k == std::string::npos) return 0;
  return std::atoll(line.c_str() + k + key.size() + 2);
}

}  // namespace keyreq::testing
