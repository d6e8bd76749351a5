// The rule oracle (see oracle.hpp). Written from SPEC §4 and docs/rules.md
// only; plain code over nlohmann_json's SAX interface so that every key of
// every object, the nesting depth and the exact kind of each number are seen.
#include "conformance/oracle.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace keyreq::conformance {

namespace {

constexpr std::size_t kMaxDepth = 64;
constexpr std::uint64_t kMaxErrorCode = 2147483647;
constexpr std::string_view kRuleOrder[] = {"D1", "D2", "E1", "E2", "S1", "S2", "S3", "S4", "S5", "C1", "C2"};

// A JSON value as the SAX events described it.
struct Node {
  enum class Kind { null, boolean, unsigned_int, negative_int, floating, string, array, object };
  Kind kind = Kind::null;
  std::uint64_t unsigned_value = 0;  // unsigned_int
  std::string text;                  // string: unescaped; floating: the number as written
  std::vector<std::string> keys;     // object: keys in order (unescaped)
  std::vector<Node> values;          // object: values; array: items

  const Node* member(std::string_view key) const {
    for (std::size_t i = 0; i < keys.size(); ++i) {
      if (keys[i] == key) return &values[i];
    }
    return nullptr;
  }
};

const char* kind_name(Node::Kind k) {
  switch (k) {
    case Node::Kind::null: return "null";
    case Node::Kind::boolean: return "boolean";
    case Node::Kind::unsigned_int: return "integer";
    case Node::Kind::negative_int: return "negative integer";
    case Node::Kind::floating: return "number with fraction, exponent or beyond 64 bits";
    case Node::Kind::string: return "string";
    case Node::Kind::array: return "array";
    case Node::Kind::object: return "object";
  }
  return "?";
}

// Builds the Node tree from nlohmann's SAX events, notes duplicate keys at any
// depth (compared unescaped, as nlohmann hands keys over) and stops at the
// first value nested deeper than kMaxDepth.
class TreeBuilder {
 public:
  using json = nlohmann::json;

  bool null() { return add(Node{}); }
  bool boolean(bool) {
    Node n;
    n.kind = Node::Kind::boolean;
    return add(std::move(n));
  }
  // nlohmann reports non-negative integers that fit 64 bits here...
  bool number_unsigned(json::number_unsigned_t v) {
    Node n;
    n.kind = Node::Kind::unsigned_int;
    n.unsigned_value = v;
    return add(std::move(n));
  }
  // ...integers written with a minus sign (including -0) here...
  bool number_integer(json::number_integer_t) {
    Node n;
    n.kind = Node::Kind::negative_int;
    return add(std::move(n));
  }
  // ...and numbers with a fraction or exponent, or beyond 64 bits, here.
  bool number_float(json::number_float_t v, const json::string_t& raw) {
    if (!std::isfinite(v)) {
      error_ = "number too large for a double: " + raw;
      return false;
    }
    Node n;
    n.kind = Node::Kind::floating;
    n.text = raw;
    return add(std::move(n));
  }
  bool string(json::string_t& v) {
    Node n;
    n.kind = Node::Kind::string;
    n.text = v;
    return add(std::move(n));
  }
  bool binary(json::binary_t&) {
    error_ = "binary value";
    return false;
  }
  bool start_object(std::size_t) {
    Node n;
    n.kind = Node::Kind::object;
    return open(std::move(n));
  }
  bool key(json::string_t& k) {
    if (!seen_keys_.back().insert(k).second && !has_duplicate_) {
      has_duplicate_ = true;
      duplicate_ = k;
    }
    pending_key_ = k;
    return true;
  }
  bool end_object() {
    stack_.pop_back();
    seen_keys_.pop_back();
    return true;
  }
  bool start_array(std::size_t) {
    Node n;
    n.kind = Node::Kind::array;
    return open(std::move(n));
  }
  bool end_array() {
    stack_.pop_back();
    seen_keys_.pop_back();
    return true;
  }
  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& e) {
    if (error_.empty()) error_ = "at byte " + std::to_string(position) + ": " + e.what();
    return false;
  }

  Node& root() { return root_; }
  bool too_deep() const { return too_deep_; }
  const std::string& error() const { return error_; }
  bool has_duplicate() const { return has_duplicate_; }
  const std::string& duplicate() const { return duplicate_; }

