#include "resolver/daemon/datagram_input.hpp"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

#include "resolver/platform/errno_text.hpp"
#include "resolver/platform/escape.hpp"
#include "resolver/platform/unique_fd.hpp"
#include "resolver/platform/unix_listen.hpp"

namespace keyreq {

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
    const std::string why = "eventfd: " + errno_text(errno);
    ::close(fd);
    ::unlink(options.path.c_str());
    return why;
  }
  std::unique_ptr<DatagramInput> input(new DatagramInput(std::move(options), fd, stop_fd));
  // Here rather than in the threads, so that running out of descriptors
  // fails start-up with a message instead of leaving a thread that never reads.
  for (unsigned i = 0; i < std::max(1u, input->options_.threads); ++i) {
    UniqueFd epoll_fd = input->watch_socket_and_stop();
    if (epoll_fd.get() < 0) return "epoll for input reading thread " + std::to_string(i + 1) + ": " + errno_text(errno);
    input->epoll_fds_.push_back(std::move(epoll_fd));
  }
  return input;
}

DatagramInput::DatagramInput(DatagramInputOptions options, int fd, int stop_fd)
    : options_(std::move(options)), fd_(fd), stop_fd_(stop_fd) {}

UniqueFd DatagramInput::watch_socket_and_stop() const {
  UniqueFd epoll_fd(::epoll_create1(EPOLL_CLOEXEC));
  // EPOLLEXCLUSIVE: a datagram wakes one waiting thread, not all of them.
  epoll_event on_socket{};
  on_socket.events = EPOLLIN | EPOLLEXCLUSIVE;
  on_socket.data.fd = fd_;
  epoll_event on_stop{};
  on_stop.events = EPOLLIN;
  on_stop.data.fd = stop_fd_;
  if (epoll_fd.get() < 0 || ::epoll_ctl(epoll_fd.get(), EPOLL_CTL_ADD, fd_, &on_socket) != 0 ||
      ::epoll_ctl(epoll_fd.get(), EPOLL_CTL_ADD, stop_fd_, &on_stop) != 0) {
    const int err = errno;
    epoll_fd.reset();
    errno = err;  // for the caller's message
  }
  return epoll_fd;
}

DatagramInput::~DatagramInput() {
  stop();
  if (stop_fd_ >= 0) ::close(stop_fd_);
}

namespace {
class HandlerReader final : public DatagramInput::Reader {
 public:
  explicit HandlerReader(DatagramInput::Handler handler) : handler_(std::move(handler)) {}
  void admit(std::string_view datagram, std::size_t size, bool others_receiving) override {
    handler_(datagram, size, others_receiving);
  }

 private:
  DatagramInput::Handler handler_;
};
}  // namespace

void DatagramInput::start(Handler handler) {
  start([&handler] { return std::make_unique<HandlerReader>(handler); });
}

void DatagramInput::start(const ReaderFactory& make_reader) {
  if (!threads_.empty() || stopped_) return;
  for (const UniqueFd& epoll_fd : epoll_fds_) {
    threads_.emplace_back(
        [this, reader = std::shared_ptr<Reader>(make_reader()), fd = epoll_fd.get()] { run(*reader, fd); });
  }
}

void DatagramInput::request_stop() {
  if (stopping_.exchange(true)) return;
  // Level-triggered and never read: every reading thread sees it.
  const std::uint64_t one = 1;
  const ssize_t n = ::write(stop_fd_, &one, sizeof one);
  (void)n;
}

void DatagramInput::stop() {
  if (stopped_) return;
  stopped_ = true;
  request_stop();
  for (auto& thread : threads_) thread.join();
  ::close(fd_);
  fd_ = -1;
  ::unlink(options_.path.c_str());
}

bool DatagramInput::wait_readable(int epoll_fd) {
  epoll_event ready[2];
  while (!stopping_.load(std::memory_order_relaxed)) {
    receiving_.fetch_add(1, std::memory_order_relaxed);
    const int n = ::epoll_wait(epoll_fd, ready, 2, -1);
    receiving_.fetch_sub(1, std::memory_order_relaxed);
    if (n > 0 || (n < 0 && errno != EINTR)) break;
  }
  return !stopping_.load(std::memory_order_relaxed);
}

bool DatagramInput::receive_and_admit(Reader& reader, std::vector<char>& buffer) {
  std::lock_guard lock(order_mutex_);
  while (true) {
    const ssize_t n = ::recv(fd_, buffer.data(), buffer.size(), MSG_TRUNC);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;  // EAGAIN: empty (or another thread took it)
    }
    received_.fetch_add(1, std::memory_order_relaxed);
    const auto size = static_cast<std::size_t>(n);
    reader.admit(std::string_view(buffer.data(), std::min(size, buffer.size())), size,
                 receiving_.load(std::memory_order_relaxed) > 0);
    return true;
  }
}

void DatagramInput::run(Reader& reader, int epoll_fd) {
  std::vector<char> buffer(options_.max_datagram);
  while (wait_readable(epoll_fd)) {
    // Drain what is there before waiting again.
    while (!stopping_.load(std::memory_order_relaxed) && receive_and_admit(reader, buffer)) reader.finish();
  }
}

std::string send_datagram(const std::string& path, std::string_view bytes) {
  sockaddr_un addr;
  if (!unix_socket_address(path, addr)) return "bad socket path";
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return "socket: " + errno_text(errno);
  ssize_t n;
  do {
    n = ::sendto(fd, bytes.data(), bytes.size(), 0, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  } while (n < 0 && errno == EINTR);
  const std::string error = n < 0 ? "sendto " + path + ": " + errno_text(errno) : "";
  ::close(fd);
  return error;
}

}  // namespace keyreq
