#pragma once
// The one routine that connects a Unix stream socket (SPEC §3), shared by the
// socket provider client and certify's socket probes.
//
// A non-blocking connect to a Unix socket whose listen backlog is full fails
// with EAGAIN and leaves the socket unconnected (poll would report it
// writable at once): the provider is alive but busy, so the attempt is retried
// with a short backoff until the deadline. A socket that is refused or missing
// is retried only until `retry_refused_until` (the provider may be starting).
#include <chrono>
#include <string>

#include "resolver/platform/unique_fd.hpp"

namespace keyreq {

struct UnixConnectResult {
  UniqueFd fd;          // connected, non-blocking, close-on-exec; empty on failure
  int error = 0;        // errno of the last attempt (ETIMEDOUT: backlog full until the deadline)
  std::string message;  // why it failed, naming the path; empty on success
  bool connected() const { return fd.get() >= 0; }
};

// Connects to `path` before `deadline`; see above for what is retried.
UnixConnectResult connect_unix(const std::string& path, std::chrono::steady_clock::time_point deadline,
                               std::chrono::steady_clock::time_point retry_refused_until);

}  // namespace keyreq
