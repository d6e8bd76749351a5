#pragma once
// What calling a provider can give back, whatever the transport (SPEC §3).
#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <variant>

#include "resolver/core/request.hpp"

namespace keyreq {

enum class ProviderFailureClass {
  cannot_start,      // exec: not found / not executable; socket: nobody listening
  exit_code,         // exec: exited with a status other than 0
  signal,            // exec: killed by a signal it did not get from us
  timeout,           // no complete answer before the deadline
  output_too_large,  // more than the cap on stdout / the connection
  io_error,          // socket: connection reset, read/write error
};

std::string_view to_string(ProviderFailureClass c);

struct ProviderOutput {
  std::string stdout_bytes;  // exec: stdout; socket: the reply
  std::string stderr_bytes;  // exec only, capped; kept for the log
};

struct ProviderFailure {
  ProviderFailureClass failure;
  std::string detail;        // human-readable, names the command / path
  std::string stderr_bytes;  // exec only, capped
};

using ProviderResult = std::variant<ProviderOutput, ProviderFailure>;

struct CallLimits {
  std::chrono::milliseconds timeout{60'000};
  std::size_t max_output = 64 * 1024;
  std::size_t max_stderr = 4 * 1024;
  // exec: SIGTERM at the deadline, SIGKILL this long after.
  std::chrono::milliseconds kill_grace{1'000};
};

class ProviderClient {
 public:
  virtual ~ProviderClient() = default;
  // Thread-safe: may be called from several threads at once.
  virtual ProviderResult call(const Request& request) = 0;
  virtual std::string describe() const = 0;  // "exec:/usr/bin/x" or "socket:/path"
};

}  // namespace keyreq
