#include "resolver/core/field_rules.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>

namespace keyreq::rules {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// S3's alphabet as a table, so the check is one load per byte and no branch.
constexpr std::array<bool, 256> kNameChar = [] {
  std::array<bool, 256> t{};
  for (int c = 0; c < 256; ++c)
    t[static_cast<std::size_t>(c)] =
        (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
  return t;
}();

// Strict dotted quad, exactly what glibc's inet_pton(AF_INET) accepts: four
// decimal parts, each "0" or 1-3 digits without a leading zero, value <= 255.
// Done by hand because inet_pton was a visible share of a response's cost.
bool parse_ipv4(std::string_view s, unsigned char* out) {
  std::size_t i = 0;
  for (int part = 0; part < 4; ++part) {
    if (part > 0) {
      if (i >= s.size() || s[i] != '.') return false;
      ++i;
    }
    const std::size_t start = i;
    unsigned value = 0;
    while (i < s.size() && is_digit(s[i]) && i - start < 3) value = value * 10 + static_cast<unsigned>(s[i++] - '0');
    const std::size_t digits = i - start;
    if (digits == 0 || value > 255 || (digits > 1 && s[start] == '0')) return false;
    out[part] = static_cast<unsigned char>(value);
  }
  return i == s.size();
}

// An address in network byte order, tagged with its family.
struct Address {
  int family = 0;  // AF_INET or AF_INET6
  std::array<unsigned char, 16> bytes{};
  int bits() const { return family == AF_INET ? 32 : 128; }
};

std::optional<Address> parse_address(std::string_view s) {
  // inet_pton wants a NUL-terminated string; the longest IPv6 text form is 45 bytes.
  // inet_pton would stop at an embedded NUL and judge only the bytes before it.
  if (s.empty() || s.size() > 45) return std::nullopt;
  Address a;
  if (s.find(':') == std::string_view::npos) {
    if (!parse_ipv4(s, a.bytes.data())) return std::nullopt;
    a.family = AF_INET;
    return a;
  }
  if (s.find('\0') != std::string_view::npos) return std::nullopt;
  char text[46];
  std::memcpy(text, s.data(), s.size());
  text[s.size()] = '\0';
  if (inet_pton(AF_INET6, text, a.bytes.data()) != 1) return std::nullopt;
  a.family = AF_INET6;
  return a;
}

// Decimal prefix length without sign or leading zeros, 0..max.
std::optional<int> parse_prefix(std::string_view s, int max) {
  if (s.empty() || s.size() > 3) return std::nullopt;
  if (s.size() > 1 && s[0] == '0') return std::nullopt;
  int value = 0;
  for (char c : s) {
    if (!is_digit(c)) return std::nullopt;
    value = value * 10 + (c - '0');
  }
  if (value > max) return std::nullopt;
  return value;
}

// A dotted IPv4 netmask with contiguous ones: its prefix length.
std::optional<int> parse_netmask(std::string_view s) {
  auto mask = parse_address(s);
  if (!mask || mask->family != AF_INET) return std::nullopt;
  std::uint32_t m = (std::uint32_t{mask->bytes[0]} << 24) | (std::uint32_t{mask->bytes[1]} << 16) |
                    (std::uint32_t{mask->bytes[2]} << 8) | std::uint32_t{mask->bytes[3]};
  const std::uint32_t inverted = ~m;
  if ((inverted & (inverted + 1)) != 0) return std::nullopt;  // ones must be contiguous from the top
  int prefix = 0;
  while (m != 0) {
    prefix += static_cast<int>(m >> 31);
    m <<= 1;
  }
  return prefix;
}

struct Network {
  Address base;
  int prefix;
};

std::optional<Network> parse_network(std::string_view s) {
  const auto slash = s.find('/');
  auto base = parse_address(s.substr(0, slash));
  if (!base) return std::nullopt;
  if (slash == std::string_view::npos) return Network{*base, base->bits()};
  const auto suffix = s.substr(slash + 1);
  if (auto prefix = parse_prefix(suffix, base->bits())) return Network{*base, *prefix};
  if (base->family == AF_INET) {
    if (auto prefix = parse_netmask(suffix)) return Network{*base, *prefix};
  }
  return std::nullopt;
}

bool same_leading_bits(const Address& a, const Address& b, int bits) {
  const int whole = bits / 8;
  if (std::memcmp(a.bytes.data(), b.bytes.data(), static_cast<std::size_t>(whole)) != 0) return false;
  const int rest = bits % 8;
  if (rest == 0) return true;
  const auto mask = static_cast<unsigned char>(0xff << (8 - rest));
  return (a.bytes[static_cast<std::size_t>(whole)] & mask) == (b.bytes[static_cast<std::size_t>(whole)] & mask);
}

}  // namespace

bool is_agent_id(std::string_view s) {
  if (s.size() < 3 || s.size() > 8) return false;
  for (char c : s)
    if (!is_digit(c)) return false;
  return true;
}

bool is_agent_name(std::string_view s) {
  if (s.empty() || s.size() > 128) return false;
  bool ok = true;  // accumulated without branching so the loop stays short
  for (char c : s) ok &= kNameChar[static_cast<unsigned char>(c)];
  return ok;
}

bool is_agent_key(std::string_view s) {
  if (s.empty() || s.size() > 128) return false;
  if (s.front() == ' ' || s.back() == ' ') return false;
  // OR-accumulate "outside 0x20..0x7e" with no branch, so the loop vectorises.
  unsigned char bad = 0;  // byte-wide, so the vector loop stays byte-wide
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    bad |= static_cast<unsigned char>(static_cast<unsigned char>(u - 0x20) > 0x5e);
  }
  return bad == 0;
}

bool is_ip_address(std::string_view s) { return parse_address(s).has_value(); }

bool is_agent_ip(std::string_view s) {
  // The common answer, a plain IPv4 address, without building a Network.
  unsigned char bytes[4];
  if (parse_ipv4(s, bytes)) return true;
  return s == "any" || parse_network(s).has_value();
}

bool network_contains(std::string_view network, std::string_view address) {
  if (network == "any") return true;
  const auto net = parse_network(network);
  const auto addr = parse_address(address);
  if (!net || !addr || net->base.family != addr->family) return false;
  return same_leading_bits(net->base, *addr, net->prefix);
}

std::optional<NetworkIdentity> network_identity(std::string_view s) {
  if (s == "any") s = "0.0.0.0/0";
  const auto net = parse_network(s);
  if (!net) return std::nullopt;
  NetworkIdentity identity{};
  identity[0] = static_cast<char>(net->base.family == AF_INET ? 4 : 6);
  identity[1] = static_cast<char>(net->prefix);
  for (int bit = 0; bit < net->prefix; bit += 8) {
    const auto i = static_cast<std::size_t>(bit / 8);
    const int kept = std::min(8, net->prefix - bit);
    identity[2 + i] = static_cast<char>(net->base.bytes[i] & static_cast<unsigned char>(0xff << (8 - kept)));
  }
  return identity;
}

}  // namespace keyreq::rules
