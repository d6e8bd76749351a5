#include "resolver/keystore/entry_line.hpp"

#include <algorithm>
#include <limits>

#include "resolver/core/field_rules.hpp"

namespace keyreq::keystore_internal {

IpIdentity::IpIdentity(std::string_view ip) : text_(ip) {
  if (const auto identity = rules::network_identity(ip)) {
    binary_ = true;
    bytes_[0] = '\0';
    std::copy(identity->begin(), identity->end(), bytes_.begin() + 1);
  }
}

namespace {
bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}
}  // namespace

std::variant<Fields, std::string> parse_entry(std::string_view line) {
  if (line.size() > std::numeric_limits<std::uint32_t>::max()) return std::string("line too long");
  const auto sp1 = line.find(' ');
  if (sp1 == std::string_view::npos) return std::string("expected \"ID NAME IP KEY\": no space after the id");
  const auto sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) return std::string("expected \"ID NAME IP KEY\": only one field after the id");
  const auto sp3 = line.find(' ', sp2 + 1);
  if (sp3 == std::string_view::npos) return std::string("expected \"ID NAME IP KEY\": no key");
  const std::string_view id = line.substr(0, sp1);
  const std::string_view name = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view ip = line.substr(sp2 + 1, sp3 - sp2 - 1);
  const std::string_view key = line.substr(sp3 + 1);
  if (!all_digits(id)) return "id \"" + std::string(id) + "\" is not ASCII digits";
  if (name.empty()) return std::string("empty name (two spaces after the id?)");
  if (ip.empty()) return std::string("empty ip (two spaces after the name?)");
  if (key.empty()) return std::string("empty key");
  return Fields{static_cast<std::uint32_t>(sp1 + 1), static_cast<std::uint32_t>(sp2 + 1),
                static_cast<std::uint32_t>(sp3 + 1)};
}

std::string unwritable_reason(const AgentRecord& a) {
  auto has_control = [](std::string_view s) {
    return std::any_of(s.begin(), s.end(), [](char c) { return c == '\n' || c == '\r' || c == '\0'; });
  };
  if (!all_digits(a.id)) return "id \"" + a.id + "\" is not ASCII digits";
  if (a.name.empty()) return "empty name";
  if (is_removed_name(a.name)) return "name \"" + a.name + "\" starts with a removal marker ('!' or '#')";
  if (a.name.find(' ') != std::string::npos || has_control(a.name)) return "name contains a space or line break";
  if (a.ip.empty()) return "empty ip";
  if (a.ip.find(' ') != std::string::npos || has_control(a.ip)) return "ip contains a space or line break";
  if (a.key.empty()) return "empty key";
  if (has_control(a.key)) return "key contains a line break or NUL";
  return {};
}

std::string field_rules_breach(std::string_view line, const Fields& f) {
  const std::string_view id = line.substr(0, f.name_at - 1);
  std::string_view name = line.substr(f.name_at, f.ip_at - f.name_at - 1);
  const std::string_view ip = line.substr(f.ip_at, f.key_at - f.ip_at - 1);
  const std::string_view key = line.substr(f.key_at);
  if (is_removed_name(name)) name.remove_prefix(1);
  if (!rules::is_agent_id(id)) return "id \"" + std::string(id) + "\" breaks S2 (3 to 8 digits)";
  if (!rules::is_agent_name(name)) return "name breaks S3";
  if (!rules::is_agent_ip(ip)) return "ip \"" + std::string(ip) + "\" breaks S4";
  if (!rules::is_agent_key(key)) return "key breaks S5 (1 to 128 printable bytes, no space at either end)";
  return {};
}

}  // namespace keyreq::keystore_internal
