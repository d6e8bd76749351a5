#pragma once
// The one atomic file writer: write a temporary file beside the target, fsync
// it, rename it over the target, fsync the directory. A reader (or a crash)
// sees the old file or the new one, never a part of either.
#include <optional>
#include <string>
#include <string_view>

namespace keyreq {

// All of `text` written to `fd` (EINTR retried): 0, or the errno of the failure.
int write_all(int fd, std::string_view text);

// fsync of the directory holding `file`, so a rename or a new file in it is
// durable: 0, or the errno.
int fsync_directory_of(const std::string& file);

// "<path>.tmp.<pid>.<counter>": same directory, so the rename is atomic, and
// unique per call (two threads of one process never share one).
std::string temporary_path_beside(const std::string& path);

// fsync `tmp`, rename it over `path`, fsync the directory (best effort). The
// error (naming both files) or std::nullopt. For writers that fill the
// temporary themselves (SQLite, CSV streams).
std::optional<std::string> commit_temporary(const std::string& tmp, const std::string& path);

// `text` becomes the whole content of `path` (mode 0644 for a new file), atomically
// as above. The error (naming the file) or std::nullopt; no temporary is left behind.
std::optional<std::string> write_file_atomically(const std::string& path, std::string_view text);

}  // namespace keyreq
