#pragma once
// Provider answers (SPEC §4) parsed with simdjson On-Demand and checked against
// every MUST rule: D1, D2, E1, E2, S1–S5, C1, C2. docs/rules.md gives the exact
// reading of each rule and the order in which they are checked.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <variant>

#include "resolver/core/agent.hpp"
#include "resolver/core/request.hpp"

namespace keyreq {

struct ProviderDecline {  // E2: error != 0
  std::int64_t code;
  std::string message;  // the provider's message, escaped for logs ("" when absent)
};

struct RuleViolation {
  std::string rule;    // "D1", "S3", ...
  std::string detail;  // what was wrong, offending value escaped for logs
};

using ResponseVerdict = std::variant<AgentRecord, ProviderDecline, RuleViolation>;

// Not thread-safe: one parser per thread (it owns simdjson buffers).
class ResponseParser {
 public:
  ResponseParser();
  ~ResponseParser();
  ResponseParser(ResponseParser&&) noexcept;
  ResponseParser& operator=(ResponseParser&&) noexcept;

  ResponseVerdict parse(std::string_view output, const Request& request);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace keyreq
