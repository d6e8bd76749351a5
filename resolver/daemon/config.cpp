#include "resolver/daemon/config.hpp"

#include <pugixml.hpp>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <sstream>

#include "resolver/platform/errno_text.hpp"
#include "resolver/platform/escape.hpp"
#include "resolver/transport/command_line.hpp"

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

void append_utf8(std::string& out, std::uint32_t c) {
  if (c < 0x80) {
    out += static_cast<char>(c);
  } else if (c < 0x800) {
    out += static_cast<char>(0xC0 | (c >> 6));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    out += static_cast<char>(0xE0 | (c >> 12));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (c >> 18));
    out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  }
}

// A character reference's code point ("#65", "#x41") when it is an XML Char.
std::optional<std::uint32_t> character_reference(std::string_view ref) {
  const bool hex = ref.size() > 1 && ref[1] == 'x';
  const std::string_view digits = ref.substr(hex ? 2 : 1);
  std::uint32_t c = 0;
  const auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), c, hex ? 16 : 10);
  if (digits.empty() || ec != std::errc() || ptr != digits.data() + digits.size()) return std::nullopt;
  const bool xml_char = c == 0x9 || c == 0xA || c == 0xD || (c >= 0x20 && c <= 0xD7FF) ||
                        (c >= 0xE000 && c <= 0xFFFD) || (c >= 0x10000 && c <= 0x10FFFF);
  if (!xml_char) return std::nullopt;
  return c;
}

// Decodes the entity references of raw element text (the document is parsed
// without pugixml's escapes, which leaves an undefined entity as literal
// text): the five XML predefines and character references. "" or the error.
std::string decode_entities(std::string_view raw, std::string& out) {
  static constexpr std::pair<std::string_view, char> kPredefined[] = {
      {"lt", '<'}, {"gt", '>'}, {"amp", '&'}, {"quot", '"'}, {"apos", '\''}};
  while (!raw.empty()) {
    const auto amp = raw.find('&');
    out.append(raw.substr(0, amp));
    if (amp == std::string_view::npos) break;
    const auto semicolon = raw.find(';', amp);
    if (semicolon == std::string_view::npos || semicolon - amp > 12) {
      return "\"" + escape_bytes(raw.substr(amp, 12)) + "\" is not an entity reference (write & as &amp;)";
    }
    const std::string_view name = raw.substr(amp + 1, semicolon - amp - 1);
    const auto predefined =
        std::find_if(std::begin(kPredefined), std::end(kPredefined), [&](const auto& p) { return p.first == name; });
    if (predefined != std::end(kPredefined)) {
      out += predefined->second;
    } else if (!name.empty() && name[0] == '#') {
      const auto c = character_reference(name);
      if (!c) return "&" + escape_bytes(name) + "; is not a character allowed in XML";
      append_utf8(out, *c);
    } else {
      return "undefined entity &" + escape_bytes(name) +
             "; (XML defines only &lt; &gt; &amp; &quot; &apos; and character references)";
    }
    raw.remove_prefix(semicolon + 1);
  }
  return {};
}

// The value of a tag: its text and CDATA pieces, entities decoded. A comment,
// processing instruction or element inside it is an error: pugixml would
// otherwise hand back only the text before it.
std::variant<std::string, ConfigError> value_text(const pugi::xml_node& tag, const std::string& where) {
  std::string value;
  for (const pugi::xml_node& piece : tag.children()) {
    switch (piece.type()) {
      case pugi::node_pcdata:
        if (std::string error = decode_entities(piece.value(), value); !error.empty()) {
          return ConfigError{where, {}, {}, std::move(error)};
        }
        break;
      case pugi::node_cdata: value += piece.value(); break;
      case pugi::node_comment: return ConfigError{where, {}, {}, "holds a comment; write the value in one piece"};
      case pugi::node_pi: return ConfigError{where, {}, {}, "holds a processing instruction; a text value is expected"};
      default:
        return ConfigError{
            where, {}, {}, "holds an element <" + std::string(piece.name()) + ">; a text value is expected"};
    }
  }
  return value;
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
    auto value = value_text(child, where);
    if (auto* error = std::get_if<ConfigError>(&value)) return std::move(*error);
    if (auto error = apply_setting(config, tag, std::get<std::string>(value), where)) return error;
  }
  return std::nullopt;
}

