// Socket transport: one blocked thread per request in flight (SocketClient)
// against a Boost.Asio event loop and against 1 or 2 threads each polling
// several non-blocking connections, the same number of requests at once.
// Decides how `keyreq serve` drives the socket transport (docs/serve.md).
//
//   keyreq-socket-transport-compare --socket PATH [--seconds S] [--agents N]
//                                   [--concurrency 1,4,8,16,32] [--repeat R]
//
// Each mode runs for S seconds per concurrency level against a provider that
// is already listening (the reference provider); requests cycle over ids
// 001..N. Only the transport is timed: connect, write, read the whole JSON
// answer, close. Prints one line per (mode, concurrency, repetition).
#include <poll.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "resolver/platform/socket_send.hpp"
#include "resolver/platform/unique_fd.hpp"
#include "resolver/platform/unix_connect.hpp"
#include "resolver/transport/socket_client.hpp"

namespace {

using Clock = std::chrono::steady_clock;
namespace asio = boost::asio;
using stream = asio::local::stream_protocol;

std::string agent_id(unsigned long n) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%03lu", n);
  return buf;
}

struct Result {
  unsigned long ok = 0;
  unsigned long failed = 0;
  double seconds = 0;
};

Result run_threads(const std::string& path, unsigned concurrency, double seconds, unsigned long agents) {
  keyreq::CallLimits limits;
  limits.timeout = std::chrono::milliseconds(5000);
  keyreq::SocketClient client(path, limits);
  std::atomic<bool> stop{false};
  std::atomic<unsigned long> ok{0}, failed{0};
  std::vector<std::thread> threads;
  const auto start = Clock::now();
  for (unsigned t = 0; t < concurrency; ++t) {
    threads.emplace_back([&, t] {
      unsigned long n = t;
      unsigned long my_ok = 0, my_failed = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        keyreq::Request request{keyreq::RequestKind::id, agent_id(n++ % agents + 1)};
        auto result = client.call(request);
        auto* out = std::get_if<keyreq::ProviderOutput>(&result);
        if (out != nullptr && keyreq::json_document_complete(out->stdout_bytes))
          ++my_ok;
        else
          ++my_failed;
      }
      ok += my_ok;
      failed += my_failed;
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& t : threads) t.join();
  return {ok.load(), failed.load(), std::chrono::duration<double>(Clock::now() - start).count()};
}

// One request after another on one "lane"; `concurrency` lanes share the loop.
class Lane : public std::enable_shared_from_this<Lane> {
 public:
  Lane(asio::io_context& io, const std::string& path, unsigned long first, unsigned long agents,
       std::atomic<bool>& stop, std::atomic<unsigned long>& ok, std::atomic<unsigned long>& failed)
      : io_(io), endpoint_(path), n_(first), agents_(agents), stop_(stop), ok_(ok), failed_(failed) {}

  void start() {
    if (stop_.load(std::memory_order_relaxed)) return;
    socket_ = std::make_unique<stream::socket>(io_);
    wire_ = "id:" + agent_id(n_++ % agents_ + 1);
    reply_.clear();
    socket_->async_connect(endpoint_, [self = shared_from_this()](const boost::system::error_code& ec) {
      if (ec) return self->fail();
      asio::async_write(*self->socket_, asio::buffer(self->wire_),
                        [self](const boost::system::error_code& ec, std::size_t) {
                          if (ec) return self->fail();
                          self->read();
                        });
    });
  }

 private:
  void read() {
    socket_->async_read_some(asio::buffer(buf_),
                             [self = shared_from_this()](const boost::system::error_code& ec, std::size_t n) {
                               self->reply_.append(self->buf_, n);
                               if (keyreq::json_document_complete(self->reply_)) {
                                 self->ok_.fetch_add(1, std::memory_order_relaxed);
                                 self->socket_->close();
                                 return self->start();
                               }
                               if (ec) return self->fail();
                               self->read();
                             });
  }
  void fail() {
    failed_.fetch_add(1, std::memory_order_relaxed);
    socket_->close();
    start();
  }

  asio::io_context& io_;
  stream::endpoint endpoint_;
  unsigned long n_;
  unsigned long agents_;
  std::atomic<bool>& stop_;
  std::atomic<unsigned long>& ok_;
  std::atomic<unsigned long>& failed_;
  std::unique_ptr<stream::socket> socket_;
  std::string wire_;
  std::string reply_;
  char buf_[8192];
};

Result run_asio(const std::string& path, unsigned concurrency, double seconds, unsigned long agents,
                unsigned loop_threads) {
  asio::io_context io;
  std::atomic<bool> stop{false};
  std::atomic<unsigned long> ok{0}, failed{0};
  for (unsigned i = 0; i < concurrency; ++i) {
    std::make_shared<Lane>(io, path, i, agents, stop, ok, failed)->start();
  }
  const auto start = Clock::now();
  std::vector<std::thread> threads;
  for (unsigned i = 0; i < loop_threads; ++i) threads.emplace_back([&io] { io.run(); });
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;  // lanes finish their request and stop; run() returns when none is left
  for (auto& t : threads) t.join();
  return {ok.load(), failed.load(), std::chrono::duration<double>(Clock::now() - start).count()};
}

// Non-blocking sockets, `lanes` requests in flight per thread, one poll()
// over all of them: a thread sleeps only when none of its answers is there.
struct PollLane {
  keyreq::UniqueFd fd;  // the request in flight; empty between two
  unsigned long n = 0;
  std::string reply;
};

// Connects and sends the lane's next request with the platform kit (the
// socket comes back non-blocking); false when either failed.
bool open_lane(PollLane& lane, const std::string& path, unsigned long agents) {
  lane.reply.clear();
  const auto deadline = Clock::now() + std::chrono::seconds(5);
  keyreq::UnixConnectResult connection = keyreq::connect_unix(path, deadline, deadline);
  const std::string wire = "id:" + agent_id(lane.n++ % agents + 1);
  if (!connection.connected() || keyreq::send_all(connection.fd.get(), wire, deadline) != 0) return false;
  lane.fd = std::move(connection.fd);
  return true;
}

void drive_poll_lanes(const std::string& path, unsigned lanes, unsigned long first, unsigned long agents,
                      std::atomic<bool>& stop, std::atomic<unsigned long>& ok, std::atomic<unsigned long>& failed) {
  std::vector<PollLane> lane(lanes);
  std::vector<pollfd> fds(lanes);
  for (unsigned i = 0; i < lanes; ++i) lane[i].n = first + i * 7919;
  unsigned long my_ok = 0, my_failed = 0;
  char buf[8192];
  while (!stop.load(std::memory_order_relaxed)) {
    for (unsigned i = 0; i < lanes; ++i) {
      while (lane[i].fd.get() < 0 && !stop.load(std::memory_order_relaxed) && !open_lane(lane[i], path, agents))
        ++my_failed;
      fds[i] = pollfd{lane[i].fd.get(), POLLIN, 0};  // poll ignores a negative fd
    }
    if (::poll(fds.data(), lanes, 1000) <= 0) continue;
    for (unsigned i = 0; i < lanes; ++i) {
      if (fds[i].revents == 0) continue;
      const ssize_t got = ::recv(lane[i].fd.get(), buf, sizeof buf, 0);
      if (got > 0) lane[i].reply.append(buf, static_cast<std::size_t>(got));
      const bool complete = keyreq::json_document_complete(lane[i].reply);
      if (!complete && got > 0) continue;
      complete ? ++my_ok : ++my_failed;
      lane[i].fd.reset();
    }
  }
  ok += my_ok;
  failed += my_failed;
}

Result run_poll_lanes(const std::string& path, unsigned concurrency, double seconds, unsigned long agents,
                      unsigned threads) {
  threads = std::min(threads, concurrency);
  std::atomic<bool> stop{false};
  std::atomic<unsigned long> ok{0}, failed{0};
  std::vector<std::thread> pool;
  const auto start = Clock::now();
  for (unsigned t = 0; t < threads; ++t) {
    const unsigned lanes = concurrency / threads + (t < concurrency % threads ? 1 : 0);
    pool.emplace_back([&, t, lanes] { drive_poll_lanes(path, lanes, t, agents, stop, ok, failed); });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& t : pool) t.join();
  return {ok.load(), failed.load(), std::chrono::duration<double>(Clock::now() - start).count()};
}

double cpu_seconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// Runs one mode and prints its rate and this process's CPU per request.
template <typename Run>
void measure(const char* mode, unsigned concurrency, Run&& run) {
  const double cpu_before = cpu_seconds();
  const Result r = run();
  const double cpu = cpu_seconds() - cpu_before;
  std::printf("%-14s concurrency=%-3u requests=%-8lu failed=%-4lu rate=%.0f/s client_cpu=%.1f us/request\n", mode,
              concurrency, r.ok, r.failed, static_cast<double>(r.ok) / r.seconds,
              r.ok > 0 ? cpu * 1e6 / static_cast<double>(r.ok) : 0.0);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  std::string path;
  double seconds = 2;
  unsigned long agents = 1000;
  unsigned repeat = 3;
  std::vector<unsigned> levels{1, 4, 8, 16, 32};
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string opt = argv[i];
    const std::string value = argv[i + 1];
    if (opt == "--socket")
      path = value;
    else if (opt == "--seconds")
      seconds = std::atof(value.c_str());
    else if (opt == "--agents")
      agents = std::strtoul(value.c_str(), nullptr, 10);
    else if (opt == "--repeat")
      repeat = static_cast<unsigned>(std::strtoul(value.c_str(), nullptr, 10));
    else if (opt == "--concurrency") {
      levels.clear();
      for (std::size_t pos = 0; pos < value.size();) {
        const auto comma = value.find(',', pos);
        levels.push_back(static_cast<unsigned>(std::strtoul(value.substr(pos, comma - pos).c_str(), nullptr, 10)));
        pos = comma == std::string::npos ? value.size() : comma + 1;
      }
    } else {
      std::fprintf(stderr, "unknown option %s\n", opt.c_str());
      return 2;
    }
  }
  if (path.empty() || agents == 0) {
    std::fprintf(stderr,
                 "usage: keyreq-socket-transport-compare --socket PATH [--seconds S] [--agents N] "
                 "[--concurrency 1,4,8] [--repeat R]\n");
    return 2;
  }
  for (unsigned r = 0; r < repeat; ++r) {
    for (unsigned c : levels) {
      measure("threads", c, [&] { return run_threads(path, c, seconds, agents); });
      measure("asio-1-thread", c, [&] { return run_asio(path, c, seconds, agents, 1); });
      measure("asio-2-threads", c, [&] { return run_asio(path, c, seconds, agents, 2); });
      measure("poll-1-thread", c, [&] { return run_poll_lanes(path, c, seconds, agents, 1); });
      measure("poll-2-threads", c, [&] { return run_poll_lanes(path, c, seconds, agents, 2); });
    }
  }
  return 0;
}
