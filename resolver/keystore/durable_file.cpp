#include "resolver/keystore/durable_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "resolver/platform/atomic_file.hpp"
#include "resolver/platform/errno_text.hpp"

namespace keyreq::keystore_internal {

// "what path: strerror" for an I/O failure, used in io_error details and
// KeyStoreError reasons.
std::string io_failure(std::string_view what, const std::filesystem::path& p, int err) {
  std::string s(what);
  s += ' ';
  s += p.string();
  s += ": ";
  s += errno_text(err);
  return s;
}

int fsync_dir(const std::filesystem::path& file) { return fsync_directory_of(file.string()); }

std::filesystem::path with_suffix(const std::filesystem::path& p, const char* suffix) {
  std::filesystem::path r = p;
  r += suffix;
  return r;
}

int append_durably_or_undo(const std::filesystem::path& file, std::string_view bytes) {
  bool created = true;
  int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0640);
  if (fd < 0 && errno == EEXIST) {
    created = false;
    fd = ::open(file.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  }
  if (fd < 0) return errno;
  struct stat st {};
  int err = ::fstat(fd, &st) == 0 ? 0 : errno;
  if (err == 0) err = write_all(fd, bytes);
  if (err == 0 && ::fsync(fd) != 0) err = errno;
  if (err != 0) {
    if (created)
      ::unlink(file.c_str());
    else if (::ftruncate(fd, st.st_size) == 0)
      ::fsync(fd);
  }
  ::close(fd);
  if (err == 0) err = fsync_dir(file);
  return err;
}

ReplaceOutcome replace_durably(const std::filesystem::path& path, const std::string& content, mode_t mode) {
  ReplaceOutcome r;
  const std::filesystem::path tmp = with_suffix(path, ".tmp");
  const int tfd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0640);
  if (tfd < 0) {
    r.error = io_failure("create", tmp, errno);
    return r;
  }
  int err = 0;
  const char* what = "write";
  if (::fchmod(tfd, mode) != 0) {
    err = errno;
    what = "chmod";
  } else if ((err = write_all(tfd, content)) != 0) {
  } else if (::fsync(tfd) != 0) {
    err = errno;
    what = "fsync";
  }
  if (err == 0 && ::rename(tmp.c_str(), path.c_str()) != 0) {
    err = errno;
    r.error = io_failure("rename to", path, err);
  } else if (err != 0) {
    r.error = io_failure(what, tmp, err);
  }
  if (err != 0) {
    ::close(tfd);
    ::unlink(tmp.c_str());
    return r;
  }
  r.renamed = true;
  r.new_fd = tfd;
  if (const int derr = fsync_dir(path); derr != 0) r.error = io_failure("fsync of the directory of", path, derr);
  return r;
}

}  // namespace keyreq::keystore_internal
