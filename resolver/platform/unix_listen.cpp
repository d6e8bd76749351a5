#include "resolver/platform/unix_listen.hpp"

#include <poll.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "resolver/platform/errno_text.hpp"
#include "resolver/platform/escape.hpp"

namespace keyreq {
namespace {

std::string too_long(const std::string& path) {
  return "socket path must be 1 to " + std::to_string(sizeof(sockaddr_un::sun_path) - 1) + " bytes: \"" +
         escape_bytes(path) + "\"";
}

// Looks at what is at `path`; sets result.error (refuse) or result.replaced_stale.
void inspect_existing(const std::string& path, int type, UnixListenResult& result) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno != ENOENT) result.error = "cannot inspect " + path + ": " + errno_text(errno);
    return;
  }
  if (!S_ISSOCK(st.st_mode)) {
    result.error = path + " exists and is not a socket; refusing to replace it";
    return;
  }
  sockaddr_un addr;
  unix_socket_address(path, addr);
  const UniqueFd probe(::socket(AF_UNIX, type | SOCK_CLOEXEC, 0));
  if (probe.get() < 0) {
    result.error = "socket: " + errno_text(errno);
    return;
  }
  if (::connect(probe.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0) {
    result.in_use = true;
    result.error = "another process is already serving " + path;
    return;
  }
  if (errno == ECONNREFUSED) {
    result.replaced_stale = true;  // a socket file nobody listens on: a dead server's
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
      result.error = "cannot remove stale socket " + path + ": " + errno_text(errno);
    }
    return;
  }
  if (errno != ENOENT) result.error = "cannot probe " + path + ": " + errno_text(errno);  // ENOENT: removed meanwhile
}

// bind (under `mode` from the start), chmod, listen for a stream socket;
// `path` is the name messages give.
bool bind_ready(int fd, const std::string& bind_path, const std::string& path, const UnixListenOptions& options,
                std::string& error) {
  sockaddr_un addr;
  unix_socket_address(bind_path, addr);
  const mode_t old_mask = ::umask(static_cast<mode_t>(~options.mode & 0777));
  const int bound = ::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  const int bind_errno = errno;
  ::umask(old_mask);
  if (bound != 0) {
    error = "cannot bind " + path + ": " + errno_text(bind_errno);
    return false;
  }
  // Bound: from here a failure removes the file this call created.
  if (::chmod(bind_path.c_str(), options.mode) != 0) {
    error = "cannot chmod " + path + ": " + errno_text(errno);
  } else if (options.type == SOCK_STREAM && ::listen(fd, options.backlog) != 0) {
    error = "cannot listen on " + path + ": " + errno_text(errno);
  } else {
    return true;
  }
  ::unlink(bind_path.c_str());
  return false;
}

}  // namespace

bool unix_socket_address(const std::string& path, sockaddr_un& addr) {
  std::memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof addr.sun_path) return false;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  return true;
}

UnixListenResult listen_unix(const std::string& path, const UnixListenOptions& options) {
  UnixListenResult result;
  sockaddr_un addr;
  if (!unix_socket_address(path, addr)) {
    result.error = too_long(path);
    return result;
  }
  inspect_existing(path, options.type, result);
  if (!result.error.empty()) return result;

  UniqueFd fd(::socket(AF_UNIX, options.type | SOCK_CLOEXEC | (options.nonblocking ? SOCK_NONBLOCK : 0), 0));
  if (fd.get() < 0) {
    result.error = "socket: " + errno_text(errno);
    return result;
  }
  if (options.receive_buffer > 0) {
    ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &options.receive_buffer, sizeof options.receive_buffer);
  }
  const std::string tmp = path + "." + std::to_string(::getpid()) + ".tmp";
  const bool via_tmp = tmp.size() < sizeof addr.sun_path;
  const std::string& bind_path = via_tmp ? tmp : path;
  if (via_tmp) ::unlink(tmp.c_str());
  if (!bind_ready(fd.get(), bind_path, path, options, result.error)) return result;
  if (via_tmp) {
    const int linked = ::link(tmp.c_str(), path.c_str());
    const int link_errno = errno;
    ::unlink(tmp.c_str());
    if (linked != 0) {
      result.in_use = link_errno == EEXIST;
      result.error = link_errno == EEXIST ? path + " appeared while starting (another server?)"
                                          : "cannot link " + path + ": " + errno_text(link_errno);
      return result;
    }
  }
  result.listener = UnixListener(std::move(fd), path);
  return result;
}

UnixListener::UnixListener(UniqueFd fd, std::string path) : fd_(std::move(fd)), path_(std::move(path)) {
  struct stat st {};
  if (::stat(path_.c_str(), &st) == 0) {
    dev_ = st.st_dev;
    ino_ = st.st_ino;
  }
}

UnixListener& UnixListener::operator=(UnixListener&& other) noexcept {
  if (this != &other) {
    remove_path_if_ours();
    fd_ = std::move(other.fd_);
    path_ = std::exchange(other.path_, std::string());
    dev_ = other.dev_;
    ino_ = other.ino_;
  }
  return *this;
}

UnixListener::~UnixListener() { remove_path_if_ours(); }

int UnixListener::release() {
  path_.clear();
  return fd_.release();
}

void UnixListener::remove_path_if_ours() {
  if (path_.empty()) return;
  struct stat now {};
  if (::stat(path_.c_str(), &now) == 0 && now.st_dev == dev_ && now.st_ino == ino_) ::unlink(path_.c_str());
  path_.clear();
}

void accept_until_stopped(int listen_fd, const std::atomic<bool>& stop, const std::function<void(int client)>& handle) {
  while (!stop.load()) {
    pollfd p{listen_fd, POLLIN, 0};
    if (::poll(&p, 1, 20) <= 0) continue;
    const UniqueFd client(::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC));
    if (client.get() >= 0) handle(client.get());
  }
}

UniqueFd connect_unix_datagram(const std::string& path, std::string& error) {
  sockaddr_un addr;
  if (!unix_socket_address(path, addr)) {
    error = too_long(path);
    return UniqueFd();
  }
  UniqueFd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0 || ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    error = "cannot connect to " + path + ": " + errno_text(errno);
    return UniqueFd();
  }
  return fd;
}

}  // namespace keyreq
