#pragma once
// The resolver's input (SPEC §1): a Unix datagram socket receiving one
// request per datagram, as the requester sends them. A thread reads it and
// hands each datagram, bytes untouched, to a handler.
#include <sys/types.h>

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <variant>

namespace keyreq {

struct DatagramInputOptions {
  std::string path;
  mode_t mode = 0660;
  std::size_t max_datagram = 1024;  // longer datagrams reach the handler cut, with their real size
  int receive_buffer = 1 << 20;     // SO_RCVBUF asked for (the kernel may cap it)
};

class DatagramInput {
 public:
  // `datagram` holds at most max_datagram bytes; `size` is the real size.
  using Handler = std::function<void(std::string_view datagram, std::size_t size)>;

  // Binds the socket (creating missing parent directories). A stale socket
  // file left by a crash is replaced; one that a live process still reads is
  // refused, as is any other kind of file at the path.
  static std::variant<std::unique_ptr<DatagramInput>, std::string> open(DatagramInputOptions options);
  ~DatagramInput();  // stop()

  // Starts the reading thread.
  void start(Handler handler);
  // Stops reading at once (datagrams still in the socket buffer are left
  // unread), joins the thread, removes the socket file. Idempotent.
  void stop();

  const std::string& path() const { return options_.path; }
  std::uint64_t received() const { return received_.load(); }

 private:
  DatagramInput(DatagramInputOptions options, int fd, int stop_fd);
  void run(const Handler& handler);

  DatagramInputOptions options_;
  int fd_ = -1;
  int stop_fd_ = -1;
  std::atomic<std::uint64_t> received_{0};
  std::atomic<bool> stopping_{false};
  std::thread thread_;
  bool stopped_ = false;
};

// Sends one datagram to a Unix datagram socket (tests and tools); "" or an error message.
std::string send_datagram(const std::string& path, std::string_view bytes);

}  // namespace keyreq
