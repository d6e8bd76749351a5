#pragma once
// The one temporary-directory routine: a private directory (mkdtemp, mode
// 0700, a name nobody can predict) removed with everything in it when the
// owner goes out of scope.
#include <filesystem>
#include <optional>
#include <string>

namespace keyreq {

class TempDir {
 public:
  // Creates <parent>/<prefix>-XXXXXX; parent "": $TMPDIR, else /tmp. Throws
  // std::runtime_error naming the parent and the reason when it cannot.
  explicit TempDir(const std::string& prefix, const std::string& parent = "");
  // <$TMPDIR or /tmp>/keyreq-XXXXXX (tests and scratch space).
  TempDir() : TempDir("keyreq") {}
  // The same without throwing: empty, with `error` set, when it cannot.
  static std::optional<TempDir> create(const std::string& prefix, std::string& error, const std::string& parent = "");

  TempDir(TempDir&& other) noexcept;
  // Removes the directory held so far (unless kept), then takes `other`'s.
  TempDir& operator=(TempDir&& other) noexcept;
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  // Removes the directory and its contents, unless kept.
  ~TempDir();

  const std::filesystem::path& path() const { return path_; }
  // dir / "name": the path of an entry, as a string (what argv and open() take).
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }
  // Leave the directory in place on destruction (--keep-workdir and the like).
  void keep(bool keep = true) { keep_ = keep; }

 private:
  struct Empty {};
  explicit TempDir(Empty) {}
  void remove();
  std::filesystem::path path_;
  bool keep_ = false;
};

}  // namespace keyreq
