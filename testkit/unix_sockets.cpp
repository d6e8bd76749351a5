#include "testkit/unix_sockets.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <thread>

#include "resolver/platform/deadline.hpp"
#include "resolver/platform/socket_send.hpp"
#include "resolver/platform/unix_connect.hpp"

namespace keyreq::testkit {

int connect_unix(const std::string& path) {
  // The platform's connect (a busy backlog is waited out for a while, as a
  // blocking connect would), then blocking mode, which the tests expect.
  const auto now = std::chrono::steady_clock::now();
  UnixConnectResult connected = keyreq::connect_unix(path, now + std::chrono::seconds(10), now);
  if (!connected.connected()) {
    errno = connected.error;
    return -1;
  }
  const int fd = connected.fd.release();
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  return fd;
}

bool wait_for_socket(const std::string& path, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    const int fd = connect_unix(path);
    if (fd >= 0) {
      ::close(fd);
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return false;
}

bool write_all(int fd, std::string_view bytes) {
  return send_all(fd, bytes, std::chrono::steady_clock::now() + std::chrono::seconds(10)) == 0;
}

std::string read_some(int fd, std::size_t n, std::chrono::milliseconds timeout) {
  std::string got;
  char buf[4096];
  while (got.size() < n) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) break;
    const ssize_t r = ::read(fd, buf, sizeof buf);
    if (r <= 0) break;
    got.append(buf, static_cast<std::size_t>(r));
  }
  return got;
}

std::string read_to_eof(int fd, std::chrono::milliseconds timeout, std::vector<std::size_t>* chunk_sizes) {
  std::string out;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[65536];
  while (true) {
    const int wait_ms = poll_timeout_ms(deadline);
    if (wait_ms == 0) break;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, wait_ms) <= 0) break;
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
    if (chunk_sizes != nullptr) chunk_sizes->push_back(static_cast<std::size_t>(n));
  }
  return out;
}

std::optional<std::string> socket_request(const std::string& path, std::string_view request, bool half_close,
                                          std::chrono::milliseconds timeout) {
  const int fd = connect_unix(path);
  if (fd < 0) return std::nullopt;
  write_all(fd, request);
  if (half_close) ::shutdown(fd, SHUT_WR);
  std::string reply = read_to_eof(fd, timeout);
  ::close(fd);
  return reply;
}

}  // namespace keyreq::testkit
