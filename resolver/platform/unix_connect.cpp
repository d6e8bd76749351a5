#include "resolver/platform/unix_connect.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>

#include "resolver/platform/deadline.hpp"
#include "resolver/platform/errno_text.hpp"
#include "resolver/platform/escape.hpp"

namespace keyreq {
namespace {
using Clock = std::chrono::steady_clock;

// One attempt: the connected socket, or an empty one with `err` set.
UniqueFd try_connect(const sockaddr_un& addr, Clock::time_point deadline, int& err) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (fd.get() < 0) {
    err = errno;
    return fd;
  }
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0) return fd;
  err = errno;
  if (err == EINTR || err == EINPROGRESS) {
    // Still connecting (not seen on Linux Unix sockets, kept for other kernels):
    // wait for the result. EAGAIN is not this case: that socket is not connecting.
    pollfd p{fd.get(), POLLOUT, 0};
    if (::poll(&p, 1, poll_timeout_ms(deadline)) == 1) {
      socklen_t len = sizeof err;
      ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
      if (err == 0) return fd;
    } else {
      err = ETIMEDOUT;
    }
  }
  return UniqueFd();
}

bool refused_or_missing(int err) { return err == ECONNREFUSED || err == ENOENT; }

}  // namespace

UnixConnectResult connect_unix(const std::string& path, Clock::time_point deadline,
                               Clock::time_point retry_refused_until) {
  UnixConnectResult result;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) {
    result.error = ENAMETOOLONG;
    result.message =
        "socket path longer than " + std::to_string(sizeof addr.sun_path - 1) + " bytes: " + escape_bytes(path);
    return result;
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);

  // Backlog full: 1, 2, 4, 8 ms between attempts (a busy provider frees a slot
  // with every answer). Refused or missing: 2 … 64 ms (it may be starting).
  auto busy_pause = std::chrono::milliseconds(1);
  auto down_pause = std::chrono::milliseconds(2);
  while (true) {
    int err = 0;
    result.fd = try_connect(addr, deadline, err);
    if (result.connected()) return result;
    result.error = err;
    std::chrono::milliseconds pause{0};
    if (err == EAGAIN && Clock::now() + busy_pause < deadline) {
      pause = busy_pause;
      busy_pause = std::min(busy_pause * 2, std::chrono::milliseconds(8));
    } else if (refused_or_missing(err) && Clock::now() + down_pause < std::min(deadline, retry_refused_until)) {
      pause = down_pause;
      down_pause = std::min(down_pause * 2, std::chrono::milliseconds(64));
    }
    if (pause.count() == 0) break;
    std::this_thread::sleep_for(pause);
  }
  if (result.error == EAGAIN) {
    result.error = ETIMEDOUT;
    result.message = "cannot connect to " + escape_bytes(path) + ": listen backlog full until the deadline";
  } else {
    result.message = "cannot connect to " + escape_bytes(path) + ": " + errno_text(result.error);
  }
  return result;
}

}  // namespace keyreq
