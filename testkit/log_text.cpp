#include "testkit/log_text.hpp"

#include <cstdlib>
#include <sstream>

namespace keyreq::testkit {

long long metric(const std::string& text, const std::string& sample) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(sample + " ", 0) == 0) return std::stoll(line.substr(sample.size() + 1));
  }
  return -1;
}

long long last_field(const std::string& log, const std::string& event, const std::string& key) {
  const auto line_at = log.rfind("event=" + event + " ");
  if (line_at == std::string::npos) return 0;
  const auto end = log.find('\n', line_at);
  const std::string line = log.substr(line_at, end == std::string::npos ? std::string::npos : end - line_at);
  const auto k = line.find(" " + key + "=");
  if (k == std::string::npos) return 0;
  return std::atoll(line.c_str() + k + key.size() + 2);
}

}  // namespace keyreq::testkit
