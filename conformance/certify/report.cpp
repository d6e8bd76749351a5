#include "conformance/certify/report.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "conformance/certify/quoting.hpp"
#include "conformance/certify/root_causes.hpp"
#include "resolver/platform/atomic_file.hpp"
#include "resolver/platform/escape.hpp"
#include "resolver/platform/number_format.hpp"

namespace keyreq::certify {
using format::fixed;

namespace {

constexpr std::size_t kShownBytes = 512;

std::string socket_path(const Certificate& cert) {
  return cert.transport == Transport::socket ? cert.provider : std::string();
}

std::string status_word(ProbeStatus s) {
  switch (s) {
    case ProbeStatus::pass: return "PASS";
    case ProbeStatus::warn: return "WARN";
    case ProbeStatus::fail: return "FAIL";
    case ProbeStatus::skipped: return "SKIP";
  }
  return "?";
}

// "exit 0, stdout 131 bytes" and the like: the outcome plus sizes.
std::string came_back(const Exchange& ex) {
  std::string s = ex.outcome();
  if (ex.skipped || !ex.started) return s;
  s += ex.transport == Transport::exec ? ", stdout " : ", reply ";
  s += std::to_string(ex.output_total) + " bytes";
  if (ex.transport == Transport::exec) s += ", stderr " + std::to_string(ex.stderr_total) + " bytes";
  s += ", " + fixed(ex.seconds() * 1000, 1) + " ms";
  return s;
}

// Rule counts like "SQLI x3, REQUEST x1".
std::string rule_counts(const Certificate& cert, Level level) {
  std::map<std::string, int> counts;
  for (const auto& p : cert.probes)
    for (const auto& f : p.findings)
      if (f.level == level) ++counts[f.rule];
  std::string out;
  for (const auto& [rule, n] : counts) out += (out.empty() ? "" : ", ") + rule + " x" + std::to_string(n);
  return out;
}

std::string provider_line(const Certificate& cert) {
  return std::string(to_string(cert.transport)) + " " + cert.provider;
}

std::string timing_line(const Certificate& cert) {
  const auto& t = cert.timing;
  if (t.calls == 0) return "no well-formed request was answered";
  return std::to_string(t.calls) + " answered well-formed calls: median " + fixed(t.median_ms, 1) + " ms, p99 " +
         fixed(t.p99_ms, 1) + " ms, max " + fixed(t.max_ms, 1) + " ms; " + std::to_string(t.near_timeout) +
         " at or above half the timeout";
}

// Plain-text evidence block, each line prefixed.
std::string evidence_text(const Exchange& ex, const Certificate& cert, const std::string& prefix) {
  std::string s;
  s += prefix + "sent:   " + describe_sent(ex) + "\n";
  s += prefix + "got:    " + came_back(ex) + "\n";
  if (ex.started && !ex.skipped) {
    s += prefix + (ex.transport == Transport::exec ? "stdout: " : "reply:  ") + "\"" + shown(ex.output, kShownBytes) +
         "\"\n";
    if (ex.stderr_total > 0) s += prefix + "stderr: \"" + shown(ex.stderr_bytes, 256) + "\"\n";
  }
  s += prefix + "repro:  " + reproduce(ex, socket_path(cert)) + "\n";
  return s;
}

bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    if (n == 2 && c < 0xc2) return false;  // overlong
    for (std::size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 0x2) return false;
    i += n;
  }
  return true;
}

// Bytes for a JSON string: as they are when they are UTF-8 (JSON escapes
// the control characters), escaped like the console otherwise; cut at max.
std::string json_text(std::string_view bytes, std::size_t max) {
  std::string_view cut = bytes.substr(0, std::min(bytes.size(), max));
  for (int trim = 0; trim < 3 && !valid_utf8(cut) && !cut.empty(); ++trim) cut.remove_suffix(1);
  if (!valid_utf8(cut)) return shown(bytes, max);
  std::string out(cut);
  if (cut.size() < bytes.size()) out += "...(" + std::to_string(bytes.size()) + " bytes)";
  return out;
}

