#include "resolver/transport/socket_client.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "resolver/platform/deadline.hpp"
#include "resolver/platform/unix_connect.hpp"

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

}  // namespace

bool json_document_complete(std::string_view bytes) {
  DocumentEndScanner scanner;
  return scanner.feed(bytes);
}

SocketClient::SocketClient(std::string path, CallLimits limits, std::chrono::milliseconds connect_retry)
    : path_(std::move(path)), limits_(limits), connect_retry_(connect_retry) {}

std::string SocketClient::describe() const { return "socket:" + path_; }

bool SocketClient::health_check() const {
  const auto now = Clock::now();
  return connect_unix(path_, now + std::chrono::seconds(1), now).connected();
}

ProviderResult SocketClient::call(const Request& request) {
  const auto start = Clock::now();
  const auto deadline = start + limits_.timeout;
  UnixConnectResult connection = connect_unix(path_, deadline, std::min(deadline, start + connect_retry_));
  if (!connection.connected()) {
    // ETIMEDOUT: the provider was alive but its backlog stayed full.
    const auto failure =
        connection.error == ETIMEDOUT ? ProviderFailureClass::timeout : ProviderFailureClass::cannot_start;
    return ProviderFailure{failure, std::move(connection.message), {}};
  }
  const int fd = connection.fd.get();

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
  // Right after the request went out the answer is not there yet: wait for
  // it before reading, instead of a recv that would only say EAGAIN (one
  // system call less per request; issue 13).
  bool wait_first = true;
  while (true) {
    if (wait_first) {
      pollfd p{fd, POLLIN, 0};
      const int wait_ms = poll_timeout_ms(deadline);
      if (wait_ms == 0 || ::poll(&p, 1, wait_ms) == 0) {
        return ProviderFailure{ProviderFailureClass::timeout,
                               "no complete answer within " + std::to_string(limits_.timeout.count()) + " ms (" +
                                   std::to_string(output.stdout_bytes.size()) + " bytes received)",
                               {}};
      }
    }
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    wait_first = false;
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
    wait_first = true;
  }
}

}  // namespace keyreq
