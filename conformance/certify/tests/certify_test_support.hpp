#pragma once
// What the certification tests share beyond the test kit: a dataset made in
// process, the options of a certification run, and finding lookups.
#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

#include "conformance/certify/certifier.hpp"
#include "dataset/dataset.hpp"
#include "testkit/testkit.hpp"

namespace keyreq::certify::testing {

using namespace keyreq::testkit;
inline std::string faulty(const std::string& name) { return source_path("fixtures/faulty/" + name); }
inline std::string provider_binary() { return bin("keyreq-provider"); }

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
    if (had_)
      ::setenv(name_.c_str(), old_.c_str(), 1);
    else
      ::unsetenv(name_.c_str());
  }

 private:
  std::string name_, old_;
  bool had_ = false;
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

// A probe result to build certificates with in report tests.
inline ProbeResult probe_result(std::string id, std::string group, std::string title = "") {
  ProbeResult p;
  p.id = std::move(id);
  p.group = std::move(group);
  p.title = std::move(title);
  return p;
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
    for (const auto& f : p.findings) out += p.id + " [" + f.rule + "] " + f.message.substr(0, 160) + "\n";
  return out.empty() ? "(no findings)" : out;
}

}  // namespace keyreq::certify::testing
