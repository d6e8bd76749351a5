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

#include <atomic>
#include <functional>
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

// A bound (and listening) socket that owns its path: on destruction the path
// is removed if it is still the socket this bound (never a successor's).
class UnixListener {
 public:
  UnixListener() = default;
  UnixListener(UniqueFd fd, std::string path);
  UnixListener(UnixListener&& other) noexcept = default;
  UnixListener& operator=(UnixListener&& other) noexcept;
  ~UnixListener();

  int fd() const { return fd_.get(); }
  // Gives up the descriptor and the path: the caller closes and removes them.
  int release();

 private:
  void remove_path_if_ours();
  UniqueFd fd_;
  std::string path_;
  dev_t dev_ = 0;
  ino_t ino_ = 0;
};

struct UnixListenResult {
  UnixListener listener;        // empty on failure
  std::string error;            // why not, naming the path; empty on success
  bool in_use = false;          // refused because a live process serves the path
  bool replaced_stale = false;  // a dead server's socket was removed first
  bool ok() const { return listener.fd() >= 0; }
};

// Fills `addr` for `path`; false when the path is empty or too long for it.
bool unix_socket_address(const std::string& path, sockaddr_un& addr);

UnixListenResult listen_unix(const std::string& path, const UnixListenOptions& options = {});

// A one-thread stream server's loop: accepts connections on `listen_fd`
// until `stop` is set (looked at every 20 ms), hands each to `handle`, then
// closes it.
void accept_until_stopped(int listen_fd, const std::atomic<bool>& stop, const std::function<void(int client)>& handle);

// A connected datagram socket to `path` (close-on-exec, blocking); empty
// with `error` set on failure.
UniqueFd connect_unix_datagram(const std::string& path, std::string& error);

}  // namespace keyreq
