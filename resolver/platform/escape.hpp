#pragma once
// Escaping untrusted bytes before they reach a log line or a report.
#include <cstddef>
#include <string>
#include <string_view>

namespace keyreq {

// Printable ASCII stays as is (backslash and double quote escaped); everything
// else becomes \n, \r, \t or \xHH, so one log line stays one line.
// Output longer than max_bytes is cut and ends with "...(N bytes)".
std::string escape_bytes(std::string_view bytes, std::size_t max_bytes = 256);

}  // namespace keyreq
