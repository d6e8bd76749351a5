#pragma once
// The same validation as resolver/core/response_parser.cpp (every MUST rule of
// SPEC §4, in docs/rules.md order, with the same field predicates from
// resolver/core/field_rules.hpp) but over nlohmann_json: the reference the
// simdjson validator must beat by 5x (DESIGN.md targets). Benchmark code, not
// a second oracle: edges nlohmann cannot see after parsing (`-0` for error,
// numbers beyond a double) are not told apart; bench/tests checks the two
// agree on realistic answers.
#include <string_view>

#include "resolver/core/response_parser.hpp"

namespace keyreq::bench {

ResponseVerdict validate_with_nlohmann(std::string_view output, const Request& request);

}  // namespace keyreq::bench
