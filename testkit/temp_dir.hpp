#pragma once
// A private directory under $TMPDIR, removed with everything in it at the end
// of the scope: the platform kit's TempDir (resolver/platform/temp_dir.hpp),
// `dir / "name"` gives an entry's path as a string.
#include "resolver/platform/temp_dir.hpp"

namespace keyreq::testkit {

using keyreq::TempDir;

}  // namespace keyreq::testkit