nlohmann::json exchange_json(const Exchange& ex, const Certificate& cert) {
  nlohmann::json j;
  nlohmann::json sent;
  if (ex.transport == Transport::exec) {
    sent["argv"] = nlohmann::json::array();
    for (const auto& w : ex.argv) sent["argv"].push_back(json_text(w, kShownBytes));
  } else {
    sent["pieces"] = nlohmann::json::array();
    for (const auto& p : ex.pieces) sent["pieces"].push_back(json_text(p, kShownBytes));
    if (ex.pieces.size() > 1) sent["pause_ms"] = ex.pause.count();
    sent["half_close"] = ex.half_close;
  }
  sent["text"] = describe_sent(ex);
  j["sent"] = sent;
  j["outcome"] = ex.outcome();
  if (ex.started && !ex.skipped) {
    j["output"] = json_text(ex.output, kShownBytes);
    j["output_bytes"] = ex.output_total;
    if (ex.transport == Transport::exec) {
      j["exit_code"] = ex.exit_code >= 0 ? nlohmann::json(ex.exit_code) : nlohmann::json(nullptr);
      j["signal"] = ex.signal;
      j["stderr"] = json_text(ex.stderr_bytes, 256);
      j["stderr_bytes"] = ex.stderr_total;
    } else {
      j["reply_pieces"] = ex.reply_pieces;
    }
    j["timed_out"] = ex.timed_out;
    j["milliseconds"] = ex.seconds() * 1000;
  }
  j["reproduce"] = reproduce(ex, socket_path(cert));
  return j;
}

// Markdown inline code that survives backquotes in the text.
std::string md_code(const std::string& s) {
  std::string fence = "`";
  while (s.find(fence) != std::string::npos) fence += "`";
  const bool pad = !s.empty() && (s.front() == '`' || s.back() == '`');
  return fence + (pad ? " " : "") + s + (pad ? " " : "") + fence;
}

// Text (not code) in Markdown: punctuation that would format or inject HTML
// is backslash-escaped, so provider bytes render as they are.
std::string md_cell(std::string s) {
  std::string out;
  for (char c : s) {
    if (c == '\n')
      out += ' ';
    else if (std::string_view("\\`*_[]<>|#&").find(c) != std::string_view::npos)
      out += std::string("\\") + c;
    else
      out += c;
  }
  return out;
}

// Code in a table cell: a code span whose pipes do not end the cell.
std::string md_table_code(const std::string& s) { return markdown_table_cell(md_code(s)); }

// A fenced block that no run of backquotes in the text can close.
std::string md_block(const std::string& text) {
  std::size_t longest = 0, run = 0;
  for (char c : text) {
    run = c == '`' ? run + 1 : 0;
    longest = std::max(longest, run);
  }
  const std::string fence(std::max<std::size_t>(3, longest + 1), '`');
  return fence + "\n" + text + fence + "\n";
}

// Every probe with its findings and evidence (-v).
void write_probes(const Certificate& cert, std::ostream& out) {
  for (const auto& p : cert.probes) {
    const ProbeStatus status = p.status();
    out << status_word(status) << " " << p.id << "  (" << p.title << ")\n";
    for (const auto& f : p.findings) {
      out << "     " << (f.level == Level::must ? "MUST   " : "SHOULD ") << "[" << f.rule << "] " << f.message << "\n";
    }
    if (!p.skip_reason.empty()) out << "     " << p.skip_reason << "\n";
    if (status == ProbeStatus::fail || status == ProbeStatus::warn) {
      for (const auto& ex : p.evidence) out << evidence_text(ex, cert, "     ");
    }
    for (const auto& note : p.notes) out << "     note: " << note << "\n";
  }
}