// True when an <auth> block says <disabled>yes</disabled> (upstream's authd,
// which serves key requests, is then off).
bool auth_disabled(const pugi::xml_node& auth) {
  for (const pugi::xml_node& disabled : auth.children("disabled")) {
    auto value = value_text(disabled, "<auth><disabled>");
    if (auto* text = std::get_if<std::string>(&value); text != nullptr && trim(*text) == "yes") return true;
  }
  return false;
}

std::optional<ConfigError> walk(KeyRequestConfig& config, const pugi::xml_node& parent, int depth,
                                bool& saw_auth_disabled) {
  for (const pugi::xml_node& node : parent.children()) {
    if (node.type() != pugi::node_element) continue;
    const std::string_view name = node.name();
    if (name == "key_request") {
      if (auto error = apply_block(config, node)) return error;
    } else if (depth < 2 && (name == "ossec_config" || name == "auth")) {
      if (name == "auth" && auth_disabled(node)) saw_auth_disabled = true;
      if (auto error = walk(config, node, depth + 1, saw_auth_disabled)) return error;
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
      const std::string allowed = tag == "timeout"   ? "an integer number of seconds from 1 to 3600"
                                  : tag == "threads" ? "an integer from 1 to 32"
                                                     : "an integer from 1 to 220000";
      return bad_value(where, value, allowed);
    }
    if (tag == "timeout")
      config.timeout_seconds = static_cast<int>(v);
    else if (tag == "threads")
      config.threads = static_cast<int>(v);
    else
      config.queue_size = static_cast<std::size_t>(v);
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
    if (auto error = check_socket_path(value, where)) return error;
    config.socket = std::string(value);
    return std::nullopt;
  }
  return ConfigError{std::string(where), {}, {}, "unknown setting"};
}

std::optional<ConfigError> check_socket_path(std::string_view path, std::string_view where) {
  if (path.empty() || path.size() > kMaxSocketPath || path.find('\0') != std::string_view::npos) {
    auto e = bad_value(where, path, "a socket path of 1 to 107 bytes");
    if (path.size() > kMaxSocketPath) e.reason = "it is " + std::to_string(path.size()) + " bytes long";
    return e;
  }
  return std::nullopt;
}

std::variant<KeyRequestConfig, ConfigError> parse_key_request_config(std::string_view xml,
                                                                     std::string_view source_name) {
  pugi::xml_document doc;
  // Entities are decoded by value_text (pugixml keeps an undefined one as
  // text); comments and processing instructions are kept as nodes so that one
  // inside a value is seen instead of silently cutting it.
  constexpr unsigned kParse = (pugi::parse_default & ~pugi::parse_escapes) | pugi::parse_comments | pugi::parse_pi;
  const pugi::xml_parse_result parsed = doc.load_buffer(xml.data(), xml.size(), kParse);
  if (!parsed) {
    return ConfigError{std::string(source_name) + ":" + std::to_string(line_of(xml, parsed.offset)),
                       {},
                       {},
                       std::string("XML error: ") + parsed.description()};
  }
  KeyRequestConfig config;
  bool saw_auth_disabled = false;
  if (auto error = walk(config, doc, 0, saw_auth_disabled)) return *error;
  if (saw_auth_disabled && config.block_found && config.enabled) {
    config.warnings.push_back(
        "<auth><disabled>yes</disabled>: upstream's authd, which answers key requests, would be off; "
        "keyreq serve serves the <key_request> block anyway");
  }
  return config;
}

std::variant<KeyRequestConfig, ConfigError> load_key_request_config(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return ConfigError{path.string(), {}, {}, "cannot read: " + errno_text(errno)};
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
