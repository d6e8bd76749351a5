#pragma once
// The resolver's input (SPEC §1): a Unix datagram socket receiving one
// request per datagram, as the requester sends them. `threads` threads read
// it (the kernel wakes one of them per datagram: EPOLLEXCLUSIVE) and hand
// each datagram, bytes untouched, to their Reader, in the order the
// datagrams arrived. With more than one thread, a Reader learns whether
// another thread is receiving at that moment: then it may keep the request
// and resolve it itself after the input's lock is released
// (Dispatcher::submit_or_claim / run_claimed) without leaving the socket
// unread, a leader/follower arrangement that spares the hand-off to a
// worker (issue 13, docs/serve.md).
#include <sys/types.h>

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <variant>
#include <vector>

#include "resolver/platform/unique_fd.hpp"

namespace keyreq {

struct DatagramInputOptions {
  std::string path;
  mode_t mode = 0660;
  std::size_t max_datagram = 1024;  // longer datagrams reach the handler cut, with their real size
  int receive_buffer = 1 << 20;     // SO_RCVBUF asked for (the kernel may cap it)
  unsigned threads = 1;             // reading threads (≥ 1)
};

class DatagramInput {
 public:
  // One per reading thread (it may own per-thread state, as a Resolver).
  class Reader {
   public:
    virtual ~Reader() = default;
    // Under the input's lock, so in the order the datagrams arrived: keep it
    // short. `datagram` holds at most max_datagram bytes; `size` is the real
    // size. `others_receiving`: another reading thread is waiting for the
    // next datagram, so this one may take its time over this one, in finish().
    virtual void admit(std::string_view datagram, std::size_t size, bool others_receiving) = 0;
    // Right after admit(), outside the lock: the slow part admit() kept, if any.
    virtual void finish() {}
  };
  using ReaderFactory = std::function<std::unique_ptr<Reader>()>;
  // A Reader that is admit() alone, the same for every thread.
  using Handler = std::function<void(std::string_view datagram, std::size_t size, bool others_receiving)>;

  // Binds the socket (creating missing parent directories). A stale socket
  // file left by a crash is replaced; one that a live process still reads is
  // refused, as is any other kind of file at the path.
  static std::variant<std::unique_ptr<DatagramInput>, std::string> open(DatagramInputOptions options);
  ~DatagramInput();  // stop()

  // Starts the reading threads, all with the same handler or a Reader each.
  void start(Handler handler);
  void start(const ReaderFactory& make_reader);
  // Tells the reading threads to stop: none reads another datagram; one
  // handling a datagram (perhaps resolving it) finishes that first.
  void request_stop();
  // request_stop(), joins the threads (datagrams still in the socket buffer
  // are left unread), removes the socket file. Idempotent.
  void stop();

  const std::string& path() const { return options_.path; }
  std::uint64_t received() const { return received_.load(); }

 private:
  DatagramInput(DatagramInputOptions options, int fd, int stop_fd);
  // An epoll set for one reading thread: the socket and the stop event
  // (closed on failure, errno set).
  UniqueFd watch_socket_and_stop() const;
  void run(Reader& reader, int epoll_fd);
  // Waits for the socket (or stop); false once stopping.
  bool wait_readable(int epoll_fd);
  // Takes one datagram and admits it, under order_mutex_; false when none was there.
  bool receive_and_admit(Reader& reader, std::vector<char>& buffer);

  DatagramInputOptions options_;
  int fd_ = -1;
  int stop_fd_ = -1;
  std::atomic<std::uint64_t> received_{0};
  std::atomic<bool> stopping_{false};
  std::atomic<unsigned> receiving_{0};  // threads waiting for the socket
  std::mutex order_mutex_;              // recv + admit: datagrams are admitted in arrival order
  std::vector<UniqueFd> epoll_fds_;     // one per reading thread, made by open()
  std::vector<std::thread> threads_;
  bool stopped_ = false;
};

// Sends one datagram to a Unix datagram socket (tests and tools); "" or an error message.
std::string send_datagram(const std::string& path, std::string_view bytes);

}  // namespace keyreq
