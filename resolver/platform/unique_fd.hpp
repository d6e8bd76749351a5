#pragma once
// A file descriptor closed when it goes out of scope, and the close-on-exec
// pipe every process runner here needs (exec client, supervisor, certify).
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <string>
#include <utility>

namespace keyreq {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept {
    reset(std::exchange(o.fd_, -1));
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  int get() const { return fd_; }
  // Gives up ownership without closing.
  int release() { return std::exchange(fd_, -1); }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

// Both ends close-on-exec (a provider started at the same time by another
// thread must not inherit them and hold our end open); the read end is
// non-blocking, for a poll loop. False (errno set) when pipe2 fails.
inline bool make_pipe(UniqueFd& read_end, UniqueFd& write_end) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return false;
  read_end.reset(fds[0]);
  write_end.reset(fds[1]);
  ::fcntl(fds[0], F_SETFL, O_NONBLOCK);
  return true;
}

// Reads what a non-blocking descriptor has now into `into`, keeping at most
// `keep` bytes there and counting every byte in `total`. False at EOF or on a
// hard error (the descriptor is done); true when it would block.
inline bool read_available(int fd, std::string& into, std::size_t keep, std::size_t& total) {
  char buf[16384];
  while (true) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      total += static_cast<std::size_t>(n);
      if (into.size() < keep) into.append(buf, std::min(static_cast<std::size_t>(n), keep - into.size()));
      continue;
    }
    if (n == 0) return false;
    if (errno == EINTR) continue;
    return errno == EAGAIN || errno == EWOULDBLOCK;
  }
}

}  // namespace keyreq
