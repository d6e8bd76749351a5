#pragma once
// The one routine that binds a Unix socket to a path, for stream servers
// (the reference provider's daemon, fuzz's replay server) and datagram inputs
// (keyreq serve). What is already at the path decides:
//   - nothing: bind;
//   - a socket nobody answers on (left by a dead server): removed, then bind;
//   - a socket a live process answers on: refused (never steal a server's path);
//   - anything that is not a socket: refused (never delete a user's file).
// When the path leaves room, the socket is bound under a temporary name and
// hard-linked into place once ready, so a client never finds the path before
// it can be served, and link() fails if another server took it meanwhile.
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

#include <string>

#include "resolver/platform/unique_fd.hpp"

namespace keyreq {

struct UnixListenOptions {
  int type = SOCK_STREAM;  // SOCK_STREAM (also listens) or SOCK_DGRAM (bound only)
  int backlog = SOMAXCONN;
  mode_t mode = 0660;      // the socket file's mode, from the moment it exists
  int receive_buffer = 0;  // SO_RCVBUF when > 0
  bool nonblocking = false;
};

struct UnixListenResult {
  UniqueFd fd;                  // bound (and listening), close-on-exec; empty on failure
  std::string error;            // why not, naming the path; empty on success
  bool in_use = false;          // refused because a live process serves the path
  bool replaced_stale = false;  // a dead server's socket was removed first
  bool ok() const { return fd.get() >= 0; }
};

// Fills `addr` for `path`; false when the path is empty or too long for it.
bool unix_socket_address(const std::string& path, sockaddr_un& addr);

UnixListenResult listen_unix(const std::string& path, const UnixListenOptions& options = {});

// A connected datagram socket to `path` (close-on-exec, blocking); empty
// with `error` set on failure.
UniqueFd connect_unix_datagram(const std::string& path, std::string& error);

}  // namespace keyreq
