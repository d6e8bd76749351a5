#pragma once
// exec_path splitting (SPEC §3): words like a shell splits them — double
// quotes group, backslash escapes — but no shell ever runs.
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace keyreq {

struct CommandLineError {
  std::string reason;
};

std::variant<std::vector<std::string>, CommandLineError> split_command_line(std::string_view line);

// PATH lookup for a first word without a slash; "" when nothing executable is found.
std::string find_in_path(std::string_view program);

}  // namespace keyreq
