#pragma once
// Resolver against oracle for one case: both verdicts in one comparable shape.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "conformance/generators.hpp"
#include "conformance/oracle.hpp"
#include "resolver/resolve/outcome.hpp"

namespace keyreq::conformance {

// A verdict either side gave: "accept" (+ record), "decline" (+ code and
// message as the resolver logs it), a rule id, or what else the resolver
// answered ("provider_failure:output_too_large", "conflict", ...).
struct Verdict {
  std::string label;
  OracleAccept record;           // accept
  std::int64_t code = 0;         // decline
  std::string message;           // decline: escaped for logs, as the resolver keeps it
  std::string detail;            // refusals: the reason given (not compared)
  std::string describe() const;  // one line, escaped
};

Verdict from_oracle(const OracleVerdict& v);
Verdict from_outcome(const Outcome& o);

// Same verdict: labels, and the record for accepts, code and message for declines.
bool same_verdict(const Verdict& a, const Verdict& b);

// Runs the resolver in process (validate only, no keystore) on a case.
class InProcessResolver {
 public:
  InProcessResolver();
  ~InProcessResolver();
  Verdict judge(const OracleRequest& request, std::string_view output);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

struct Comparison {
  Verdict resolver;
  Verdict oracle;
  bool agree() const { return same_verdict(resolver, oracle); }
};

Comparison compare(InProcessResolver& resolver, const OracleRequest& request, std::string_view output);

}  // namespace keyreq::conformance
