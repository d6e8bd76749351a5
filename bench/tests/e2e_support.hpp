#pragma once
// What the bench end-to-end tests share: running a shell command line
// (`keyreq bench ... >log 2>&1`), reading a whole file, and the built binaries.
#include <stdlib.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace keyreq::bench::testing {

// Exit code of `command` run by /bin/sh, or -1 when it did not exit normally.
inline int run(const std::string& command) {
  const int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

inline std::string slurp(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A binary of this build (KEYREQ_BIN_DIR is set by bench/tests/CMakeLists.txt).
inline std::string bin(const std::string& name) { return std::string(KEYREQ_BIN_DIR) + "/" + name; }

}  // namespace keyreq::bench::testing
