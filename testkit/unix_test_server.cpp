#include "testkit/unix_test_server.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "resolver/platform/errno_text.hpp"

namespace keyreq::testkit {

UnixTestServer::UnixTestServer(std::string path, Handler handler, int backlog, Handling handling)
    : path_(std::move(path)), handler_(std::move(handler)), handling_(handling) {
  fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path_.c_str(), sizeof addr.sun_path - 1);
  ::unlink(path_.c_str());
  if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd_, backlog) != 0) {
    const std::string why = errno_text(errno);
    if (fd_ >= 0) ::close(fd_);
    throw std::runtime_error("test server cannot listen on " + path_ + ": " + why);
  }
  thread_ = std::thread([this] { serve(); });
}

UnixTestServer::~UnixTestServer() {
  stop_ = true;
  thread_.join();
  ::close(fd_);
  ::unlink(path_.c_str());
}

void UnixTestServer::serve() {
  while (!stop_) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 20) <= 0) continue;
    const int client = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    ++connections_;
    if (handling_ == Handling::concurrent) {
      handlers_.emplace_back([this, client] { handle(client); });
    } else {
      handle(client);
    }
  }
  for (auto& t : handlers_) t.join();
}

void UnixTestServer::handle(int client) {
  handler_(client);
  ::close(client);
}

}  // namespace keyreq::testkit
