#include "resolver/resolve/resolver.hpp"

#include "resolver/platform/escape.hpp"

namespace keyreq {

Resolver::Resolver(ProviderClient& provider, KeyStore* keys) : provider_(provider), keys_(keys) {}

Outcome Resolver::resolve(std::string_view raw_request) {
  auto parsed = parse_request(raw_request);
  if (auto* invalid = std::get_if<InvalidRequest>(&parsed)) return outcome::InvalidRequest{invalid->reason};
  return resolve(std::get<Request>(parsed));
}

std::variant<Outcome, AgentRecord> Resolver::check(const Request& request) {
  auto result = provider_.call(request);
  if (auto* failure = std::get_if<ProviderFailure>(&result)) {
    return Outcome{
        outcome::ProviderFailed{failure->failure, failure->detail, escape_bytes(failure->stderr_bytes, 512)}};
  }
  auto verdict = parser_.parse(std::get<ProviderOutput>(result).stdout_bytes, request);
  if (auto* decline = std::get_if<ProviderDecline>(&verdict)) {
    return Outcome{outcome::Declined{decline->code, decline->message}};
  }
  if (auto* violation = std::get_if<RuleViolation>(&verdict)) {
    return Outcome{outcome::Refused{violation->rule, violation->detail}};
  }
  auto& agent = std::get<AgentRecord>(verdict);
  if (keys_ == nullptr) return Outcome{outcome::Accepted{std::move(agent)}};
  return std::move(agent);
}

Outcome Resolver::registration_outcome(AgentRecord agent, const RegisterResult& stored, const KeyStore& keys) {
  switch (stored.status) {
    case RegisterStatus::registered: return outcome::Registered{std::move(agent)};
    case RegisterStatus::already_registered: return outcome::AlreadyRegistered{std::move(agent)};
    case RegisterStatus::conflict: return outcome::Conflict{stored.detail};
    case RegisterStatus::io_error: break;
  }
  return outcome::StoreFailed{keys.path().string() + ": " + stored.detail};
}

Outcome Resolver::resolve(const Request& request) {
  auto checked = check(request);
  if (auto* done = std::get_if<Outcome>(&checked)) return std::move(*done);
  auto& agent = std::get<AgentRecord>(checked);
  const RegisterResult stored = keys_->register_agent(agent);
  return registration_outcome(std::move(agent), stored, *keys_);
}

}  // namespace keyreq
