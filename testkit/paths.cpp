#include "testkit/paths.hpp"

#include <unistd.h>

#include <cstdlib>

namespace keyreq::testkit {

std::string env_or(const char* name, const std::string& fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : fallback;
}

bool executable(const std::string& path) { return ::access(path.c_str(), X_OK) == 0; }

std::string bin_dir() { return env_or("KEYREQ_BIN_DIR", KEYREQ_TESTKIT_BIN_DIR); }
std::string bin(const std::string& name) { return bin_dir() + "/" + name; }
std::string source_root() { return env_or("KEYREQ_SOURCE_ROOT", KEYREQ_TESTKIT_SOURCE_ROOT); }
std::string source_path(const std::string& relative) { return source_root() + "/" + relative; }
std::string build_dir() { return KEYREQ_TESTKIT_BUILD_DIR; }
std::string build_type() { return KEYREQ_TESTKIT_BUILD_TYPE; }

std::string shared_dir() { return source_root() + "/../shared"; }

}  // namespace keyreq::testkit
