#pragma once
// The file operations of the keystore that must not lose data: whole writes,
// fsync of a directory, a durable append that undoes itself on failure, and
// an atomic replace (temp file, fsync, rename, fsync of the directory).
#include <sys/types.h>

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>

namespace keyreq::keystore_internal {

// "what path: strerror" for an I/O failure, used in io_error details and
// KeyStoreError reasons.
std::string io_failure(std::string_view what, const std::filesystem::path& p, int err);

// fsync of the directory holding `file`: 0 or the errno.
int fsync_dir(const std::filesystem::path& file);
std::filesystem::path with_suffix(const std::filesystem::path& p, const char* suffix);

// Appends `bytes` to `file` and fsyncs it and its directory. On failure the
// file is cut back to what it held, or removed when this call created it (a
// full disk must not leave an empty or half-written file). 0 or the errno.
int append_durably_or_undo(const std::filesystem::path& file, std::string_view bytes);

// Replaces `path` with `content`: temp file <path>.tmp in the same directory
// (mode `mode`, opened O_APPEND), fsync, rename, fsync of the directory. The
// temp file's descriptor becomes the caller's new append fd, so nothing can
// fail after the rename but the directory fsync. `renamed` tells whether the
// new content is in place (then a failure leaves its durability in doubt,
// not the old file).
struct ReplaceOutcome {
  std::string error;
  bool renamed = false;
  int new_fd = -1;
};
ReplaceOutcome replace_durably(const std::filesystem::path& path, const std::string& content, mode_t mode);

}  // namespace keyreq::keystore_internal
