#pragma once
// What a report records about where it was measured: machine, library
// versions, the source commit, the load average.
#include <filesystem>
#include <string>

#include "bench/model.hpp"

namespace keyreq::bench {

void record_environment(Report& report, const std::filesystem::path& source_root);
std::string load_average();
std::string iso_now();
// Output of a shell command line, trailing blanks removed ("" on failure).
std::string capture(const std::string& command);
std::string shell_quote(const std::string& s);

}  // namespace keyreq::bench
