#pragma once
// The result model of `keyreq certify`: probes, their findings and the
// exchanges that back them. Every report format (console, JSON, Markdown,
// JUnit) is a writer over this one model (report.hpp).
#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

namespace keyreq::certify {

enum class Transport { exec, socket };

// MUST findings block certification; SHOULD findings are warnings.
enum class Level { must, should };

struct Finding {
  std::string rule;  // a SPEC §4 rule id (D1 … C2, E3, E4, S6) or a certification rule (docs/certify.md)
  Level level = Level::must;
  std::string message;  // one line: what is wrong, offending values escaped
};

// One exchange with the provider, raw: what was sent and what came back.
struct Exchange {
  Transport transport = Transport::exec;
  // sent
  std::vector<std::string> argv;       // exec: the whole argv
  std::vector<std::string> pieces;     // socket: the request bytes, one entry per write (none: empty connection)
  std::chrono::milliseconds pause{0};  // socket: between two pieces
  bool half_close = false;             // socket: shutdown(SHUT_WR) after the request
  // came back
  bool started = false;     // exec: the process started; socket: connected
  std::string start_error;  // why not
  std::string output;       // stdout / the reply, as received (capped just past 64 KiB)
  std::size_t output_total = 0;
  std::string stderr_bytes;  // exec only, capped
  std::size_t stderr_total = 0;
  int exit_code = -1;  // exec: exit status when it exited
  int signal = 0;      // exec: the signal that ended it
  bool timed_out = false;
  bool ignored_sigterm = false;   // exec: SIGKILL was needed after SIGTERM
  bool stdout_held_open = false;  // exec: exited, a process it left held stdout
  bool too_large = false;
  bool eof = false;                        // socket: the provider closed the connection
  bool reset = false;                      // socket: connection reset
  std::string io_error;                    // socket: write or read error
  std::size_t reply_pieces = 0;            // socket: recv calls that returned data
  std::chrono::nanoseconds reply_span{0};  // socket: first to last piece
  std::chrono::nanoseconds elapsed{0};
  bool skipped = false;  // not made: the run had stopped calling the provider

  double seconds() const { return std::chrono::duration<double>(elapsed).count(); }
  // "exit 0", "killed by SIGSEGV", "timed out", "connection closed", ... one phrase.
  std::string outcome() const;
};

enum class ProbeStatus { pass, warn, fail, skipped };

struct ProbeResult {
  std::string id;     // "smoke.known-id", "adversarial.id.sqli-short-or": the JUnit test name
  std::string group;  // "smoke", "dataset", "adversarial", "parallel", "exec", "socket", "timing"
  std::string title;  // what the probe checks, one line
  std::vector<Finding> findings;
  std::vector<Exchange> evidence;  // the exchanges behind the findings (at most a few)
  std::vector<std::string> notes;  // informational lines (counts, timings)
  std::string skip_reason;
  double seconds = 0;

  ProbeStatus status() const;
  bool has_must() const;
};

struct TimingSummary {
  std::size_t calls = 0;  // answered calls of well-formed requests
  double median_ms = 0, p99_ms = 0, max_ms = 0;
  std::size_t near_timeout = 0;  // calls that took at least half the timeout
};

struct Certificate {
  std::string keyreq_version;
  std::string started_at;  // UTC, ISO 8601
  Transport transport = Transport::exec;
  std::string provider;  // the --exec command line or the --socket path
  std::string dataset;   // path
  std::size_t dataset_agents = 0;
  double timeout_seconds = 0;
  unsigned parallel = 0;
  std::vector<ProbeResult> probes;
  TimingSummary timing;
  double seconds = 0;

  bool certified() const;  // no MUST finding anywhere
  std::size_t count(ProbeStatus status) const;
  std::size_t must_findings() const;
  std::size_t should_findings() const;
  std::size_t findings_at(Level level) const;  // over every probe
};

std::string_view to_string(ProbeStatus s);
std::string_view to_string(Level l);
std::string_view to_string(Transport t);

}  // namespace keyreq::certify
