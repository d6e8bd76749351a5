#pragma once
// The advisory lock every keyreq process takes before it loads client.keys
// for writing (docs/keystore.md, "One writer"). A second writer — a
// `keyreq resolve --keys F` while `keyreq serve` holds F, or a second serve —
// gets an error naming the holder's pid and never touches F.
//
// Why a lock file beside F (F.lock) and not flock on F itself: the store
// replaces F by rename (compaction, force_insert), so a lock on F's inode
// would stay on the old file while a newcomer locks the new one. F.lock is
// never replaced and never removed (removing it would let two processes
// each lock a different inode). flock is released by the kernel when the
// holder dies, even by kill -9: no stale lock to clean by hand. The
// descriptor is close-on-exec, so providers never inherit the lock.
#include <sys/types.h>

#include <filesystem>
#include <string>
#include <variant>

#include "resolver/platform/unique_fd.hpp"

namespace keyreq {

struct KeysFileLockError {
  std::string reason;  // "in use by pid 1234 (it holds F.lock; only one keyreq serve or resolve ...)" or an I/O error
  pid_t holder = 0;    // > 0 when another process holds the lock and said who it is
};

class KeysFileLock {
 public:
  // F.lock for client.keys F.
  static std::filesystem::path lock_path_for(const std::filesystem::path& keys_path);

  // Creates F.lock if needed (mode 0640), takes the lock without waiting and
  // writes this process's pid into it. Fails at once when another open file
  // description holds it (another process, or another store in this one).
  static std::variant<KeysFileLock, KeysFileLockError> acquire(const std::filesystem::path& keys_path);

  KeysFileLock(KeysFileLock&&) noexcept = default;
  KeysFileLock& operator=(KeysFileLock&&) noexcept = default;
  ~KeysFileLock() = default;  // closing the descriptor releases the lock

  const std::filesystem::path& path() const { return path_; }

 private:
  KeysFileLock(std::filesystem::path path, UniqueFd fd) : path_(std::move(path)), fd_(std::move(fd)) {}
  std::filesystem::path path_;
  UniqueFd fd_;
};

}  // namespace keyreq
