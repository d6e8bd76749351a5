#include "bench/nlohmann_validator.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <vector>

#include "resolver/core/field_rules.hpp"
#include "resolver/platform/escape.hpp"

namespace keyreq::bench {

using nlohmann::json;

namespace {

RuleViolation violation(const char* rule, std::string detail) { return RuleViolation{rule, std::move(detail)}; }

std::string quoted(std::string_view field, std::string_view value) {
  return "data." + std::string(field) + " = \"" + escape_bytes(value, 160) + "\"";
}

}  // namespace

ResponseVerdict validate_with_nlohmann(std::string_view output, const Request& request) {
  // D1 depth and D2 duplicates are seen while parsing: nlohmann keeps the last
  // of duplicate keys, so the parser callback watches every object's keys.
  struct Watch {
    std::vector<std::vector<std::string>> keys;  // one list per open object
    int depth = 0;
    bool too_deep = false;
    std::string duplicate;
  } w;
  json::parser_callback_t watch = [&w](int, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start: w.keys.emplace_back(); [[fallthrough]];
      case json::parse_event_t::array_start:
        if (++w.depth > 64) w.too_deep = true;
        break;
      case json::parse_event_t::object_end: w.keys.pop_back(); [[fallthrough]];
      case json::parse_event_t::array_end: --w.depth; break;
      case json::parse_event_t::key: {
        auto& seen = w.keys.back();
        const auto& k = parsed.get_ref<const std::string&>();
        if (std::find(seen.begin(), seen.end(), k) != seen.end()) {
          if (w.duplicate.empty()) w.duplicate = k;
        } else {
          seen.push_back(k);
        }
        break;
      }
      case json::parse_event_t::value: break;
    }
    return true;
  };
  json doc = json::parse(output.begin(), output.end(), watch, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return violation("D1", "not valid JSON");
  if (w.too_deep) return violation("D1", "nesting deeper than 64 levels");
  if (!doc.is_object()) return violation("D2", "top-level JSON value is not an object");
  if (!w.duplicate.empty()) return violation("D2", "duplicate key \"" + escape_bytes(w.duplicate, 64) + "\"");

  const auto error = doc.find("error");
  if (error == doc.end()) return violation("E1", "\"error\" is missing");
  std::int64_t code = 0;
  if (error->is_number_unsigned()) {
    const auto v = error->get<std::uint64_t>();
    if (v > 2147483647u) return violation("E1", "\"error\" is larger than 2147483647");
    code = static_cast<std::int64_t>(v);
  } else if (error->is_number_integer()) {
    const auto v = error->get<std::int64_t>();
    if (v < 0) return violation("E1", "\"error\" is negative");
    code = v;
  } else {
    return violation("E1", std::string("\"error\" is a ") + error->type_name() + ", not an integer");
  }
  if (code != 0) {
    const auto message = doc.find("message");
    return ProviderDecline{code, message != doc.end() && message->is_string()
                                     ? escape_bytes(message->get_ref<const std::string&>(), 1024)
                                     : std::string()};
  }
  const auto data = doc.find("data");
  if (data == doc.end()) return violation("S1", "\"error\" is 0 but \"data\" is missing");
  if (!data->is_object()) return violation("S1", "\"data\" is not an object");
  if (data->size() != 4) return violation("S1", "\"data\" must hold exactly id, name, ip, key");
  const std::string* fields[4] = {};
  const char* names[4] = {"id", "name", "ip", "key"};
  for (int i = 0; i < 4; ++i) {
    const auto f = data->find(names[i]);
    if (f == data->end()) return violation("S1", std::string("data.") + names[i] + " is missing");
    if (!f->is_string()) return violation("S1", std::string("data.") + names[i] + " is not a string");
    fields[i] = &f->get_ref<const std::string&>();
  }
  const std::string &id = *fields[0], &name = *fields[1], &ip = *fields[2], &key = *fields[3];
  if (!rules::is_agent_id(id)) return violation("S2", quoted("id", id) + ": must be 3 to 8 digits");
  if (!rules::is_agent_name(name))
    return violation("S3", quoted("name", name) + ": must be 1 to 128 of A-Z a-z 0-9 - _ .");
  if (!rules::is_agent_ip(ip))
    return violation("S4", quoted("ip", ip) + ": must be any, or an address with optional prefix or netmask");
  if (!rules::is_agent_key(key))
    return violation("S5", quoted("key", key) + ": must be 1 to 128 printable ASCII, no edge spaces");
  if (request.kind == RequestKind::id && id != request.value)
    return violation("C1", quoted("id", id) + " answers request id:" + request.value);
  if (request.kind == RequestKind::ip && !rules::network_contains(ip, request.value))
    return violation("C2", quoted("ip", ip) + " does not cover request ip:" + request.value);
  return AgentRecord{id, name, ip, key};
}

}  // namespace keyreq::bench
