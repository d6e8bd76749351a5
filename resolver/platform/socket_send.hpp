#pragma once
// The one "send everything" loop for a Unix stream socket: the socket
// client's request, certify's probe pieces, the reference provider's answer.
#include <chrono>
#include <string_view>

namespace keyreq {

// Sends all of `bytes` on `fd` (MSG_NOSIGNAL: a peer gone is an error, not a
// signal), waiting with poll() whenever the peer does not read, until
// `deadline`. 0 when all was sent; ETIMEDOUT when the deadline came first;
// else the errno of the failed send (EPIPE, ECONNRESET, ...).
int send_all(int fd, std::string_view bytes, std::chrono::steady_clock::time_point deadline);

}  // namespace keyreq
