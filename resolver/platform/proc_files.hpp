#pragma once
// Reading /proc while processes come and go. A process may exit between
// listing /proc and reading its files; read() then fails (ESRCH), and
// libstdc++'s istreambuf_iterator turns that into an exception. Every /proc
// reader in keyreq goes through these calls, which treat a process that
// vanished as absent.
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace keyreq {

// Every pid listed in /proc when it was read (some may be gone already).
std::vector<pid_t> list_process_ids();

// The whole of /proc/PID/NAME ("stat", "environ", "cmdline"); nullopt when
// the process is gone or the file cannot be read.
std::optional<std::string> read_proc_file(pid_t pid, const char* name);

// The fields of /proc/PID/stat keyreq uses (proc(5)).
struct ProcStat {
  char state = 0;  // 'R', 'S', 'Z', ...
  pid_t ppid = 0;
  pid_t pgrp = 0;
  unsigned long long utime = 0, stime = 0, cutime = 0, cstime = 0;  // clock ticks
  bool gone() const { return state == 'Z' || state == 'X'; }        // exited, reaped or not
  double cpu_s() const;                                             // utime + stime, in seconds
  double reaped_children_s() const;  // cutime + cstime (children it waited for), in seconds
};

// nullopt when the process is gone or the file does not parse.
std::optional<ProcStat> read_proc_stat(pid_t pid);

// CPU time of every thread of `pid` so far, in nanoseconds (its CPU-time
// clock, clock_getcpuclockid(3): /proc/PID/stat counts 10 ms ticks, too
// coarse for a sub-second run). Children are not included. nullopt when the
// process is gone.
std::optional<std::uint64_t> process_cpu_ns(pid_t pid);

// Resident set size of `pid` in bytes (/proc/PID/statm); nullopt when gone.
std::optional<std::size_t> read_rss_bytes(pid_t pid);

// Whether the environment of `pid` holds `entry` ("NAME=value") as a whole
// variable; false when the process is gone.
bool process_environment_has(pid_t pid, std::string_view entry);

}  // namespace keyreq
