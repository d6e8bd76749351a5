#pragma once
// One request end to end: provider → field rules → keystore.
#include <string_view>

#include "resolver/keystore.hpp"
#include "resolver/outcome.hpp"
#include "resolver/provider_client.hpp"
#include "resolver/request.hpp"
#include "resolver/response_parser.hpp"

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

 private:
  ProviderClient& provider_;
  KeyStore* keys_;
  ResponseParser parser_;
};

}  // namespace keyreq
