#include "resolver/config.hpp"

#include <pugixml.hpp>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>

#include "resolver/command_line.hpp"
#include "resolver/escape.hpp"

namespace keyreq {

namespace {

constexpr std::size_t kMaxSocketPath = 107;  // sizeof(sockaddr_un::sun_path) - 1

std::string_view trim(std::string_view v) {
  const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!v.empty() && space(v.front())) v.remove_prefix(1);
  while (!v.empty() && space(v.back())) v.remove_suffix(1);
  return v;
}

ConfigError bad_value(std::string_view where, std::string_view value, std::string_view allowed) {
  return ConfigError{std::string(where), escape_bytes(value, 200), std::string(allowed), {}};
}

// Decimal digits only (no sign, no spaces inside), within [lo, hi].
bool parse_range(std::string_view text, long lo, long hi, long& out) {
  if (text.empty() || text.size() > 12) return false;
  if (!std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) return false;
  long v = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size()) return false;
  if (v < lo || v > hi) return false;
  out = v;
  return true;
}

std::optional<bool> parse_yes_no(std::string_view text) {
  if (text == "yes") return true;
  if (text == "no") return false;
  return std::nullopt;
}

std::size_t line_of(std::string_view text, std::ptrdiff_t offset) {
  if (offset < 0) return 0;
  const auto end = std::min(static_cast<std::size_t>(offset), text.size());
  return 1 + static_cast<std::size_t>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(end), '\n'));
}

std::optional<ConfigError> apply_block(KeyRequestConfig& config, const pugi::xml_node& block) {
  config.block_found = true;
  config.enabled = true;  // upstream code: the block's presence turns it on
  for (const pugi::xml_node& child : block.children()) {
    if (child.type() != pugi::node_element) continue;
    const std::string tag = child.name();
    const std::string where = "<key_request><" + tag + ">";
    if (std::find(std::begin(kKeyRequestTags), std::end(kKeyRequestTags), tag) == std::end(kKeyRequestTags)) {
      std::string allowed;
      for (auto t : kKeyRequestTags) allowed += (allowed.empty() ? "" : ", ") + std::string(t);
      return ConfigError{where, {}, {}, "unknown tag (allowed: " + allowed + ")"};
    }
    if (child.first_child().type() == pugi::node_element) {
      return ConfigError{where, {}, {}, "holds elements; a text value is expected"};
    }
    if (auto error = apply_setting(config, tag, child.child_value(), where)) return error;
  }
  return std::nullopt;
}

std::optional<ConfigError> walk(KeyRequestConfig& config, const pugi::xml_node& parent, int depth) {
  for (const pugi::xml_node& node : parent.children()) {
    if (node.type() != pugi::node_element) continue;
    const std::string_view name = node.name();
    if (name == "key_request") {
      if (auto error = apply_block(config, node)) return error;
    } else if (depth < 2 && (name == "ossec_config" || name == "auth")) {
      if (auto error = walk(config, node, depth + 1)) return error;
    }
  }
  return std::nullopt;
}

}  // namespace

std::string ConfigError::message() const {
  std::string m = where;
  if (!allowed.empty()) {
    m += ": \"" + value + "\" is not allowed; expected " + allowed;
  }
  if (!reason.empty()) m += (allowed.empty() ? ": " : "; ") + reason;
  return m;
}

std::optional<ConfigError> apply_setting(KeyRequestConfig& config, std::string_view tag, std::string_view raw,
                                         std::string_view where) {
  const std::string_view value = trim(raw);
  if (tag == "enabled" || tag == "force_insert" || tag == "exec_fallback") {
    const auto yes = parse_yes_no(value);
    if (!yes) return bad_value(where, value, "yes or no");
    (tag == "enabled" ? config.enabled : tag == "force_insert" ? config.force_insert : config.exec_fallback) = *yes;
    return std::nullopt;
  }
  if (tag == "timeout" || tag == "threads" || tag == "queue_size") {
    const long hi = tag == "timeout" ? 3600 : tag == "threads" ? 32 : 220000;
    long v = 0;
    if (!parse_range(value, 1, hi, v)) {
      const std::string allowed = tag == "timeout"  ? "an integer number of seconds from 1 to 3600"
                                  : tag == "threads" ? "an integer from 1 to 32"
                                                     : "an integer from 1 to 220000";
      return bad_value(where, value, allowed);
    }
    if (tag == "timeout") config.timeout_seconds = static_cast<int>(v);
    else if (tag == "threads") config.threads = static_cast<int>(v);
    else config.queue_size = static_cast<std::size_t>(v);
    return std::nullopt;
  }
  if (tag == "exec_path") {
    constexpr std::string_view allowed = "a non-empty command line (program, then fixed arguments)";
    if (value.empty()) return bad_value(where, value, allowed);
    auto words = split_command_line(value);
    if (auto* error = std::get_if<CommandLineError>(&words)) {
      auto e = bad_value(where, value, allowed);
      e.reason = error->reason;
      return e;
    }
    if (std::get<std::vector<std::string>>(words).empty()) return bad_value(where, value, allowed);
    config.exec_path = std::string(value);
    return std::nullopt;
  }
  if (tag == "socket") {
    if (value.empty() || value.size() > kMaxSocketPath || value.find('\0') != std::string_view::npos) {
      auto e = bad_value(where, value, "a socket path of 1 to 107 bytes");
      if (value.size() > kMaxSocketPath) e.reason = "it is " + std::to_string(value.size()) + " bytes long";
      return e;
    }
    config.socket = std::string(value);
    return std::nullopt;
  }
  return ConfigError{std::string(where), {}, {}, "unknown setting"};
}

std::variant<KeyRequestConfig, ConfigError> parse_key_request_config(std::string_view xml,
                                                                     std::string_view source_name) {
  pugi::xml_document doc;
  const pugi::xml_parse_result parsed = doc.load_buffer(xml.data(), xml.size(), pugi::parse_default);
  if (!parsed) {
    return ConfigError{std::string(source_name) + ":" + std::to_string(line_of(xml, parsed.offset)), {}, {},
                       std::string("XML error: ") + parsed.description()};
  }
  KeyRequestConfig config;
  if (auto error = walk(config, doc, 0)) return *error;
  return config;
}

std::variant<KeyRequestConfig, ConfigError> load_key_request_config(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return ConfigError{path.string(), {}, {}, std::string("cannot read: ") + std::strerror(errno)};
  std::ostringstream text;
  text << in.rdbuf();
  return parse_key_request_config(text.str(), path.string());
}

std::optional<ConfigError> check_complete(const KeyRequestConfig& config) {
  if (config.enabled && config.exec_path.empty() && config.socket.empty()) {
    return ConfigError{"<key_request>", {}, {}, "enabled, but neither <exec_path> nor <socket> is set"};
  }
  if (config.exec_fallback && (config.exec_path.empty() || config.socket.empty())) {
    return ConfigError{"<key_request><exec_fallback>", {}, {}, "needs both <socket> and <exec_path>"};
  }
  return std::nullopt;
}

}  // namespace keyreq
