#pragma once
// A Unix stream server on a thread, for socket client tests: each accepted
// connection is handed to `handler` on the server thread, one at a time.
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <functional>
#include <string>
#include <thread>

namespace keyreq::testing {

class UnixTestServer {
 public:
  using Handler = std::function<void(int fd)>;

  // `backlog` is passed to listen(): a small one makes concurrent clients
  // find the queue full (EAGAIN from a non-blocking connect).
  UnixTestServer(std::string path, Handler handler, int backlog = 64)
      : path_(std::move(path)), handler_(std::move(handler)) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path_.c_str(), sizeof addr.sun_path - 1);
    ::unlink(path_.c_str());
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd_, backlog) != 0) {
      throw std::runtime_error("test server cannot listen on " + path_ + ": " + std::strerror(errno));
    }
    thread_ = std::thread([this] { serve(); });
  }
  ~UnixTestServer() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
    ::unlink(path_.c_str());
  }
  int connections() const { return connections_.load(); }

  // Reads until the peer has sent `n` bytes or closes, at most `ms` milliseconds.
  static std::string read_some(int fd, std::size_t n, int ms = 1000) {
    std::string got;
    char buf[4096];
    while (got.size() < n) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, ms) <= 0) break;
      const ssize_t r = ::read(fd, buf, sizeof buf);
      if (r <= 0) break;
      got.append(buf, static_cast<std::size_t>(r));
    }
    return got;
  }
  static void write_all(int fd, std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return;
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
  }

 private:
  void serve() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      const int client = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (client < 0) continue;
      ++connections_;
      handler_(client);
      ::close(client);
    }
  }

  std::string path_;
  Handler handler_;
  int fd_ = -1;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::thread thread_;
};

}  // namespace keyreq::testing