 private:
  // Places a finished scalar, or a container about to be filled, into its parent.
  Node* place(Node n) {
    if (stack_.empty()) {
      root_ = std::move(n);
      return &root_;
    }
    Node& parent = *stack_.back();
    if (parent.kind == Node::Kind::object) parent.keys.push_back(pending_key_);
    parent.values.push_back(std::move(n));
    return &parent.values.back();
  }
  bool add(Node n) {
    place(std::move(n));
    return true;
  }
  bool open(Node n) {
    if (stack_.size() + 1 > kMaxDepth) {
      too_deep_ = true;
      error_ = "nesting deeper than " + std::to_string(kMaxDepth) + " levels";
      return false;
    }
    stack_.push_back(place(std::move(n)));
    seen_keys_.emplace_back();
    return true;
  }

  Node root_;
  std::vector<Node*> stack_;  // open containers, outermost first
  std::vector<std::set<std::string>> seen_keys_;
  std::string pending_key_;
  std::string duplicate_;
  bool has_duplicate_ = false;
  std::string error_;
  bool too_deep_ = false;
};

OracleRefuse refuse(std::string rule, std::string detail) { return OracleRefuse{std::move(rule), std::move(detail)}; }

std::string shown(std::string_view s) { return "\"" + escape_for_display(s) + "\""; }

bool is_digit(char c) { return c >= '0' && c <= '9'; }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (true) {
    const std::size_t at = s.find(sep, start);
    if (at == std::string_view::npos) {
      parts.push_back(s.substr(start));
      return parts;
    }
    parts.push_back(s.substr(start, at - start));
    start = at + 1;
  }
}

// docs/rules.md S4: an IPv4 octet and a prefix length are plain decimal, no
// sign, no leading zero. Checked the oracle's own way (the resolver scans
// digit by digit): at most three digits, and the text must be exactly how its
// value prints, which leaves no room for a leading zero.
std::optional<int> parse_canonical_decimal(std::string_view s, int max) {
  if (s.empty() || s.size() > 3 || !std::all_of(s.begin(), s.end(), is_digit)) return std::nullopt;
  const int value = std::stoi(std::string(s));
  if (std::to_string(value) != s || value > max) return std::nullopt;
  return value;
}

// A group list of an IPv6 address: hex groups of 1-4 digits, the very last
// one of the whole address may be a dotted quad (two groups' worth).
bool parse_groups(std::string_view part, bool holds_last, std::vector<std::uint8_t>& out) {
  if (part.empty()) return true;
  const auto groups = split(part, ':');
  for (std::size_t i = 0; i < groups.size(); ++i) {
    const std::string_view g = groups[i];
    if (holds_last && i + 1 == groups.size() && g.find('.') != std::string_view::npos) {
      auto v4 = parse_ipv4(g);
      if (!v4) return false;
      out.insert(out.end(), v4->begin(), v4->end());
      continue;
    }
    if (g.empty() || g.size() > 4) return false;
    unsigned v = 0;
    for (char c : g) {
      const int h = hex_value(c);
      if (h < 0) return false;
      v = v * 16 + static_cast<unsigned>(h);
    }
    out.push_back(static_cast<std::uint8_t>(v >> 8));
    out.push_back(static_cast<std::uint8_t>(v & 0xff));
    if (out.size() > 16) return false;
  }
  return out.size() <= 16;
}

}  // namespace

int rule_rank(std::string_view rule) {
  for (std::size_t i = 0; i < std::size(kRuleOrder); ++i) {
    if (kRuleOrder[i] == rule) return static_cast<int>(i);
  }
  return static_cast<int>(std::size(kRuleOrder));
}

bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  while (i < s.size()) {
    const unsigned char c = byte(i);
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len;
    unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;  // no overlong forms
      if (c == 0xED) hi = 0x9F;  // no surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;  // no overlong forms
      if (c == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
    } else {
      return false;  // continuation byte first, C0, C1, F5-FF
    }
    if (i + len > s.size()) return false;
    if (byte(i + 1) < lo || byte(i + 1) > hi) return false;
    for (std::size_t k = 2; k < len; ++k) {
      if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return false;
    }
    i += len;
  }
  return true;
}

bool is_id(std::string_view s) { return s.size() >= 3 && s.size() <= 8 && std::all_of(s.begin(), s.end(), is_digit); }

