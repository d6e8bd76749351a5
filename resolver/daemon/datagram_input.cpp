#include "resolver/daemon/datagram_input.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

#include "resolver/platform/escape.hpp"
#include "resolver/platform/unix_listen.hpp"

namespace keyreq {

namespace {

std::string errno_text() { return std::strerror(errno); }

}  // namespace

std::variant<std::unique_ptr<DatagramInput>, std::string> DatagramInput::open(DatagramInputOptions options) {
  sockaddr_un addr;
  if (!unix_socket_address(options.path, addr)) {
    return "input socket path must be 1 to 107 bytes: \"" + escape_bytes(options.path) + "\"";
  }
  const std::filesystem::path parent = std::filesystem::path(options.path).parent_path();
  if (!parent.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(parent, ec);
    if (ec) return "cannot create " + parent.string() + ": " + ec.message();
  }
  // A dead serve's socket is replaced, a live one refused (the platform kit).
  UnixListenResult bound = listen_unix(
      options.path,
      UnixListenOptions{
          .type = SOCK_DGRAM, .mode = options.mode, .receive_buffer = options.receive_buffer, .nonblocking = true});
  if (bound.in_use) return options.path + " is in use by another process (is another keyreq serve running?)";
  if (!bound.ok()) return bound.error;
  const int fd = bound.listener.release();  // DatagramInput closes it and removes the path
  const int stop_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (stop_fd < 0) {
    const std::string why = "eventfd: " + errno_text();
    ::close(fd);
    ::unlink(options.path.c_str());
    return why;
  }
  return std::unique_ptr<DatagramInput>(new DatagramInput(std::move(options), fd, stop_fd));
}

DatagramInput::DatagramInput(DatagramInputOptions options, int fd, int stop_fd)
    : options_(std::move(options)), fd_(fd), stop_fd_(stop_fd) {}

DatagramInput::~DatagramInput() {
  stop();
  if (stop_fd_ >= 0) ::close(stop_fd_);
}

void DatagramInput::start(Handler handler) {
  if (thread_.joinable() || stopped_) return;
  thread_ = std::thread([this, handler = std::move(handler)] { run(handler); });
}

void DatagramInput::stop() {
  if (stopped_) return;
  stopped_ = true;
  stopping_ = true;
  const std::uint64_t one = 1;
  const ssize_t n = ::write(stop_fd_, &one, sizeof one);
  (void)n;
  if (thread_.joinable()) thread_.join();
  ::close(fd_);
  fd_ = -1;
  ::unlink(options_.path.c_str());
}

void DatagramInput::run(const Handler& handler) {
  std::vector<char> buf(options_.max_datagram);
  pollfd p[2] = {{fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
  while (true) {
    if (::poll(p, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (p[1].revents != 0) return;
    // Drain what is there before polling again.
    while (!stopping_.load(std::memory_order_relaxed)) {
      const ssize_t n = ::recv(fd_, buf.data(), buf.size(), MSG_TRUNC);
      if (n < 0) {
        if (errno == EINTR) continue;
        break;  // EAGAIN: empty
      }
      received_.fetch_add(1, std::memory_order_relaxed);
      const auto size = static_cast<std::size_t>(n);
      handler(std::string_view(buf.data(), std::min(size, buf.size())), size);
    }
  }
}

std::string send_datagram(const std::string& path, std::string_view bytes) {
  sockaddr_un addr;
  if (!unix_socket_address(path, addr)) return "bad socket path";
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return "socket: " + errno_text();
  ssize_t n;
  do {
    n = ::sendto(fd, bytes.data(), bytes.size(), 0, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  } while (n < 0 && errno == EINTR);
  const std::string error = n < 0 ? "sendto " + path + ": " + errno_text() : "";
  ::close(fd);
  return error;
}

}  // namespace keyreq
