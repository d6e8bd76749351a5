#pragma once
// poll() timeouts from an absolute deadline.
#include <chrono>

namespace keyreq {

// Milliseconds left until `deadline`, rounded up so a poll loop never spins
// at the edge; 0 once it has passed.
inline int poll_timeout_ms(std::chrono::steady_clock::time_point deadline) {
  const auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
  return left <= 0 ? 0 : static_cast<int>(left) + 1;
}

}  // namespace keyreq
