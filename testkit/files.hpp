#pragma once
// Whole files in and out: byte files, shell scripts, reading back.
#include <string>
#include <string_view>

#include "testkit/temp_dir.hpp"

namespace keyreq::testkit {

// Writes `bytes` exactly (binary) to `path`; throws when it cannot.
void write_file(const std::string& path, std::string_view bytes);

// dir/name holding "#!/bin/sh\n" + body; mode 0755 (0644 when !executable). Returns its path.
std::string write_script(const TempDir& dir, const std::string& name, const std::string& body, bool executable = true);

// The whole file; "" when it cannot be read.
std::string read_file(const std::string& path);

// How many times `needle` occurs in `text` (non-overlapping).
std::size_t count(const std::string& text, const std::string& needle);

}  // namespace keyreq::testkit
