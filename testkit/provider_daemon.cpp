#include "testkit/provider_daemon.hpp"

#include <unistd.h>

#include <chrono>
#include <thread>

#include "testkit/unix_sockets.hpp"

namespace keyreq::testkit {

ProviderDaemon::ProviderDaemon(const std::vector<std::string>& argv, const std::string& socket_path,
                               const std::string& log_path, const std::vector<std::string>& extra_env)
    : process_(argv, log_path, extra_env) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    const int fd = connect_unix(socket_path);
    if (fd >= 0) {
      ::close(fd);
      up_ = true;
      return;
    }
    if (process_.wait(std::chrono::milliseconds(0))) return;  // it exited: not up
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace keyreq::testkit
