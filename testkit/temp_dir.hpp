#pragma once
// A private directory under $TMPDIR, removed with everything in it at the end of the scope.
#include <filesystem>
#include <string>

namespace keyreq::testkit {

class TempDir {
 public:
  TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir();
  const std::filesystem::path& path() const { return path_; }
  // dir / "name": the path of an entry, as a string (what argv and open() take).
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

}  // namespace keyreq::testkit
