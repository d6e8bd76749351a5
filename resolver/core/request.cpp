#include "resolver/core/request.hpp"

#include "resolver/core/field_rules.hpp"
#include "resolver/platform/escape.hpp"

namespace keyreq {

ParsedRequest make_request(std::string_view kind_word, std::string_view value) {
  if (kind_word == "id") {
    if (!rules::is_agent_id(value)) {
      return InvalidRequest{"agent id must be 3 to 8 digits, got \"" + escape_bytes(value) + "\""};
    }
    return Request{RequestKind::id, std::string(value)};
  }
  if (kind_word == "ip") {
    if (!rules::is_ip_address(value)) {
      return InvalidRequest{"not an IPv4 or IPv6 address: \"" + escape_bytes(value) + "\""};
    }
    return Request{RequestKind::ip, std::string(value)};
  }
  return InvalidRequest{"request kind must be \"id\" or \"ip\", got \"" + escape_bytes(kind_word) + "\""};
}

ParsedRequest parse_request(std::string_view bytes) {
  std::string_view text = bytes;
  if (text.ends_with("\r\n")) {
    text.remove_suffix(2);
  } else if (text.ends_with('\n')) {
    text.remove_suffix(1);
  }
  const auto colon = text.find(':');
  if (colon == std::string_view::npos) {
    return InvalidRequest{"expected \"id:<ID>\" or \"ip:<ADDR>\", got \"" + escape_bytes(bytes) + "\""};
  }
  auto parsed = make_request(text.substr(0, colon), text.substr(colon + 1));
  if (auto* invalid = std::get_if<InvalidRequest>(&parsed)) {
    invalid->reason += " in request \"" + escape_bytes(bytes) + "\"";
  }
  return parsed;
}

}  // namespace keyreq
