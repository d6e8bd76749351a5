#include "conformance/certify/socket_probe.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "resolver/platform/deadline.hpp"
#include "resolver/platform/errno_text.hpp"
#include "resolver/platform/socket_send.hpp"
#include "resolver/platform/unique_fd.hpp"
#include "resolver/platform/unix_connect.hpp"
#include "resolver/transport/socket_client.hpp"

namespace keyreq::certify {
namespace {
using Clock = std::chrono::steady_clock;

// Connected non-blocking socket, or -1 with `error` set. A busy provider
// (listen backlog full) is waited for until the deadline; a refused or missing
// socket is not retried: certify reports what it finds.
int connect_to(const std::string& path, Clock::time_point deadline, std::string& error) {
  UnixConnectResult connection = connect_unix(path, deadline, Clock::now());
  if (!connection.connected()) {
    error = std::move(connection.message);
    return -1;
  }
  return connection.fd.release();
}

// Writes all of `bytes` before the deadline; "" or the error.
std::string write_all(int fd, std::string_view bytes, Clock::time_point deadline) {
  const int err = send_all(fd, bytes, deadline);
  if (err == ETIMEDOUT) return "the provider did not read the request before the deadline";
  return err == 0 ? std::string() : "send: " + errno_text(err);
}

}  // namespace

std::string socket_touch(const std::string& path, std::chrono::milliseconds timeout) {
  std::string error;
  const int fd = connect_to(path, Clock::now() + timeout, error);
  if (fd >= 0) ::close(fd);
  return error;
}

SocketRun socket_exchange(const std::string& path, const SocketScript& script) {
  SocketRun run;
  const auto start = Clock::now();
  const auto deadline = start + script.timeout;
  const int raw = connect_to(path, deadline, run.connect_error);
  if (raw < 0) {
    run.elapsed = Clock::now() - start;
    return run;
  }
  run.connected = true;
  UniqueFd socket(raw);

  for (std::size_t i = 0; i < script.pieces.size() && run.write_error.empty(); ++i) {
    if (i > 0 && script.pause_between.count() > 0) std::this_thread::sleep_for(script.pause_between);
    run.write_error = write_all(socket.get(), script.pieces[i], deadline);
  }
  if (script.half_close) ::shutdown(socket.get(), SHUT_WR);
  const auto written = Clock::now();
  if (!script.read_reply) {
    run.elapsed = written - start;
    return run;
  }

  char buf[8192];
  while (true) {
    const ssize_t n = ::recv(socket.get(), buf, sizeof buf, 0);
    if (n > 0) {
      const auto size = static_cast<std::size_t>(n);
      run.pieces.push_back({size, Clock::now() - written});
      const std::size_t keep = script.max_reply + 1;
      if (run.reply.size() < keep) run.reply.append(buf, std::min(size, keep - run.reply.size()));
      if (run.reply.size() > script.max_reply) {
        run.too_large = true;
        break;
      }
      if (script.stop_at_document_end && json_document_complete(run.reply)) {
        run.complete_document = true;
        break;
      }
      continue;
    }
    if (n == 0) {
      run.eof = true;
      break;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      pollfd p{socket.get(), POLLIN, 0};
      const int wait_ms = poll_timeout_ms(deadline);
      if (wait_ms == 0 || ::poll(&p, 1, wait_ms) == 0) {
        run.timed_out = true;
        break;
      }
      continue;
    }
    // A provider that closes with part of our request unread resets the
    // connection; what it sent before is still the reply.
    if (errno == ECONNRESET || errno == EPIPE)
      run.reset = true;
    else
      run.read_error = "recv: " + errno_text(errno);
    break;
  }
  run.elapsed = Clock::now() - start;
  return run;
}

std::vector<SocketRun> concurrent_exchanges(const std::string& path, const std::vector<std::string>& requests,
                                            std::chrono::milliseconds timeout, std::size_t max_reply) {
  const auto start = Clock::now();
  const auto deadline = start + timeout;
  std::vector<SocketRun> runs(requests.size());
  std::vector<int> fds(requests.size(), -1);
  // Each request is written as soon as its connection is up, as the resolver
  // does: a daemon that serves one connection at a time behind a small
  // backlog makes room for the next connect by answering the earlier ones
  // (opening all first and writing after would deadlock it, and the verdict
  // would then depend on --parallel).
  for (std::size_t i = 0; i < requests.size(); ++i) {
    fds[i] = connect_to(path, deadline, runs[i].connect_error);
    runs[i].connected = fds[i] >= 0;
    if (fds[i] >= 0) runs[i].write_error = write_all(fds[i], requests[i], deadline);
  }
  const auto written = Clock::now();
  std::vector<bool> open(requests.size());
  std::size_t still_open = 0;
  for (std::size_t i = 0; i < requests.size(); ++i) {
    open[i] = fds[i] >= 0;
    still_open += open[i] ? 1 : 0;
  }
  char buf[8192];
  while (still_open > 0) {
    std::vector<pollfd> polled;
    std::vector<std::size_t> index;
    for (std::size_t i = 0; i < requests.size(); ++i) {
      if (!open[i]) continue;
      polled.push_back({fds[i], POLLIN, 0});
      index.push_back(i);
    }
    const int wait_ms = poll_timeout_ms(deadline);
    const int ready = wait_ms == 0 ? 0 : ::poll(polled.data(), polled.size(), wait_ms);
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) {
      for (std::size_t k : index) runs[k].timed_out = true;
      break;
    }
    for (std::size_t j = 0; j < polled.size(); ++j) {
      if (polled[j].revents == 0) continue;
      const std::size_t i = index[j];
      SocketRun& run = runs[i];
      const ssize_t n = ::recv(fds[i], buf, sizeof buf, 0);
      bool done = false;
      if (n > 0) {
        const auto size = static_cast<std::size_t>(n);
        run.pieces.push_back({size, Clock::now() - written});
        const std::size_t keep = max_reply + 1;
        if (run.reply.size() < keep) run.reply.append(buf, std::min(size, keep - run.reply.size()));
        if (run.reply.size() > max_reply)
          run.too_large = done = true;
        else if (json_document_complete(run.reply))
          run.complete_document = done = true;
      } else if (n == 0) {
        run.eof = done = true;
      } else if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK) {
        if (errno == ECONNRESET || errno == EPIPE)
          run.reset = true;
        else
          run.read_error = "recv: " + errno_text(errno);
        done = true;
      }
      if (done) {
        open[i] = false;
        --still_open;
      }
    }
  }
  const auto elapsed = Clock::now() - start;
  for (std::size_t i = 0; i < requests.size(); ++i) {
    runs[i].elapsed = elapsed;
    if (fds[i] >= 0) ::close(fds[i]);
  }
  return runs;
}

}  // namespace keyreq::certify
