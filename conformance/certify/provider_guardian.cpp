#include "conformance/certify/provider_guardian.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>

#include "resolver/platform/errno_text.hpp"

namespace keyreq::certify {
namespace {

std::atomic<int> g_report_fd{-1};

// One record per event: +pid started, -pid reaped. 4 bytes: atomic on a pipe.
void report(std::int32_t record) {
  const int fd = g_report_fd.load();
  if (fd < 0) return;
  while (::write(fd, &record, sizeof record) < 0 && errno == EINTR) {
  }
}

// The guardian itself: only async-signal-safe calls, no allocation (it is a
// fork of a process that may have other threads).
[[noreturn]] void guard(int read_fd) {
  for (int fd = 0; fd < 1024; ++fd)
    if (fd != read_fd) ::close(fd);  // hold no pipe or terminal of certify's open
  constexpr std::size_t kMax = 4096;
  pid_t live[kMax];
  std::size_t count = 0;
  std::int32_t record = 0;
  while (true) {
    const ssize_t n = ::read(read_fd, &record, sizeof record);
    if (n < 0 && errno == EINTR) continue;
    if (n != static_cast<ssize_t>(sizeof record)) break;  // EOF: certify is gone
    if (record > 0 && count < kMax) {
      live[count++] = record;
    } else if (record < 0) {
      for (std::size_t i = 0; i < count; ++i) {
        if (live[i] == -record) {
          live[i] = live[--count];
          break;
        }
      }
    }
  }
  for (std::size_t i = 0; i < count; ++i) ::kill(-live[i], SIGKILL);
  ::_exit(0);
}

}  // namespace

std::string start_provider_guardian() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return "pipe: " + errno_text(errno);
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    return "fork: " + errno_text(errno);
  }
  if (pid == 0) {
    // Stop signals from the terminal reach certify's whole process group:
    // the guardian outlives certify's own handling of them.
    ::signal(SIGINT, SIG_IGN);
    ::signal(SIGTERM, SIG_IGN);
    ::signal(SIGHUP, SIG_IGN);
    guard(fds[0]);
  }
  ::close(fds[0]);
  g_report_fd = fds[1];  // closed by the kernel when certify exits: that is the signal
  return {};
}

void guardian_provider_started(pid_t pid) { report(static_cast<std::int32_t>(pid)); }
void guardian_provider_reaped(pid_t pid) { report(-static_cast<std::int32_t>(pid)); }

}  // namespace keyreq::certify
