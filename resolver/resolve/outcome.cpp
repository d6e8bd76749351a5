#include "resolver/resolve/outcome.hpp"

#include <nlohmann/json.hpp>

namespace keyreq {

namespace {
template <class... Fs>
struct Overloaded : Fs... {
  using Fs::operator()...;
};
template <class... Fs>
Overloaded(Fs...) -> Overloaded<Fs...>;

nlohmann::json agent_json(const AgentRecord& a) {
  return {{"id", a.id}, {"name", a.name}, {"ip", a.ip}};  // the key stays out of logs
}
}  // namespace

std::string_view outcome_name(const Outcome& o) {
  static constexpr std::string_view names[] = {"registered",       "accepted",        "already_registered",
                                               "declined",         "refused",         "conflict",
                                               "provider_failure", "invalid_request", "store_failure"};
  return names[o.index()];
}

std::string outcome_json(const Outcome& o, std::string_view request) {
  nlohmann::json j;
  j["outcome"] = outcome_name(o);
  // Requests may hold any bytes; the replacement handler keeps the line valid JSON.
  j["request"] = std::string(request);
  std::visit(Overloaded{
                 [&](const outcome::Registered& r) { j["agent"] = agent_json(r.agent); },
                 [&](const outcome::Accepted& r) { j["agent"] = agent_json(r.agent); },
                 [&](const outcome::AlreadyRegistered& r) { j["agent"] = agent_json(r.agent); },
                 [&](const outcome::Declined& d) {
                   j["code"] = d.code;
                   j["message"] = d.message;
                 },
                 [&](const outcome::Refused& r) {
                   j["rule"] = r.rule;
                   j["detail"] = r.detail;
                 },
                 [&](const outcome::Conflict& c) { j["detail"] = c.detail; },
                 [&](const outcome::ProviderFailed& f) {
                   j["failure"] = to_string(f.failure);
                   j["detail"] = f.detail;
                   if (!f.stderr_bytes.empty()) j["stderr"] = f.stderr_bytes;
                 },
                 [&](const outcome::InvalidRequest& i) { j["detail"] = i.reason; },
                 [&](const outcome::StoreFailed& s) { j["detail"] = s.detail; },
             },
             o);
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

int outcome_exit_code(const Outcome& o) {
  return std::visit(Overloaded{
                        [](const outcome::Registered&) { return 0; },
                        [](const outcome::Accepted&) { return 0; },
                        [](const outcome::AlreadyRegistered&) { return 0; },
                        [](const outcome::InvalidRequest&) { return 2; },
                        [](const outcome::StoreFailed&) { return 3; },
                        [](const auto&) { return 1; },
                    },
                    o);
}

}  // namespace keyreq