bool is_name(std::string_view s) {
  if (s.empty() || s.size() > 128) return false;
  for (char c : s) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || is_digit(c) || c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

bool is_key(std::string_view s) {
  if (s.empty() || s.size() > 128) return false;
  for (char c : s) {
    if (c < 0x20 || c > 0x7e) return false;  // char is signed here: bytes >= 0x80 are negative
  }
  return s.front() != ' ' && s.back() != ' ';
}

std::optional<std::array<std::uint8_t, 4>> parse_ipv4(std::string_view s) {
  const auto parts = split(s, '.');
  if (parts.size() != 4) return std::nullopt;
  std::array<std::uint8_t, 4> out{};
  for (std::size_t i = 0; i < 4; ++i) {
    auto v = parse_canonical_decimal(parts[i], 255);
    if (!v) return std::nullopt;
    out[i] = static_cast<std::uint8_t>(*v);
  }
  return out;
}

std::optional<std::array<std::uint8_t, 16>> parse_ipv6(std::string_view s) {
  if (s.empty()) return std::nullopt;
  for (char c : s) {
    if (hex_value(c) < 0 && c != ':' && c != '.') return std::nullopt;
  }
  std::vector<std::uint8_t> head, tail;
  const std::size_t gap = s.find("::");
  if (gap == std::string_view::npos) {
    if (!parse_groups(s, true, head) || head.size() != 16) return std::nullopt;
  } else {
    const std::string_view before = s.substr(0, gap);
    const std::string_view after = s.substr(gap + 2);
    if (after.find("::") != std::string_view::npos) return std::nullopt;  // "::" at most once
    if (!parse_groups(before, /*holds_last=*/false, head)) return std::nullopt;
    if (!parse_groups(after, true, tail)) return std::nullopt;
    // "::" stands for at least one group of zeros.
    if (head.size() + tail.size() > 14) return std::nullopt;
  }
  std::array<std::uint8_t, 16> out{};
  std::copy(head.begin(), head.end(), out.begin());
  std::copy(tail.begin(), tail.end(), out.end() - static_cast<std::ptrdiff_t>(tail.size()));
  return out;
}

std::optional<Network> parse_address(std::string_view s) {
  Network n;
  if (s.find(':') != std::string_view::npos) {
    auto v6 = parse_ipv6(s);
    if (!v6) return std::nullopt;
    n.family = 6;
    n.bytes = *v6;
    n.prefix = 128;
    return n;
  }
  auto v4 = parse_ipv4(s);
  if (!v4) return std::nullopt;
  n.family = 4;
  std::copy(v4->begin(), v4->end(), n.bytes.begin());
  n.prefix = 32;
  return n;
}

std::optional<Network> parse_network(std::string_view s) {
  if (s == "any") {
    Network n;
    n.any = true;
    return n;
  }
  const std::size_t slash = s.find('/');
  auto n = parse_address(s.substr(0, slash));
  if (!n || slash == std::string_view::npos) return n;
  const std::string_view suffix = s.substr(slash + 1);
  if (n->family == 4 && suffix.find('.') != std::string_view::npos) {
    auto mask = parse_ipv4(suffix);
    if (!mask) return std::nullopt;
    const std::uint32_t m = (std::uint32_t{(*mask)[0]} << 24) | (std::uint32_t{(*mask)[1]} << 16) |
                            (std::uint32_t{(*mask)[2]} << 8) | std::uint32_t{(*mask)[3]};
    int ones = 0;
    while (ones < 32 && (m & (0x80000000u >> ones)) != 0) ++ones;
    const std::uint32_t contiguous = ones == 0 ? 0u : ~std::uint32_t{0} << (32 - ones);
    if (m != contiguous) return std::nullopt;
    n->prefix = ones;
    return n;
  }
  auto prefix = parse_canonical_decimal(suffix, n->family == 4 ? 32 : 128);
  if (!prefix) return std::nullopt;
  n->prefix = *prefix;
  return n;
}

bool network_covers(const Network& network, const Network& address) {
  if (network.any) return true;
  if (network.family != address.family) return false;
  for (int bit = 0; bit < network.prefix; ++bit) {
    const int mask = 0x80 >> (bit % 8);
    if ((network.bytes[bit / 8] & mask) != (address.bytes[bit / 8] & mask)) return false;
  }
  return true;
}

std::optional<OracleRequest> parse_request_bytes(std::string_view bytes) {
  if (bytes.size() >= 2 && bytes.substr(bytes.size() - 2) == "\r\n") {
    bytes.remove_suffix(2);
  } else if (!bytes.empty() && bytes.back() == '\n') {
    bytes.remove_suffix(1);
  }
  if (bytes.size() < 3) return std::nullopt;
  const std::string_view kind = bytes.substr(0, 3);
  const std::string_view value = bytes.substr(3);
  if (kind == "id:" && is_id(value)) return OracleRequest{"id", std::string(value)};
  if (kind == "ip:" && parse_address(value)) return OracleRequest{"ip", std::string(value)};
  return std::nullopt;
}

OracleVerdict judge(std::string_view output, const OracleRequest& request) {
  // D1: one valid UTF-8 JSON document, nothing but whitespace around it.
  if (output.empty()) return refuse("D1", "empty output");
  if (output.substr(0, 3) == "\xEF\xBB\xBF") return refuse("D1", "byte order mark");
  if (!valid_utf8(output)) return refuse("D1", "invalid UTF-8");
  // nlohmann's lexer takes a NUL byte for the end of the input; in JSON a raw
  // NUL is never valid (not between tokens, not unescaped inside a string).
  if (output.find('\0') != std::string_view::npos) return refuse("D1", "NUL byte");
  TreeBuilder tree;
  const bool parsed = nlohmann::json::sax_parse(output.begin(), output.end(), &tree,
                                                nlohmann::json::input_format_t::json, /*strict=*/true,
                                                /*ignore_comments=*/false);
  if (!parsed || tree.too_deep()) return refuse("D1", tree.error().empty() ? "not JSON" : tree.error());

  // D2: an object, no key twice in any object.
  const Node& root = tree.root();
  if (root.kind != Node::Kind::object) return refuse("D2", std::string("top level is ") + kind_name(root.kind));
  if (tree.has_duplicate()) return refuse("D2", "duplicate key " + shown(tree.duplicate()));

  // E1: error present, a plain non-negative integer that fits a C int.
  const Node* error = root.member("error");
  if (error == nullptr) return refuse("E1", "no \"error\"");
  if (error->kind != Node::Kind::unsigned_int) return refuse("E1", std::string("error is a ") + kind_name(error->kind));
  if (error->unsigned_value > kMaxErrorCode) {
    return refuse("E1", "error " + std::to_string(error->unsigned_value) + " above 2147483647");
  }

  // E2: any other value than 0 is a decline.
  if (error->unsigned_value != 0) {
    OracleDecline d;
    d.code = static_cast<std::int64_t>(error->unsigned_value);
    const Node* message = root.member("message");
    if (message != nullptr && message->kind == Node::Kind::string) d.message = message->text;
    return d;
  }

  // S1: data is an object with exactly id, name, ip, key, all strings.
  const Node* data = root.member("data");
  if (data == nullptr) return refuse("S1", "no \"data\"");
  if (data->kind != Node::Kind::object) return refuse("S1", std::string("data is a ") + kind_name(data->kind));
  static const std::set<std::string> kFields{"id", "name", "ip", "key"};
  const std::set<std::string> present(data->keys.begin(), data->keys.end());
  if (present != kFields) {
    for (const auto& k : data->keys) {
      if (!kFields.count(k)) return refuse("S1", "unexpected field " + shown(k) + " in data");
    }
    for (const auto& k : kFields) {
      if (!present.count(k)) return refuse("S1", "missing field \"" + k + "\" in data");
    }
  }
  for (std::size_t i = 0; i < data->keys.size(); ++i) {
    if (data->values[i].kind != Node::Kind::string) {
      return refuse("S1", "data." + data->keys[i] + " is a " + kind_name(data->values[i].kind));
    }
  }
  OracleAccept a;
  a.id = data->member("id")->text;
  a.name = data->member("name")->text;
  a.ip = data->member("ip")->text;
  a.key = data->member("key")->text;

  // S2-S5 on the unescaped values.
  if (!is_id(a.id)) return refuse("S2", "id " + shown(a.id) + " is not 3 to 8 ASCII digits");
  if (!is_name(a.name)) return refuse("S3", "name " + shown(a.name) + " is not 1 to 128 of A-Z a-z 0-9 - _ .");
  const auto network = parse_network(a.ip);
  if (!network) return refuse("S4", "ip " + shown(a.ip) + " is not any, an address, or a network");
  if (!is_key(a.key)) {
    return refuse("S5", "key " + shown(a.key) + " is not 1 to 128 printable ASCII without edge spaces");
  }

  // C1, C2: the answer is about the agent asked for.
  if (request.kind == "id" && a.id != request.value) {
    return refuse("C1", "id " + shown(a.id) + " answers a request for " + shown(request.value));
  }
  if (request.kind == "ip") {
    const auto asked = parse_address(request.value);
    if (!asked || !network_covers(*network, *asked)) {
      return refuse("C2", "ip " + shown(a.ip) + " does not cover " + shown(request.value));
    }
  }
  return a;
}

std::string verdict_label(const OracleVerdict& v) {
  if (std::holds_alternative<OracleAccept>(v)) return "accept";
  if (std::holds_alternative<OracleDecline>(v)) return "decline";
  return std::get<OracleRefuse>(v).rule;
}

std::string escape_for_display(std::string_view bytes) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size());
  for (char ch : bytes) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '\\') {
      out += "\\\\";
    } else if (c >= 0x20 && c < 0x7f) {
      out += ch;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace keyreq::conformance
