#include "resolver/transport/socket_client.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>

#include "resolver/platform/deadline.hpp"
#include "resolver/platform/errno_text.hpp"
#include "resolver/platform/json_document_end.hpp"
#include "resolver/platform/socket_send.hpp"
#include "resolver/platform/unix_connect.hpp"

namespace keyreq {
using Clock = std::chrono::steady_clock;

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

  if (const int err = send_all(fd, request.wire(), deadline); err != 0) {
    if (err == ETIMEDOUT) {
      return ProviderFailure{ProviderFailureClass::timeout, "request not written before the deadline", {}};
    }
    return ProviderFailure{ProviderFailureClass::io_error, "send: " + errno_text(err), {}};
  }

  ProviderOutput output;
  JsonDocumentEnd scanner;
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
                               "reply exceeded " + std::to_string(limits_.max_output) + " bytes",
                               {}};
      }
      if (scanner.feed(std::string_view(buf, static_cast<std::size_t>(n)))) return output;
      continue;
    }
    if (n == 0) return output;  // EOF: the parser judges what came
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      return ProviderFailure{ProviderFailureClass::io_error, "recv: " + errno_text(errno), {}};
    }
    wait_first = true;
  }
}

}  // namespace keyreq
