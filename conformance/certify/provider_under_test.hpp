#pragma once
// The provider under test, with the run's shared bookkeeping: the stop after
// repeated failures (a provider that hangs keeps the run bounded), the
// timings and exit statuses of well-formed requests, stderr use, split
// replies, and the serial answers the parallel probes compare with.
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "conformance/certify/certificate.hpp"
#include "conformance/certify/certifier.hpp"
#include "conformance/certify/socket_probe.hpp"
#include "resolver/core/request.hpp"

namespace keyreq::certify {

// What the transport probes report about the answers to well-formed
// requests, taken together under one lock (a consistent snapshot).
struct AnswerTally {
  std::map<int, std::size_t> exit_codes;  // exec: exit status -> calls
  std::size_t stderr_calls = 0;           // exec answers with text on stderr
  std::optional<Exchange> stderr_example;
  std::size_t split_replies = 0;  // socket replies that came in more than one piece
  std::size_t socket_replies = 0;
  std::optional<Exchange> split_example;
};

class ProviderUnderTest {
 public:
  explicit ProviderUnderTest(const CertifyOptions& o) : o_(o) {}

  bool exec() const { return o_.transport == Transport::exec; }
  const CertifyOptions& options() const { return o_; }

  bool stopped() const { return failures_.load() >= kStopAfterFailures; }
  std::string stop_reason() const;

  // One exchange. `counts`: a timeout or a start failure counts towards the stop.
  Exchange run_exec(const std::vector<std::string>& tail, bool counts = true);
  Exchange run_socket(SocketScript script, bool counts = true);
  // A well-formed request, sent the way the resolver sends it.
  Exchange request(const Request& r, bool counts = true);

  // Bookkeeping for an answer to a well-formed request.
  void note_well_formed(const Exchange& ex);
  // The MUST rules a serial call of this request broke ("" when none).
  void note_serial(const Request& request, const std::vector<Finding>& findings);
  std::optional<std::string> serial_rules(const Request& request) const;
  void note_split_reply(const Exchange& ex);

  TimingSummary timing() const;
  AnswerTally tally() const;

 private:
  void account(const Exchange& ex);

  const CertifyOptions& o_;
  std::atomic<int> failures_{0};
  mutable std::mutex mutex_;
  std::vector<std::chrono::nanoseconds> timings_;
  AnswerTally tally_;
  std::map<std::string, std::string> serial_;
};

// A socket run as an Exchange of the certificate (what was sent, what came back).
Exchange exchange_of(const SocketRun& run, const SocketScript& script);

// The MUST rule ids among findings, sorted, space-separated ("" when none).
std::string must_rules(const std::vector<Finding>& findings);

}  // namespace keyreq::certify
