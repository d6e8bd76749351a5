#pragma once
// A socket provider started for a test: a BackgroundProcess that is up once
// its socket accepts a connection (at most 20 s, or until it exits).
#include <string>
#include <vector>

#include "testkit/background_process.hpp"

namespace keyreq::testkit {

class ProviderDaemon {
 public:
  ProviderDaemon(const std::vector<std::string>& argv, const std::string& socket_path, const std::string& log_path,
                 const std::vector<std::string>& extra_env = {});
  bool up() const { return up_; }
  BackgroundProcess& process() { return process_; }

 private:
  BackgroundProcess process_;
  bool up_ = false;
};

}  // namespace keyreq::testkit
