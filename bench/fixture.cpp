#include "bench/fixture.hpp"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <thread>

#include "dataset/dataset.hpp"
#include "resolver/platform/child_process_groups.hpp"
#include "resolver/platform/errno_text.hpp"
#include "resolver/platform/posix_spawn_launcher.hpp"
#include "resolver/platform/proc_files.hpp"
#include "resolver/platform/unique_fd.hpp"
#include "resolver/platform/unix_connect.hpp"

namespace keyreq::bench {

namespace fs = std::filesystem;

std::vector<ProviderSpec> find_providers(const std::vector<std::string>& wanted, const fs::path& bin_dir,
                                         const fs::path& source_root, const std::string& db, const fs::path& workdir,
                                         int daemon_workers, std::vector<std::string>& missing) {
  struct Script {
    const char* name;
    const char* interpreter;
    const char* path;
    const char* workers_flag;
  };
  static const Script kScripts[] = {
      {"python", "/usr/bin/python3", "fixtures/providers/python/provider.py", "--workers"},
      {"php", "/usr/bin/php", "fixtures/providers/php/provider.php", "--workers"},
      {"perl", "/usr/bin/perl", "fixtures/providers/perl/provider.pl", "--workers"},
  };
  std::vector<ProviderSpec> out;
  for (const auto& name : wanted) {
    ProviderSpec p;
    p.name = name;
    p.socket_path = (workdir / (name + ".sock")).string();
    const std::string workers = std::to_string(daemon_workers);
    if (name == "reference") {
      const fs::path binary = bin_dir / "keyreq-provider";
      if (::access(binary.c_str(), X_OK) != 0) {
        missing.push_back("reference: " + binary.string() + " is not built");
        continue;
      }
      p.exec_command = {binary.string(), "--db", db};
      p.daemon_command = {binary.string(), "--db", db, "--socket", p.socket_path, "--threads", workers};
      out.push_back(std::move(p));
      continue;
    }
    const Script* s = nullptr;
    for (const auto& k : kScripts)
      if (name == k.name) s = &k;
    if (s == nullptr) {
      missing.push_back(name + ": unknown provider (reference, python, php, perl)");
      continue;
    }
    const fs::path script = source_root / s->path;
    if (!fs::exists(script)) {
      missing.push_back(name + ": " + script.string() + " not present yet");
      continue;
    }
    if (::access(s->interpreter, X_OK) != 0) {
      missing.push_back(name + ": interpreter " + std::string(s->interpreter) + " not installed");
      continue;
    }
    p.exec_command = {s->interpreter, script.string(), "--db", db};
    p.daemon_command = {s->interpreter, script.string(), "--db",          db,
                        "--socket",     p.socket_path,   s->workers_flag, workers};
    out.push_back(std::move(p));
  }
  return out;
}

bool socket_accepts(const std::string& path) {
  // The SPEC §3 health check: connect and close, nothing sent. A full backlog
  // is a live daemon too (connect_unix retries it for the 100 ms given).
  const auto now = std::chrono::steady_clock::now();
  return connect_unix(path, now + std::chrono::milliseconds(100), now).connected();
}

std::optional<Daemon> Daemon::start(const std::vector<std::string>& command, const std::string& socket_path,
                                    const std::string& log, std::chrono::milliseconds wait, std::string& error) {
  const UniqueFd log_fd(::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  if (log_fd.get() < 0) {
    error = "cannot open the daemon log " + log + ": " + errno_text(errno);
    return std::nullopt;
  }
  // Its own process group (stop() signals the group) and PR_SET_PDEATHSIG, so
  // a killed keyreq bench leaves no daemon behind.
  pid_t pid = -1;
  const int rc = spawn_process(command[0], command, SpawnStdio{dev_null_fd(O_RDONLY), log_fd.get(), log_fd.get()},
                               SpawnOptions{}, pid);
  if (rc != 0) {
    error = "cannot start " + command[0] + ": " + errno_text(rc);
    return std::nullopt;
  }
  Daemon daemon(pid);
  const auto deadline = std::chrono::steady_clock::now() + wait;
  while (std::chrono::steady_clock::now() < deadline) {
    if (socket_accepts(socket_path)) return daemon;
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      daemon.pid_ = -1;
      error =
          "the daemon exited (status " + std::to_string(status) + ") before serving " + socket_path + "; see " + log;
      return std::nullopt;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  error = "no connection accepted on " + socket_path + " within " + std::to_string(wait.count()) + " ms; see " + log;
  return std::nullopt;  // the destructor of `daemon` stops it
}

void Daemon::stop() {
  stop_process_group(pid_, std::chrono::seconds(3));
  pid_ = -1;
}

namespace {
double seconds(const timeval& tv) { return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6; }
}  // namespace

double cpu_self_s() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  return seconds(ru.ru_utime) + seconds(ru.ru_stime);
}

double cpu_children_s() {
  rusage ru{};
  ::getrusage(RUSAGE_CHILDREN, &ru);
  return seconds(ru.ru_utime) + seconds(ru.ru_stime);
}

double cpu_process_group_s(pid_t pgid) {
  double total = 0;
  for (const pid_t pid : list_process_ids()) {
    const auto stat = read_proc_stat(pid);
    if (!stat || stat->pgrp != pgid) continue;
    // The process's CPU-time clock (ns) where it can be read, else its ticks.
    const auto ns = process_cpu_ns(pid);
    total += ns ? static_cast<double>(*ns) / 1e9 : stat->cpu_s();
    // Workers the leader already reaped (pre-forked daemons recycle them).
    if (pid == pgid) total += stat->reaped_children_s();
  }
  return total;
}

std::size_t rss_bytes() { return read_rss_bytes(::getpid()).value_or(0); }

void write_keys_file(const fs::path& path, std::size_t first, std::size_t n) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  for (std::size_t i = first; i < first + n; ++i) {
    const auto a = fixtures::dataset_agent(i);
    out << a.id << ' ' << a.name << ' ' << a.ip << ' ' << a.key << '\n';
  }
}

fs::path executable_dir() {
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::current_path() : self.parent_path();
}

fs::path find_data_root() {
  if (const char* given = std::getenv("KEYREQ_DATA_DIR"); given != nullptr && *given != '\0') return given;
  const fs::path bin = executable_dir();
  for (const fs::path& candidate : {bin / ".." / "share" / "keyreq", bin / ".." / ".." / ".."}) {
    std::error_code ec;
    if (fs::is_directory(candidate / "fixtures" / "providers", ec)) return fs::weakly_canonical(candidate, ec);
  }
  return {};
}

}  // namespace keyreq::bench
