#pragma once
// `keyreq fuzz`: differential conformance of the resolver against the oracle.
// Each case is judged in process by both; a sample also goes through the real
// exec and socket transports into a real client.keys, which must end up
// holding nothing the oracle did not accept. Disagreements are shrunk.
#include <cstdint>
#include <functional>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "conformance/generators.hpp"

namespace keyreq::conformance {

struct FuzzOptions {
  std::uint64_t cases = 10000;
  std::uint64_t seed = 1;
  std::string corpus_dir;               // "": write no files
  std::uint64_t transport_every = 200;  // every Nth case also through exec and socket; 0: none
  std::uint64_t transport_max = 200;    // at most this many cases through each transport
  std::string replay_program;           // "": keyreq-replay-provider found beside the binary
  std::size_t shrink_budget = 20000;    // predicate calls per shrunk disagreement
  std::size_t max_shrunk = 10;          // disagreements shrunk and kept in full
  // Called after every case with (cases done, disagreements so far): the
  // command draws its progress line from it.
  std::function<void(std::uint64_t, std::uint64_t)> progress;
};

struct FuzzFinding {
  std::string where;  // "in-process", "exec", "socket", "client.keys", "generator"
  std::uint64_t index = 0;
  Case original;
  Case shrunk;           // == original when not shrunk
  std::string resolver;  // the resolver's verdict (or what it did)
  std::string oracle;    // the oracle's verdict (or what was expected)
};

struct FuzzReport {
  std::uint64_t seed = 0;
  std::uint64_t cases = 0;
  double seconds = 0;                                // whole run
  double compare_seconds = 0;                        // in-process resolver + oracle only
  std::map<std::string, std::uint64_t> per_verdict;  // oracle verdict: accept, decline, D1 … C2
  std::map<std::string, std::uint64_t> per_family;   // generator family
  std::uint64_t exec_cases = 0, socket_cases = 0;
  std::uint64_t keys_lines = 0;  // client.keys entries checked
  std::string transport_note;    // how the transports ran, or why they could not
  std::uint64_t disagreement_count = 0;
  std::map<std::string, std::uint64_t> per_disagreement;  // "resolver D1, oracle D2" -> count (in process)
  std::uint64_t intent_mismatch_count = 0;
  std::vector<FuzzFinding> disagreements;      // the first few, shrunk
  std::vector<FuzzFinding> intent_mismatches;  // the first few
  std::uint64_t fingerprint = 0;               // FNV-1a of every case: same seed, same value
  bool ok() const { return disagreement_count == 0 && intent_mismatch_count == 0; }
};

FuzzReport run_fuzz(const FuzzOptions& options);

// Rate, counts per verdict and family, transports, then every finding kept,
// escaped so that any byte shows.
void print_report(const FuzzReport& report, std::ostream& out);

// JSONTestSuite-style file name for a case: y_ (registers), d_ (declined),
// n_<rule>_ (refused), then the family and the request ("id_001",
// "ip_10.0.0.1", IPv6 with '-' for ':'), then a tag.
std::string corpus_name(const std::string& verdict_label, const Case& c, const std::string& tag);

}  // namespace keyreq::conformance
