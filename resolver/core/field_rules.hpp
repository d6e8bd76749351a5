#pragma once
// The per-field rules of SPEC §4 (S2–S5, C2) as plain predicates, shared by
// request parsing and the response validator. The conformance oracle
// deliberately does NOT use these.
#include <array>
#include <optional>
#include <string_view>

namespace keyreq::rules {

bool is_agent_id(std::string_view s);    // S2: 3 to 8 ASCII digits
bool is_agent_name(std::string_view s);  // S3: 1..128 of A-Z a-z 0-9 - _ .
bool is_agent_key(std::string_view s);   // S5: 1..128 printable ASCII, no edge spaces
bool is_ip_address(std::string_view s);  // IPv4 or IPv6 address, no prefix
bool is_agent_ip(std::string_view s);    // S4: any | address[/prefix | /dotted netmask]
// C2: true when network (an S4 value) is "any" or contains address (an is_ip_address value).
bool network_contains(std::string_view network, std::string_view address);

// What makes two S4 values the same ip for client.keys uniqueness (SPEC §5):
// 18 bytes (family 4 or 6, prefix length, the network's 16 bytes with the host
// bits cleared), so "FE80::1", "fe80:0::0001" and "fe80::1/128" are one
// address and "10.0.0.5/24" and "10.0.0.0/255.255.255.0" one network.
// "any" is 0.0.0.0/0. nullopt when `s` is not an S4 value.
using NetworkIdentity = std::array<char, 18>;
std::optional<NetworkIdentity> network_identity(std::string_view s);

}  // namespace keyreq::rules
