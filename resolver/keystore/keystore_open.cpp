// Opening client.keys (docs/keystore.md): take the writer lock, read the
// whole file, load every complete line (a malformed or clashing one stops
// everything, untouched), repair a torn last line, start the committer.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>

#include "resolver/keystore/durable_file.hpp"
#include "resolver/keystore/keystore_impl.hpp"
#include "resolver/platform/atomic_file.hpp"
#include "resolver/platform/errno_text.hpp"

namespace keyreq {

using keystore_internal::append_durably_or_undo;
using keystore_internal::field_rules_breach;
using keystore_internal::fsync_dir;
using keystore_internal::io_failure;
using keystore_internal::is_comment;
using keystore_internal::parse_entry;
using keystore_internal::with_suffix;

std::variant<std::unique_ptr<KeyStore>, KeyStoreError> KeyStore::open(const std::filesystem::path& path,
                                                                      KeyStoreOptions options) {
  auto lock = KeysFileLock::acquire(path);
  if (auto* error = std::get_if<KeysFileLockError>(&lock)) return KeyStoreError{path.string(), 0, error->reason};
  return open(path, options, std::get<KeysFileLock>(std::move(lock)));
}

std::variant<std::unique_ptr<KeyStore>, KeyStoreError> KeyStore::open(const std::filesystem::path& path,
                                                                      KeyStoreOptions options, KeysFileLock lock) {
  const std::string shown = path.string();
  auto fail = [&](std::size_t line, std::string reason) {
    return std::variant<std::unique_ptr<KeyStore>, KeyStoreError>(KeyStoreError{shown, line, std::move(reason)});
  };
  std::unique_ptr<KeyStore> store(new KeyStore(path, options));
  store->lock_.emplace(std::move(lock));
  Impl& s = *store->impl_;

  // A FIFO (or device) at the path would block open() forever: look first,
  // and open non-blocking so one swapped in meanwhile cannot block either.
  struct stat before {};
  if (::stat(path.c_str(), &before) == 0 && !S_ISREG(before.st_mode)) return fail(0, "not a regular file");

  // Read the whole file (or create it empty, mode 0640).
  int rfd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (rfd < 0 && errno == ENOENT) {
    const int cfd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
    if (cfd < 0 && errno != EEXIST) return fail(0, "cannot create: " + errno_text(errno));
    if (cfd >= 0) {
      const int err = ::fsync(cfd) == 0 ? 0 : errno;
      ::close(cfd);
      if (err != 0) return fail(0, "fsync after creating: " + errno_text(err));
      if (const int derr = fsync_dir(path); derr != 0) return fail(0, "fsync of its directory: " + errno_text(derr));
    }
    rfd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  }
  if (rfd < 0) return fail(0, "cannot open: " + errno_text(errno));
  struct stat st {};
  if (::fstat(rfd, &st) != 0) {
    const int err = errno;
    ::close(rfd);
    return fail(0, "stat: " + errno_text(err));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(rfd);
    return fail(0, "not a regular file");
  }
  s.text.resize(static_cast<std::size_t>(st.st_size));
  std::size_t got = 0;
  for (;;) {
    if (got == s.text.size()) s.text.resize(s.text.size() + 4096);  // the file grew meanwhile
    const ssize_t r = ::read(rfd, s.text.data() + got, s.text.size() - got);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      const int err = errno;
      ::close(rfd);
      return fail(0, "read: " + errno_text(err));
    }
    if (r == 0) break;
    got += static_cast<std::size_t>(r);
  }
  ::close(rfd);
  s.text.resize(got);

  // Parse every complete line; a malformed one stops everything, untouched.
  std::size_t start = 0;
  std::size_t line_no = 0;
  s.lines.reserve(static_cast<std::size_t>(std::count(s.text.begin(), s.text.end(), '\n')) + 1);
  s.by_id.reset(s.lines.capacity());
  s.by_name.reset(s.lines.capacity());
  s.by_ip.reset(s.lines.capacity());
  for (;;) {
    const std::size_t nl = s.text.find('\n', start);
    if (nl == std::string::npos) break;
    ++line_no;
    if (nl - start > std::numeric_limits<std::uint32_t>::max()) return fail(line_no, "line too long");
    if (std::string reason = s.load_line(start, static_cast<std::uint32_t>(nl - start)); !reason.empty())
      return fail(line_no, std::move(reason));
    start = nl + 1;
  }

  s.fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC | O_NONBLOCK);
  if (s.fd < 0) return fail(0, "cannot open for appending: " + errno_text(errno));
  if (::fstat(s.fd, &st) != 0 || !S_ISREG(st.st_mode)) return fail(0, "not a regular file");

  if (start < s.text.size()) {
    if (std::string error = s.repair_torn_tail(start, line_no + 1, store->repair_note_); !error.empty())
      return fail(line_no + 1, std::move(error));
  }

  // A temp file left by a rewrite that crashed before its rename: the old
  // file is intact, the temp file is garbage.
  const std::filesystem::path tmp = with_suffix(path, ".tmp");
  if (::unlink(tmp.c_str()) == 0) {
    if (!store->repair_note_.empty()) store->repair_note_ += "; ";
    store->repair_note_ += "removed " + tmp.string() + " left by an interrupted rewrite";
  }

  s.committed_size = s.text.size();
  s.committed_end = static_cast<std::uint32_t>(s.lines.size());
  s.open_batch->first = s.open_batch->end = s.committed_end;
  s.committer = std::thread([&s] { s.commit_loop(); });
  return store;
}

std::string KeyStore::Impl::repair_torn_tail(std::size_t start, std::size_t line_no, std::string& note) {
  const std::size_t torn_len = text.size() - start;
  const std::string_view torn = std::string_view(text).substr(start);
  const std::string where = path.string() + ":" + std::to_string(line_no);
  std::string reason;
  if (torn_len > std::numeric_limits<std::uint32_t>::max()) {
    reason = "line too long";
  } else if (!is_comment(torn)) {
    auto parsed = parse_entry(torn);
    if (auto* bad = std::get_if<std::string>(&parsed))
      reason = std::move(*bad);
    else
      reason = field_rules_breach(torn, std::get<Fields>(parsed));
  }
  if (reason.empty()) reason = load_line(start, static_cast<std::uint32_t>(torn_len));
  if (reason.empty()) {
    int err = write_all(fd, "\n");
    if (err == 0 && ::fsync(fd) != 0) err = errno;
    if (err != 0) return "repair: appending the missing newline failed: " + errno_text(err);
    text.push_back('\n');
    note = where + ": last line had no newline; it is a valid line, newline appended";
    return {};
  }
  const std::filesystem::path torn_path = with_suffix(path, ".torn");
  std::string saved(torn);
  saved.push_back('\n');
  if (const int err = append_durably_or_undo(torn_path, saved); err != 0)
    return "repair: " + io_failure("saving the torn line to", torn_path, err);
  if (::ftruncate(fd, static_cast<off_t>(start)) != 0 || ::fsync(fd) != 0)
    return "repair: cutting off the torn line failed: " + errno_text(errno);
  text.resize(start);
  note = where + ": torn last line (" + std::to_string(torn_len) + " bytes, " + reason + ") cut off and saved to " +
         torn_path.string();
  return {};
}

}  // namespace keyreq