// Each rule once: its count, a hint, the first example with its evidence,
// the next ones by probe id and message.
void write_root_causes(const Certificate& cert, std::ostream& out) {
  for (const auto& rc : root_causes(cert)) {
    out << (rc.level == Level::must ? "MUST   " : "SHOULD ") << "[" << rc.rule << "] " << rc.count
        << (rc.count == 1 ? " finding" : " findings") << " in " << rc.probes << (rc.probes == 1 ? " probe" : " probes")
        << "\n";
    if (!rc.hint.empty()) out << "     hint: " << rc.hint << "\n";
    for (std::size_t i = 0; i < rc.examples.size(); ++i) {
      const auto& [probe, finding] = rc.examples[i];
      out << "     " << probe->id << ": " << finding->message << "\n";
      if (i == 0 && !probe->evidence.empty()) out << evidence_text(probe->evidence.front(), cert, "       ");
    }
    if (rc.probes > rc.examples.size()) {
      out << "     ... and " << rc.probes - rc.examples.size()
          << " more probes (-v lists them; certificate.json has every one)\n";
    }
  }
}

}  // namespace

std::string_view verdict(const Certificate& cert) { return cert.certified() ? "CERTIFIED" : "NOT CERTIFIED"; }

void write_console(const Certificate& cert, std::ostream& out, bool verbose) {
  out << "keyreq certify: " << provider_line(cert) << "\n";
  out << "dataset " << cert.dataset << " (" << cert.dataset_agents << " agents), timeout "
      << fixed(cert.timeout_seconds, 3) << " s, " << cert.parallel << " parallel\n\n";
  if (verbose)
    write_probes(cert, out);
  else
    write_root_causes(cert, out);
  const std::size_t skipped = cert.count(ProbeStatus::skipped);
  out << "\n"
      << cert.probes.size() << " probes: " << cert.count(ProbeStatus::pass) << " pass, "
      << cert.count(ProbeStatus::warn) << " warn, " << cert.count(ProbeStatus::fail) << " fail, " << skipped
      << " skipped, in " << fixed(cert.seconds, 1) << " s\n";
  if (skipped > 0) {
    for (const auto& p : cert.probes) {
      if (p.status() == ProbeStatus::skipped) {
        out << p.skip_reason << "\n";
        break;
      }
    }
  }
  out << "timing: " << timing_line(cert) << "\n";
  out << verdict(cert);
  if (!cert.certified())
    out << ": " << cert.must_findings() << " MUST findings (" << rule_counts(cert, Level::must) << ")";
  if (cert.should_findings() > 0) {
    out << (cert.certified() ? " with " : "; ") << cert.should_findings() << " warnings ("
        << rule_counts(cert, Level::should) << ")";
  }
  out << "\n";
}

nlohmann::json certificate_json(const Certificate& cert) {
  nlohmann::json j;
  j["keyreq_version"] = cert.keyreq_version;
  j["started_at"] = cert.started_at;
  j["verdict"] = verdict(cert);
  j["certified"] = cert.certified();
  j["provider"] = {{"transport", to_string(cert.transport)},
                   {cert.transport == Transport::exec ? "command" : "socket", cert.provider}};
  j["dataset"] = {{"path", cert.dataset}, {"agents", cert.dataset_agents}};
  j["settings"] = {{"timeout_seconds", cert.timeout_seconds}, {"parallel", cert.parallel}};
  j["summary"] = {{"probes", cert.probes.size()},
                  {"pass", cert.count(ProbeStatus::pass)},
                  {"warn", cert.count(ProbeStatus::warn)},
                  {"fail", cert.count(ProbeStatus::fail)},
                  {"skipped", cert.count(ProbeStatus::skipped)},
                  {"must_findings", cert.must_findings()},
                  {"should_findings", cert.should_findings()},
                  {"seconds", cert.seconds}};
  j["timing"] = {{"calls", cert.timing.calls},
                 {"median_ms", cert.timing.median_ms},
                 {"p99_ms", cert.timing.p99_ms},
                 {"max_ms", cert.timing.max_ms},
                 {"near_timeout", cert.timing.near_timeout}};
  nlohmann::json probes = nlohmann::json::array();
  for (const auto& p : cert.probes) {
    nlohmann::json pj;
    pj["id"] = p.id;
    pj["group"] = p.group;
    pj["title"] = p.title;
    pj["status"] = to_string(p.status());
    pj["seconds"] = p.seconds;
    pj["findings"] = nlohmann::json::array();
    for (const auto& f : p.findings) {
      pj["findings"].push_back({{"rule", f.rule}, {"level", to_string(f.level)}, {"message", f.message}});
    }
    if (!p.notes.empty()) pj["notes"] = p.notes;
    if (!p.skip_reason.empty()) pj["skip_reason"] = p.skip_reason;
    pj["evidence"] = nlohmann::json::array();
    for (const auto& ex : p.evidence) pj["evidence"].push_back(exchange_json(ex, cert));
    probes.push_back(std::move(pj));
  }
  j["probes"] = std::move(probes);
  return j;
}

