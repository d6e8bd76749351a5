#pragma once
// The rule oracle: a second, deliberately plain implementation of SPEC §4 as
// docs/rules.md reads it, on nlohmann_json (SAX) plus hand-written checks.
// It never calls nor copies the resolver's validator (resolver/field_rules,
// resolver/response_parser): `keyreq fuzz` compares the two answer by answer.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace keyreq::conformance {

// The request an answer is judged against: kind "id" or "ip", value without prefix.
struct OracleRequest {
  std::string kind;
  std::string value;
  std::string wire() const { return kind + ":" + value; }
  bool operator==(const OracleRequest&) const = default;
};

struct OracleAccept {  // every MUST rule holds: the record to register
  std::string id, name, ip, key;
  bool operator==(const OracleAccept&) const = default;
};
struct OracleDecline {  // E2: error != 0
  std::int64_t code = 0;
  std::string message;  // unescaped; "" when absent or not a string
};
struct OracleRefuse {  // the first MUST rule that fails, in docs/rules.md order
  std::string rule;
  std::string detail;
};
using OracleVerdict = std::variant<OracleAccept, OracleDecline, OracleRefuse>;

// The rule order of docs/rules.md: D1 D2 E1 (E2) S1 S2 S3 S4 S5 C1 C2.
// Index of a rule id in that order; "accept" and "decline" sort after all.
int rule_rank(std::string_view rule);

// Judges a provider's output bytes answering `request` (assumed valid).
OracleVerdict judge(std::string_view output, const OracleRequest& request);

// "accept", "decline" or the rule id.
std::string verdict_label(const OracleVerdict& v);

// Parses a request datagram (SPEC §2, docs/rules.md "Requests"): one trailing
// "\n" or "\r\n" stripped, then "id:" 3-8 digits or "ip:" an address.
std::optional<OracleRequest> parse_request_bytes(std::string_view bytes);

// --- the plain field checks, exposed for tests ---------------------------

bool valid_utf8(std::string_view bytes);
bool is_id(std::string_view s);    // S2
bool is_name(std::string_view s);  // S3
bool is_key(std::string_view s);   // S5

// An address or network as S4 reads it.
struct Network {
  int family = 0;                        // 4 or 6
  std::array<std::uint8_t, 16> bytes{};  // IPv4 uses the first 4
  int prefix = 0;                        // bits that must match (32 / 128 without prefix)
  bool any = false;                      // the word "any" (covers both families)
};

std::optional<std::array<std::uint8_t, 4>> parse_ipv4(std::string_view s);   // dotted quad, inet_pton(AF_INET)
std::optional<std::array<std::uint8_t, 16>> parse_ipv6(std::string_view s);  // inet_pton(AF_INET6) forms
// An address without prefix: family 4 or 6, prefix 32 or 128.
std::optional<Network> parse_address(std::string_view s);
// S4: "any" | address | address/prefix | ipv4/dotted-netmask.
std::optional<Network> parse_network(std::string_view s);
// C2: `network` (an S4 value) is "any" or a same-family network holding `address`.
bool network_covers(const Network& network, const Network& address);

// Bytes made printable for a terminal or a report: printable ASCII as is
// (backslash doubled), everything else as \n \r \t \0 or \xHH. No length cap.
std::string escape_for_display(std::string_view bytes);

}  // namespace keyreq::conformance
