#include "resolver/platform/proc_files.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <sstream>

#include "resolver/platform/unique_fd.hpp"

namespace keyreq {

std::vector<pid_t> list_process_ids() {
  std::vector<pid_t> pids;
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) return pids;
  while (const dirent* entry = ::readdir(proc)) {
    const pid_t pid = static_cast<pid_t>(std::atoi(entry->d_name));  // 0 for ".", "self", ...
    if (pid > 0) pids.push_back(pid);
  }
  ::closedir(proc);
  return pids;
}

std::optional<std::string> read_proc_file(pid_t pid, const char* name) {
  const std::string path = "/proc/" + std::to_string(pid) + "/" + name;
  const UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return std::nullopt;
  std::string text;
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n > 0) {
      text.append(buffer, static_cast<std::size_t>(n));
    } else if (n == 0) {
      return text;
    } else if (errno != EINTR) {
      return std::nullopt;  // ESRCH: it exited while we read
    }
  }
}

namespace {
double ticks_to_seconds(unsigned long long ticks) {
  static const double per_second = static_cast<double>(::sysconf(_SC_CLK_TCK));
  return static_cast<double>(ticks) / per_second;
}
}  // namespace

double ProcStat::cpu_s() const { return ticks_to_seconds(utime + stime); }
double ProcStat::reaped_children_s() const { return ticks_to_seconds(cutime + cstime); }

std::optional<ProcStat> read_proc_stat(pid_t pid) {
  const auto text = read_proc_file(pid, "stat");
  if (!text) return std::nullopt;
  // "pid (comm) state ppid pgrp session tty_nr tpgid flags minflt cminflt
  // majflt cmajflt utime stime cutime cstime ..."; comm may hold spaces and
  // parentheses, so the fields start after the last ')'.
  const auto paren = text->rfind(')');
  if (paren == std::string::npos || paren + 2 >= text->size()) return std::nullopt;
  std::istringstream fields(text->substr(paren + 2));
  ProcStat stat;
  long skipped = 0;
  if (!(fields >> stat.state >> stat.ppid >> stat.pgrp)) return std::nullopt;
  for (int k = 0; k < 8; ++k) fields >> skipped;  // session .. cmajflt
  fields >> stat.utime >> stat.stime >> stat.cutime >> stat.cstime;
  return stat;
}

std::optional<std::uint64_t> process_cpu_ns(pid_t pid) {
  clockid_t clock{};
  timespec t{};
  if (::clock_getcpuclockid(pid, &clock) != 0 || ::clock_gettime(clock, &t) != 0) return std::nullopt;
  return static_cast<std::uint64_t>(t.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(t.tv_nsec);
}

std::optional<std::size_t> read_rss_bytes(pid_t pid) {
  const auto text = read_proc_file(pid, "statm");
  if (!text) return std::nullopt;
  std::istringstream fields(*text);
  std::size_t size = 0, resident = 0;
  if (!(fields >> size >> resident)) return std::nullopt;
  return resident * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
}

bool process_environment_has(pid_t pid, std::string_view entry) {
  const auto environment = read_proc_file(pid, "environ");
  if (!environment) return false;
  std::string_view rest = *environment;
  while (!rest.empty()) {
    const auto end = rest.find('\0');
    if (rest.substr(0, end) == entry) return true;
    if (end == std::string_view::npos) break;
    rest.remove_prefix(end + 1);
  }
  return false;
}

}  // namespace keyreq
