#include "resolver/keystore/keys_file_lock.hpp"
#include "resolver/platform/errno_text.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

namespace keyreq {

namespace {

// The pid the holder wrote, 0 when unreadable (it may not have written it yet).
pid_t read_holder(int fd) {
  char buf[32] = {};
  const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
  if (n <= 0) return 0;
  const long pid = std::strtol(buf, nullptr, 10);
  return pid > 0 ? static_cast<pid_t>(pid) : 0;
}

}  // namespace

std::filesystem::path KeysFileLock::lock_path_for(const std::filesystem::path& keys_path) {
  std::filesystem::path p = keys_path;
  p += ".lock";
  return p;
}

std::variant<KeysFileLock, KeysFileLockError> KeysFileLock::acquire(const std::filesystem::path& keys_path) {
  const std::filesystem::path path = lock_path_for(keys_path);
  // O_NONBLOCK: a FIFO planted at F.lock must not hang the open.
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW, 0640));
  if (fd.get() < 0) return KeysFileLockError{"cannot open the lock file " + path.string() + ": " + errno_text(errno)};
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return KeysFileLockError{"stat " + path.string() + ": " + errno_text(errno)};
  if (!S_ISREG(st.st_mode)) return KeysFileLockError{"the lock file " + path.string() + " is not a regular file"};
  int rc;
  do {
    rc = ::flock(fd.get(), LOCK_EX | LOCK_NB);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    const int err = errno;
    if (err != EWOULDBLOCK) return KeysFileLockError{"cannot lock " + path.string() + ": " + errno_text(err)};
    const pid_t holder = read_holder(fd.get());
    const std::string who = holder > 0 ? "pid " + std::to_string(holder) : "a process that has not written its pid yet";
    return KeysFileLockError{"in use by " + who + " (it holds " + path.string() +
                                 "; only one keyreq serve or resolve may write a client.keys at a time)",
                             holder};
  }
  // Ours: say who holds it, for the next one. Failing to write the pid only
  // makes that message vaguer; the lock itself holds.
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd.get(), 0) == 0) {
    const ssize_t n = ::pwrite(fd.get(), pid.data(), pid.size(), 0);
    (void)n;
  }
  return KeysFileLock(path, std::move(fd));
}

}  // namespace keyreq
