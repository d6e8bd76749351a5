#pragma once
// Provider answers for differential fuzzing (RapidCheck generators, so every
// case shrinks): valid answers across the rule space, one-rule violations just
// past each boundary, several violations at once (the verdict is the first in
// docs/rules.md order), and structural mutations of valid answers.
#include <rapidcheck.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "conformance/oracle.hpp"

namespace keyreq::conformance {

struct Case {
  OracleRequest request;  // the request the output answers
  std::string output;     // the provider's output bytes
  std::string family;     // the generator: "valid", "decline", "violation", "multi", "mutation:<kind>"
  // What the generator meant the verdict to be: "accept", "decline", a rule id,
  // or "" when it cannot know (a random byte flip). The oracle must agree.
  std::string intent;
};

// One generator per family; gen_case() mixes them as `keyreq fuzz` draws them.
rc::Gen<OracleRequest> gen_request();
rc::Gen<Case> gen_valid_case();
rc::Gen<Case> gen_decline_case();
rc::Gen<Case> gen_violation_case();                  // any rule
rc::Gen<Case> gen_violation_case(std::string rule);  // that rule ("D1" … "C2")
rc::Gen<Case> gen_multi_violation_case();
rc::Gen<Case> gen_mutation_case();
rc::Gen<Case> gen_case();

// The rule ids gen_violation_case(rule) knows.
const std::vector<std::string>& violation_rules();

// Case number `index` of run `seed`: the same pair always gives the same case,
// whatever ran before (a case is generated from its own Random).
rc::Shrinkable<Case> case_at(std::uint64_t seed, std::uint64_t index);

// --- building blocks, exposed for tests -----------------------------------

// Text of an IPv6 address; compress_at/compress_len name the zero groups "::"
// replaces (compress_len 0: none); v4_tail writes the last 32 bits as a dotted
// quad; width pads each hex group with leading zeros to that many digits.
std::string ipv6_text(const std::array<std::uint8_t, 16>& bytes, int compress_at, int compress_len, bool v4_tail,
                      bool upper, int width);
std::string ipv4_text(const std::array<std::uint8_t, 16>& bytes);  // first 4 bytes

// A JSON string literal for `s` (UTF-8) with the minimal escapes.
std::string json_quote(std::string_view s);

// Where the valid answer's fields come from; the valid generator combines these.
rc::Gen<std::string> gen_agent_id();
rc::Gen<std::string> gen_agent_name();
rc::Gen<std::string> gen_agent_key();
rc::Gen<std::string> gen_agent_ip();                                // any S4 value
rc::Gen<std::string> gen_network_covering(const OracleRequest& r);  // a C2-valid value for an ip request

}  // namespace keyreq::conformance
