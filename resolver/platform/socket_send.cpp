#include "resolver/platform/socket_send.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>

#include "resolver/platform/deadline.hpp"

namespace keyreq {

int send_all(int fd, std::string_view bytes, std::chrono::steady_clock::time_point deadline) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n > 0) {
      bytes.remove_prefix(static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd p{fd, POLLOUT, 0};
      if (::poll(&p, 1, poll_timeout_ms(deadline)) <= 0) return ETIMEDOUT;
      continue;
    }
    return n < 0 ? errno : EIO;
  }
  return 0;
}

}  // namespace keyreq
