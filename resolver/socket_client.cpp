#include "resolver/socket_client.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "resolver/escape.hpp"
#include "resolver/deadline.hpp"

namespace keyreq {
using Clock = std::chrono::steady_clock;

namespace {

// Tracks brackets outside strings across reads, so each byte is looked at once.
class DocumentEndScanner {
 public:
  // Feeds more bytes; true once one complete object or array has been seen.
  bool feed(std::string_view bytes) {
    for (char c : bytes) {
      if (done_ || gave_up_) break;
      if (in_string_) {
        if (escaped_) escaped_ = false;
        else if (c == '\\') escaped_ = true;
        else if (c == '"') in_string_ = false;
        continue;
      }
      if (depth_ == 0 && !started_) {
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') continue;
        if (c != '{' && c != '[') {
          gave_up_ = true;  // not an object or array: only EOF ends it
          break;
        }
        started_ = true;
      }
      if (c == '"') in_string_ = true;
      else if (c == '{' || c == '[') ++depth_;
      else if ((c == '}' || c == ']') && --depth_ == 0) done_ = true;
    }
    return done_;
  }

 private:
  long depth_ = 0;
  bool started_ = false, in_string_ = false, escaped_ = false, done_ = false, gave_up_ = false;
};

class Socket {
 public:
  explicit Socket(int fd) : fd_(fd) {}
  ~Socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

bool fill_address(const std::string& path, sockaddr_un& addr) {
  std::memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) return false;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  return true;
}

// One connection attempt; returns the connected socket or -1 with errno set.
int try_connect(const sockaddr_un& addr, Clock::time_point deadline) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return -1;
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0) return fd;
  if (errno == EINPROGRESS || errno == EAGAIN) {
    // Unix sockets report EAGAIN when the listen backlog is full: wait for it.
    pollfd p{fd, POLLOUT, 0};
    if (::poll(&p, 1, poll_timeout_ms(deadline)) == 1) {
      int err = 0;
      socklen_t len = sizeof err;
      ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err == 0) return fd;
      errno = err;
    } else {
      errno = ETIMEDOUT;
    }
  }
  const int saved = errno;
  ::close(fd);
  errno = saved;
  return -1;
}

bool retryable(int err) { return err == ECONNREFUSED || err == ENOENT || err == EAGAIN; }

}  // namespace

bool json_document_complete(std::string_view bytes) {
  DocumentEndScanner scanner;
  return scanner.feed(bytes);
}

SocketClient::SocketClient(std::string path, CallLimits limits, std::chrono::milliseconds connect_retry)
    : path_(std::move(path)), limits_(limits), connect_retry_(connect_retry) {}

std::string SocketClient::describe() const { return "socket:" + path_; }

bool SocketClient::health_check() const {
  sockaddr_un addr;
  if (!fill_address(path_, addr)) return false;
  const int fd = try_connect(addr, Clock::now() + std::chrono::seconds(1));
  if (fd < 0) return false;
  ::close(fd);
  return true;
}

ProviderResult SocketClient::call(const Request& request) {
  const auto start = Clock::now();
  const auto deadline = start + limits_.timeout;
  const auto retry_until = std::min(deadline, start + connect_retry_);
  sockaddr_un addr;
  if (!fill_address(path_, addr)) {
    return ProviderFailure{ProviderFailureClass::cannot_start,
                           "socket path longer than 107 bytes: " + escape_bytes(path_), {}};
  }

  // Bounded backoff: 2, 4, 8 … 64 ms between attempts while the socket is refused.
  int fd = -1;
  auto pause = std::chrono::milliseconds(2);
  while (true) {
    fd = try_connect(addr, deadline);
    if (fd >= 0) break;
    const int err = errno;
    if (!retryable(err) || Clock::now() + pause >= retry_until) {
      return ProviderFailure{ProviderFailureClass::cannot_start,
                             "cannot connect to " + escape_bytes(path_) + ": " + std::strerror(err), {}};
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(64));
  }
  Socket socket(fd);

  const std::string wire = request.wire();
  std::size_t written = 0;
  while (written < wire.size()) {
    const ssize_t n = ::send(fd, wire.data() + written, wire.size() - written, MSG_NOSIGNAL);
    if (n > 0) {
      written += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      pollfd p{fd, POLLOUT, 0};
      if (::poll(&p, 1, poll_timeout_ms(deadline)) <= 0) {
        return ProviderFailure{ProviderFailureClass::timeout, "request not written before the deadline", {}};
      }
      continue;
    }
    return ProviderFailure{ProviderFailureClass::io_error, std::string("send: ") + std::strerror(errno), {}};
  }

  ProviderOutput output;
  DocumentEndScanner scanner;
  char buf[8192];
  while (true) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n > 0) {
      output.stdout_bytes.append(buf, static_cast<std::size_t>(n));
      if (output.stdout_bytes.size() > limits_.max_output) {
        return ProviderFailure{ProviderFailureClass::output_too_large,
                               "reply exceeded " + std::to_string(limits_.max_output) + " bytes", {}};
      }
      if (scanner.feed(std::string_view(buf, static_cast<std::size_t>(n)))) return output;
      continue;
    }
    if (n == 0) return output;  // EOF: the parser judges what came
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      return ProviderFailure{ProviderFailureClass::io_error, std::string("recv: ") + std::strerror(errno), {}};
    }
    pollfd p{fd, POLLIN, 0};
    const int wait_ms = poll_timeout_ms(deadline);
    if (wait_ms == 0 || ::poll(&p, 1, wait_ms) == 0) {
      return ProviderFailure{ProviderFailureClass::timeout,
                             "no complete answer within " + std::to_string(limits_.timeout.count()) + " ms (" +
                                 std::to_string(output.stdout_bytes.size()) + " bytes received)",
                             {}};
    }
  }
}

}  // namespace keyreq
