#pragma once
// Judging one exchange: the transport outcome (exit status, signal, timeout,
// size), the MUST rules of SPEC §4 through the resolver's ResponseParser, the
// SHOULD rules E3, E4, S6 (not in the resolver: checked here), and the exact
// dataset match.
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "conformance/certify/certificate.hpp"
#include "dataset/dataset.hpp"
#include "resolver/core/request.hpp"

namespace keyreq::certify {

struct Expectation {
  enum class Kind {
    known_agent,        // a well-formed request for a dataset agent: its exact record
    unknown_agent,      // a well-formed request for an agent not in the dataset: a decline
    malformed,          // a request the resolver never sends: a decline, never a success
    record_or_decline,  // another spelling of a dataset agent's address: its exact record, or a decline
  };
  Kind kind = Kind::known_agent;
  fixtures::DatasetAgent agent;  // known_agent: the record expected
  bool sql_payload = false;      // malformed: the value is an SQL injection attempt
};

// The request the answer is checked against (C1/C2). For malformed requests
// it is built as sent, without validation.
Request as_request(std::string_view kind_word, std::string_view value);

// Every finding the exchange deserves; empty when it is fine.
std::vector<Finding> judge(const Exchange& exchange, const Request& request, const Expectation& expect,
                           std::chrono::milliseconds timeout);

// SHOULD rules E3, E4, S6 on an output that passed D1, D2 and E1.
std::vector<Finding> should_findings(std::string_view output);

}  // namespace keyreq::certify
