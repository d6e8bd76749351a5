#pragma once
// A SQLite dataset made by the built `keyreq dataset` command.
#include <string>

#include "testkit/temp_dir.hpp"

namespace keyreq::testkit {

// dir/agents.db with `agents` agents; throws with keyreq's output when it fails.
std::string make_dataset(const TempDir& dir, int agents);

}  // namespace keyreq::testkit
