#pragma once
// Helpers for the certification tests: paths, temp dirs, datasets, daemons.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "conformance/certify/certifier.hpp"
#include "conformance/certify/socket_probe.hpp"
#include "fixtures/dataset/dataset.hpp"

extern char** environ;

namespace keyreq::certify::testing {

inline std::string env_or(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}
#ifndef KEYREQ_BIN_DIR_DEFAULT
#define KEYREQ_BIN_DIR_DEFAULT "."
#endif
#ifndef KEYREQ_SOURCE_ROOT_DEFAULT
#define KEYREQ_SOURCE_ROOT_DEFAULT "."
#endif
// The environment wins over the build-time defaults.
inline std::string bin_dir() { return env_or("KEYREQ_BIN_DIR", KEYREQ_BIN_DIR_DEFAULT); }
inline std::string source_root() { return env_or("KEYREQ_SOURCE_ROOT", KEYREQ_SOURCE_ROOT_DEFAULT); }
inline std::string provider_binary() { return bin_dir() + "/keyreq-provider"; }
inline std::string faulty(const std::string& name) { return source_root() + "/fixtures/faulty/" + name; }
inline bool executable(const std::string& path) { return ::access(path.c_str(), X_OK) == 0; }

class TempDir {
 public:
  TempDir() {
    // Short: socket paths must fit in sun_path.
    std::string tmpl = "/tmp/kr-cert-XXXXXX";
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Sets an environment variable for the scope (providers inherit it).
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old, had_ = true;
    ::setenv(name, value.c_str(), 1);
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;
  ~ScopedEnv() {
    if (had_) ::setenv(name_.c_str(), old_.c_str(), 1);
    else ::unsetenv(name_.c_str());
  }

 private:
  std::string name_, old_;
  bool had_ = false;
};

// A provider daemon started for the test, stopped (SIGKILL to its group) and
// reaped at the end.
class Daemon {
 public:
  Daemon(std::vector<std::string> args, const std::string& socket_path, const std::string& log_path,
         std::vector<std::string> extra_env = {}) {
    std::vector<std::string> env;
    for (char** e = environ; *e; ++e) env.emplace_back(*e);
    for (auto& x : extra_env) env.push_back(x);
    std::vector<char*> argv, envp;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    posix_spawnattr_setpgroup(&attr, 0);
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK);
    const int rc = ::posix_spawn(&pid_, argv[0], &fa, &attr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) throw std::runtime_error("cannot start " + args[0]);
    // Up when the socket file exists and accepts a connection (a health-check-like touch).
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
      if (std::filesystem::exists(socket_path) &&
          socket_touch(socket_path, std::chrono::milliseconds(500)).empty()) {
        up_ = true;
        break;
      }
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;
  ~Daemon() {
    if (pid_ > 0) {
      ::kill(-pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  bool up() const { return up_; }

 private:
  pid_t pid_ = -1;
  bool up_ = false;
};

// A dataset of n agents, SQLite.
inline std::string make_sqlite_dataset(const TempDir& dir, std::size_t n = 300) {
  const std::string path = dir / "agents.db";
  if (auto error = fixtures::write_sqlite_dataset(path, n)) throw std::runtime_error(*error);
  return path;
}

inline CertifyOptions exec_options(const std::vector<std::string>& command, const std::string& dataset,
                                   std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  CertifyOptions o;
  o.transport = Transport::exec;
  o.command = command;
  for (const auto& w : command) o.command_line += (o.command_line.empty() ? "" : " ") + w;
  o.dataset_path = dataset;
  auto read = read_dataset(dataset);
  if (!read) throw std::runtime_error(read.error);
  o.agents = read.agents;
  o.timeout = timeout;
  return o;
}

inline CertifyOptions socket_options(const std::string& path, const std::string& dataset,
                                     std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  CertifyOptions o = exec_options({}, dataset, timeout);
  o.transport = Transport::socket;
  o.command_line.clear();
  o.socket_path = path;
  return o;
}

// Every finding of the certificate with this rule.
inline std::vector<const Finding*> findings_of(const Certificate& cert, const std::string& rule) {
  std::vector<const Finding*> out;
  for (const auto& p : cert.probes)
    for (const auto& f : p.findings)
      if (f.rule == rule) out.push_back(&f);
  return out;
}

inline const ProbeResult* probe(const Certificate& cert, const std::string& id) {
  for (const auto& p : cert.probes)
    if (p.id == id) return &p;
  return nullptr;
}

inline bool has_rule(const ProbeResult* p, const std::string& rule) {
  if (!p) return false;
  return std::any_of(p->findings.begin(), p->findings.end(), [&](const Finding& f) { return f.rule == rule; });
}

// "D1 x2, SQLI x9": for failure messages.
inline std::string summary(const Certificate& cert) {
  std::string out;
  for (const auto& p : cert.probes)
    for (const auto& f : p.findings)
      out += p.id + " [" + f.rule + "] " + f.message.substr(0, 160) + "\n";
  return out.empty() ? "(no findings)" : out;
}

}  // namespace keyreq::certify::testing