std::string certificate_markdown(const Certificate& cert) {
  std::ostringstream md;
  md << "# keyreq certificate: " << verdict(cert) << "\n\n";
  md << "| | |\n|---|---|\n";
  md << "| provider | " << to_string(cert.transport) << " " << md_table_code(cert.provider) << " |\n";
  md << "| dataset | " << md_table_code(cert.dataset) << " (" << cert.dataset_agents << " agents) |\n";
  md << "| settings | timeout " << fixed(cert.timeout_seconds, 3) << " s, " << cert.parallel << " parallel |\n";
  md << "| run | " << cert.started_at << ", " << fixed(cert.seconds, 1) << " s, keyreq " << cert.keyreq_version
     << " |\n";
  md << "| probes | " << cert.probes.size() << ": " << cert.count(ProbeStatus::pass) << " pass, "
     << cert.count(ProbeStatus::warn) << " warn, " << cert.count(ProbeStatus::fail) << " fail, "
     << cert.count(ProbeStatus::skipped) << " skipped |\n";
  md << "| MUST findings | " << cert.must_findings()
     << (cert.must_findings() ? " (" + rule_counts(cert, Level::must) + ")" : "") << " |\n";
  md << "| warnings | " << cert.should_findings()
     << (cert.should_findings() ? " (" + rule_counts(cert, Level::should) + ")" : "") << " |\n";
  md << "| timing | " << md_cell(timing_line(cert)) << " |\n\n";

  md << (cert.certified() ? "Every MUST rule passed" : "At least one MUST rule failed: the provider is not certified")
     << (cert.should_findings() ? "; warnings are SHOULD rules and do not block certification.\n\n" : ".\n\n");

  const auto causes = root_causes(cert);
  if (!causes.empty())
    md << "## Findings by rule\n\nEach rule once, with its first examples; certificate.json has every finding.\n\n";
  for (const auto& rc : causes) {
    md << "### " << to_string(rc.level) << " " << rc.rule << ": " << rc.count
       << (rc.count == 1 ? " finding" : " findings") << " in " << rc.probes << (rc.probes == 1 ? " probe" : " probes")
       << "\n\n";
    if (!rc.hint.empty()) md << "Hint: " << md_cell(rc.hint) << "\n\n";
    for (std::size_t i = 0; i < rc.examples.size(); ++i) {
      const auto& [probe, finding] = rc.examples[i];
      md << "- `" << probe->id << "` (" << md_cell(probe->title) << "): " << md_cell(finding->message) << "\n";
    }
    md << "\n";
    const auto& first = *rc.examples.front().probe;
    if (!first.evidence.empty()) md << md_block(evidence_text(first.evidence.front(), cert, "")) << "\n";
    if (rc.probes > rc.examples.size()) md << "... and " << rc.probes - rc.examples.size() << " more probes.\n\n";
  }

  md << "## All probes\n\n| probe | status | ms | checks |\n|---|---|---|---|\n";
  for (const auto& p : cert.probes) {
    md << "| `" << p.id << "` | " << status_word(p.status()) << " | " << fixed(p.seconds * 1000, 1) << " | "
       << md_cell(p.title) << " |\n";
  }
  bool skipped_header = false;
  for (const auto& p : cert.probes) {
    if (p.status() != ProbeStatus::skipped) continue;
    if (!skipped_header) md << "\nSkipped: " << md_cell(p.skip_reason) << "\n";
    skipped_header = true;
  }
  md << "\nRules: SPEC §4 (D1 … C2, E3, E4, S6) and the certification rules in docs/certify.md.\n";
  return md.str();
}

