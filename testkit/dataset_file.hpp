#pragma once
// A SQLite dataset made by the built `keyreq dataset` command.
#include <string>

#include "testkit/temp_dir.hpp"

namespace keyreq::testkit {

// `path` with `agents` agents: CSV when it ends in .csv, SQLite otherwise.
// Throws std::runtime_error with keyreq's output when it fails.
void write_dataset(const std::string& path, int agents);

// dir/agents.db with `agents` agents (write_dataset); returns its path.
std::string make_dataset(const TempDir& dir, int agents);

}  // namespace keyreq::testkit
