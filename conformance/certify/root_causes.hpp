#pragma once
// Findings grouped by root cause: one entry per rule (and level), with its
// count, the probes it showed in, the first examples and, where the cause is
// recognisable, a hint. The console and certificate.md print these; the
// full detail stays in certificate.json.
#include <string>
#include <vector>

#include "conformance/certify/certificate.hpp"

namespace keyreq::certify {

struct RootCauseExample {
  const ProbeResult* probe = nullptr;
  const Finding* finding = nullptr;
};

struct RootCause {
  std::string rule;
  Level level = Level::must;
  std::size_t count = 0;                   // findings with this rule
  std::size_t probes = 0;                  // probes with at least one
  std::vector<RootCauseExample> examples;  // the first few, in probe order
  std::string hint;                        // "" when nothing is recognised
};

// MUST rules first, then SHOULD; within a level the most frequent first.
std::vector<RootCause> root_causes(const Certificate& cert, std::size_t examples_per_rule = 3);

// A hint for a recognisable cause of the finding, "" otherwise. `evidence`
// is the probe's first exchange, if any.
std::string hint_for(const Finding& finding, const Exchange* evidence);

}  // namespace keyreq::certify
