#include "conformance/certify/certificate.hpp"

#include <string.h>

#include <cstdio>

#include "resolver/platform/number_format.hpp"

namespace keyreq::certify {
namespace {

std::string signal_name(int sig) {
  const char* abbrev = ::sigabbrev_np(sig);
  return abbrev ? std::string("SIG") + abbrev : "signal " + std::to_string(sig);
}

std::string millis(std::chrono::nanoseconds d) {
  return format::fixed(std::chrono::duration<double, std::milli>(d).count(), 0) + " ms";
}

}  // namespace

std::string Exchange::outcome() const {
  if (skipped) return "not run";
  if (!started) return (transport == Transport::exec ? "could not start: " : "could not connect: ") + start_error;
  std::string s;
  if (transport == Transport::exec) {
    if (timed_out) {
      s = "timed out after " + millis(elapsed);
      if (stdout_held_open) s += " (it exited, but a process it left held stdout open)";
      if (ignored_sigterm)
        s += "; ignored SIGTERM, killed with SIGKILL";
      else if (signal != 0)
        s += "; stopped by " + signal_name(signal);
      return s;
    }
    if (too_large) return "stdout exceeded 65536 bytes (" + std::to_string(output_total) + "+ bytes), stopped";
    if (signal != 0) return "killed by " + signal_name(signal);
    return "exit " + std::to_string(exit_code);
  }
  if (timed_out) {
    return "timed out after " + millis(elapsed) + " (" + std::to_string(output.size()) + " bytes received)";
  }
  if (too_large) return "reply exceeded 65536 bytes, stopped reading";
  if (!io_error.empty()) return io_error;
  if (reset) return "connection reset by the provider";
  std::string end = eof ? "connection closed by the provider" : "complete JSON document read";
  if (reply_pieces > 1) end += ", reply in " + std::to_string(reply_pieces) + " pieces over " + millis(reply_span);
  return end;
}

ProbeStatus ProbeResult::status() const {
  if (!skip_reason.empty() && findings.empty()) return ProbeStatus::skipped;
  if (has_must()) return ProbeStatus::fail;
  if (!findings.empty()) return ProbeStatus::warn;
  return ProbeStatus::pass;
}

bool ProbeResult::has_must() const {
  for (const auto& f : findings)
    if (f.level == Level::must) return true;
  return false;
}

bool Certificate::certified() const { return must_findings() == 0; }

std::size_t Certificate::count(ProbeStatus status) const {
  std::size_t n = 0;
  for (const auto& p : probes)
    if (p.status() == status) ++n;
  return n;
}

std::size_t Certificate::findings_at(Level level) const {
  std::size_t n = 0;
  for (const auto& p : probes)
    for (const auto& f : p.findings)
      if (f.level == level) ++n;
  return n;
}

std::size_t Certificate::must_findings() const { return findings_at(Level::must); }
std::size_t Certificate::should_findings() const { return findings_at(Level::should); }

std::string_view to_string(ProbeStatus s) {
  switch (s) {
    case ProbeStatus::pass: return "pass";
    case ProbeStatus::warn: return "warn";
    case ProbeStatus::fail: return "fail";
    case ProbeStatus::skipped: return "skipped";
  }
  return "?";
}

std::string_view to_string(Level l) { return l == Level::must ? "MUST" : "SHOULD"; }

std::string_view to_string(Transport t) { return t == Transport::exec ? "exec" : "socket"; }

}  // namespace keyreq::certify
