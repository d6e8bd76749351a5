#include "resolver/platform/atomic_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include "resolver/platform/errno_text.hpp"
#include "resolver/platform/unique_fd.hpp"

namespace keyreq {
namespace {

std::string directory_of(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

}  // namespace

int write_all(int fd, std::string_view text) {
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return n < 0 ? errno : EIO;
    done += static_cast<std::size_t>(n);
  }
  return 0;
}

int fsync_directory_of(const std::string& file) {
  const UniqueFd dir(::open(directory_of(file).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.get() < 0) return errno;
  return ::fsync(dir.get()) == 0 ? 0 : errno;
}

std::string temporary_path_beside(const std::string& path) {
  static std::atomic<unsigned> counter{0};
  return path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
}

std::optional<std::string> commit_temporary(const std::string& tmp, const std::string& path) {
  {
    const UniqueFd fd(::open(tmp.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) return path + ": cannot reopen " + tmp + ": " + errno_text(errno);
    if (::fsync(fd.get()) != 0) return path + ": fsync " + tmp + ": " + errno_text(errno);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    return path + ": cannot rename " + tmp + " over it: " + errno_text(errno);
  }
  (void)fsync_directory_of(path);  // best effort: the data itself is already on disk
  return std::nullopt;
}

std::optional<std::string> write_file_atomically(const std::string& path, std::string_view text) {
  const std::string tmp = temporary_path_beside(path);
  {
    const UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
    if (fd.get() < 0) return "cannot create " + tmp + " (to replace " + path + "): " + errno_text(errno);
    if (const int err = write_all(fd.get(), text); err != 0) {
      ::unlink(tmp.c_str());
      return "cannot write " + tmp + " (to replace " + path + "): " + errno_text(err);
    }
  }
  if (auto error = commit_temporary(tmp, path)) {
    ::unlink(tmp.c_str());
    return error;
  }
  return std::nullopt;
}

}  // namespace keyreq
