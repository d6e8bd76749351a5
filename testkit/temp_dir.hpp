#pragma once
// A private directory under $TMPDIR, removed with everything in it at the end
// of the scope: the platform kit's TempDir (resolver/platform/temp_dir.hpp)
// with a test prefix and the `dir / "name"` shorthand tests use for paths.
#include <filesystem>
#include <string>

#include "resolver/platform/temp_dir.hpp"

namespace keyreq::testkit {

class TempDir : public keyreq::TempDir {
 public:
  TempDir() : keyreq::TempDir("keyreq-test") {}
  // dir / "name": the path of an entry, as a string (what argv and open() take).
  std::string operator/(const std::string& name) const { return (path() / name).string(); }
};

}  // namespace keyreq::testkit
