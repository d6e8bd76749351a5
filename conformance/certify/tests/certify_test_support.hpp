#pragma once
// Helpers for the certification tests: paths, temp dirs, datasets, daemons.
#include <fcntl.h>
#include <signal.h>
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
#include "dataset/dataset.hpp"
#include "fixtures/tests/test_util.hpp"

namespace keyreq::certify::testing {

// Paths, temp dirs and processes come from the fixtures' test helpers.
using fixtures::testing::bin_dir;
using fixtures::testing::env_or;
using fixtures::testing::provider_binary;
using fixtures::testing::source_root;
using fixtures::testing::TempDir;
inline std::string faulty(const std::string& name) { return source_root() + "/fixtures/faulty/" + name; }
inline bool executable(const std::string& path) { return ::access(path.c_str(), X_OK) == 0; }

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

// A provider daemon started for the test (stopped with SIGKILL to its group
// and reaped at the end), up once its socket accepts a connection.
class Daemon {
 public:
  Daemon(std::vector<std::string> args, const std::string& socket_path, const std::string& log_path,
         std::vector<std::string> extra_env = {})
      : process_(std::move(args), log_path, std::move(extra_env)) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
      if (std::filesystem::exists(socket_path) &&
          socket_touch(socket_path, std::chrono::milliseconds(500)).empty()) {
        up_ = true;
        break;
      }
      if (process_.wait(std::chrono::milliseconds(0))) break;  // it exited: not up
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  bool up() const { return up_; }

 private:
  fixtures::testing::Daemon process_;
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
