#pragma once
// The one errno-to-text routine of error messages: strerror as a
// std::string, so that "what: " + errno_text(err) is one expression.
#include <cstring>
#include <string>

namespace keyreq {

inline std::string errno_text(int err) { return std::strerror(err); }

}  // namespace keyreq
