#pragma once
// What resolving one request came to.
#include <cstdint>
#include <string>
#include <variant>

#include "resolver/core/agent.hpp"
#include "resolver/core/provider_client.hpp"

namespace keyreq {

namespace outcome {
struct Registered {
  AgentRecord agent;
};
struct Accepted {
  AgentRecord agent;
};  // valid answer, validate-only run: nothing stored
struct AlreadyRegistered {
  AgentRecord agent;
};
struct Declined {
  std::int64_t code;
  std::string message;
};
struct Refused {
  std::string rule;
  std::string detail;
};  // SPEC §4 MUST rule broken
struct Conflict {
  std::string detail;
};  // SPEC §5, force_insert off
struct ProviderFailed {
  ProviderFailureClass failure;
  std::string detail;
  std::string stderr_bytes;
};
struct InvalidRequest {
  std::string reason;
};
struct StoreFailed {
  std::string detail;
};  // client.keys could not be written
}  // namespace outcome

using Outcome = std::variant<outcome::Registered, outcome::Accepted, outcome::AlreadyRegistered, outcome::Declined,
                             outcome::Refused, outcome::Conflict, outcome::ProviderFailed, outcome::InvalidRequest,
                             outcome::StoreFailed>;

// "registered", "accepted", "already_registered", "declined", "refused", "conflict",
// "provider_failure", "invalid_request", "store_failure"
std::string_view outcome_name(const Outcome& o);

// One JSON line for `keyreq resolve` and logs; `request` is the raw request text.
std::string outcome_json(const Outcome& o, std::string_view request);

// The `keyreq resolve` exit code: 0 registered / accepted / already, 1 declined, refused,
// conflict or provider failure, 2 invalid request, 3 store failure.
int outcome_exit_code(const Outcome& o);

}  // namespace keyreq
