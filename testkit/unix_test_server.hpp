#pragma once
// A Unix stream server on a thread, for socket client tests: each accepted
// connection is handed to `handler` on the server thread, one at a time, or
// (Handling::concurrent) on a thread of its own, joined at the end.
#include <atomic>
#include <functional>
#include <string>
#include <thread>
#include <vector>

namespace keyreq::testkit {

class UnixTestServer {
 public:
  using Handler = std::function<void(int fd)>;
  enum class Handling { one_at_a_time, concurrent };

  // `backlog` is passed to listen(): a small one makes concurrent clients
  // find the queue full (EAGAIN from a non-blocking connect). Throws when it cannot listen.
  UnixTestServer(std::string path, Handler handler, int backlog = 64, Handling handling = Handling::one_at_a_time);
  UnixTestServer(const UnixTestServer&) = delete;
  UnixTestServer& operator=(const UnixTestServer&) = delete;
  ~UnixTestServer();
  int connections() const { return connections_.load(); }

 private:
  void serve();
  void handle(int client);

  std::string path_;
  Handler handler_;
  int fd_ = -1;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  Handling handling_;
  std::thread thread_;
  std::vector<std::thread> handlers_;  // Handling::concurrent; only the server thread touches it
};

}  // namespace keyreq::testkit
