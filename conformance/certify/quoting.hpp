#pragma once
// Turning exchanges into text a provider author can paste: shell-quoted
// command lines that reproduce a call, and escaped, truncated views of what
// came back.
#include <string>
#include <string_view>
#include <vector>

#include "conformance/certify/certificate.hpp"

namespace keyreq::certify {

// One word for a POSIX shell (bash for non-printable bytes: $'...'). Long
// runs of one character become "$(printf ...)" so the line stays readable.
std::string shell_quote(std::string_view word);
std::string shell_command(const std::vector<std::string>& argv);

// One command line that replays the exchange: the argv for exec; a python3
// one-liner that connects, writes the same pieces (same pauses, same
// half-close) and prints the reply, for socket.
std::string reproduce(const Exchange& exchange, const std::string& socket_path);

// What was sent, as one escaped line: the argv words, or the socket bytes.
std::string describe_sent(const Exchange& exchange);

// Escaped (escape_bytes) and cut to max_bytes.
std::string shown(std::string_view bytes, std::size_t max_bytes = 512);

}  // namespace keyreq::certify
