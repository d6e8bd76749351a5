#pragma once
// One request end to end: provider → field rules → keystore.
#include <string_view>
#include <variant>

#include "resolver/core/provider_client.hpp"
#include "resolver/core/request.hpp"
#include "resolver/core/response_parser.hpp"
#include "resolver/keystore/keystore.hpp"
#include "resolver/resolve/outcome.hpp"

namespace keyreq {

class Resolver {
 public:
  // keys may be null: validate-only (nothing is registered; a valid answer
  // comes back as Accepted).
  Resolver(ProviderClient& provider, KeyStore* keys);

  // Not thread-safe (owns a ResponseParser): one Resolver per worker thread;
  // the provider client and the keystore are shared safely.
  Outcome resolve(std::string_view raw_request);
  Outcome resolve(const Request& request);

  // The part before the keystore: provider call and field rules. Gives the
  // outcome, or the valid agent still to register (never with keys null:
  // then a valid answer is Accepted). The dispatcher registers it
  // asynchronously (KeyStore::register_agent_async).
  std::variant<Outcome, AgentRecord> check(const Request& request);

  // The outcome of a registration of `agent` in `keys`.
  static Outcome registration_outcome(AgentRecord agent, const RegisterResult& stored, const KeyStore& keys);

 private:
  ProviderClient& provider_;
  KeyStore* keys_;
  ResponseParser parser_;
};

}  // namespace keyreq
