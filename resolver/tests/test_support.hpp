#pragma once
// Small helpers shared by the resolver tests: temp dirs and executable scripts.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>

namespace keyreq::testing {

class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() / ("keyreq-test-" + std::to_string(::getpid()) + "-" +
                                                      std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

inline std::string write_script(const TempDir& dir, const std::string& name, const std::string& body,
                                bool executable = true) {
  const auto path = dir / name;
  std::ofstream(path) << "#!/bin/sh\n" << body << "\n";
  ::chmod(path.c_str(), executable ? 0755 : 0644);
  return path;
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Running or sleeping; a zombie waiting for its reaper (init) counts as gone.
// Gives a just-killed process up to 1 s to die.
inline bool process_alive(pid_t pid) {
  if (pid <= 0) return false;
  for (int i = 0; i < 100; ++i) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string text((std::istreambuf_iterator<char>(stat)), {});
    const auto paren = text.rfind(')');
    if (text.empty() || paren == std::string::npos || paren + 2 >= text.size()) return false;
    const char state = text[paren + 2];
    if (state == 'Z' || state == 'X') return false;
    ::usleep(10'000);
  }
  return true;
}

}  // namespace keyreq::testing