std::string junit_xml(const Certificate& cert, bool warnings_as_failures) {
  std::ostringstream x;
  const std::size_t failures =
      cert.count(ProbeStatus::fail) + (warnings_as_failures ? cert.count(ProbeStatus::warn) : 0);
  const std::size_t skipped = cert.count(ProbeStatus::skipped);
  x << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  // junit-10.xsd (Jenkins xunit) allows no "skipped" on <testsuites>, only on <testsuite>.
  x << "<testsuites name=\"keyreq certify\" tests=\"" << cert.probes.size() << "\" failures=\"" << failures
    << "\" errors=\"0\" time=\"" << fixed(cert.seconds, 3) << "\">\n";
  x << "  <testsuite name=\"" << xml_escape("keyreq certify: " + provider_line(cert)) << "\" tests=\""
    << cert.probes.size() << "\" failures=\"" << failures << "\" errors=\"0\" skipped=\"" << skipped << "\" time=\""
    << fixed(cert.seconds, 3) << "\" timestamp=\"" << cert.started_at << "\">\n";
  x << "    <properties>\n";
  auto property = [&](const std::string& name, const std::string& value) {
    x << "      <property name=\"" << xml_escape(name) << "\" value=\"" << xml_escape(value) << "\"/>\n";
  };
  property("verdict", std::string(verdict(cert)));
  property("transport", std::string(to_string(cert.transport)));
  property("provider", cert.provider);
  property("dataset", cert.dataset);
  property("timeout_seconds", fixed(cert.timeout_seconds, 3));
  property("parallel", std::to_string(cert.parallel));
  property("timing", timing_line(cert));
  // Visible without opening any testcase: GitLab hides the output of passing ones.
  property("warnings", cert.should_findings()
                           ? std::to_string(cert.should_findings()) + " (" + rule_counts(cert, Level::should) + ")"
                           : "0");
  x << "    </properties>\n";
  for (const auto& p : cert.probes) {
    x << "    <testcase classname=\"certify." << xml_escape(p.group) << "\" name=\"" << xml_escape(p.id) << "\" time=\""
      << fixed(p.seconds, 3) << "\">\n";
    const ProbeStatus status = p.status();
    std::string details = p.title + "\n";
    for (const auto& f : p.findings)
      details += std::string(to_string(f.level)) + " [" + f.rule + "] " + f.message + "\n";
    for (const auto& ex : p.evidence) details += evidence_text(ex, cert, "  ");
    if (status == ProbeStatus::fail || (status == ProbeStatus::warn && warnings_as_failures)) {
      // the MUST findings of a failed probe; the SHOULD ones of a warning made a failure
      const Level level = status == ProbeStatus::fail ? Level::must : Level::should;
      std::string message, rules = level == Level::should ? "SHOULD" : "";
      for (const auto& f : p.findings) {
        if (f.level != level) continue;
        if (message.empty()) message = "[" + f.rule + "] " + f.message;
        if (rules.find(f.rule) == std::string::npos) rules += (rules.empty() ? "" : " ") + f.rule;
      }
      x << "      <failure message=\"" << xml_escape(message) << "\" type=\"" << xml_escape(rules) << "\">"
        << xml_escape(details) << "</failure>\n";
    } else if (status == ProbeStatus::skipped) {
      x << "      <skipped message=\"" << xml_escape(p.skip_reason) << "\"/>\n";
    } else if (status == ProbeStatus::warn) {
      x << "      <system-out>" << xml_escape("WARNING (SHOULD rules, not blocking)\n" + details) << "</system-out>\n";
    }
    x << "    </testcase>\n";
  }
  x << "  </testsuite>\n</testsuites>\n";
  return x.str();
}

std::string write_text_file(const std::string& path, const std::string& text) {
  return write_file_atomically(path, text).value_or("");
}

std::string write_certificate_files(const Certificate& cert, const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return "cannot create " + dir + ": " + ec.message();
  if (auto e =
          write_text_file(dir + "/certificate.json",
                          certificate_json(cert).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
      !e.empty())
    return e;
  return write_text_file(dir + "/certificate.md", certificate_markdown(cert));
}

}  // namespace keyreq::certify
