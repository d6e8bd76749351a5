#include "conformance/fuzz_run.hpp"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <optional>
#include <set>
#include <sstream>

#include "conformance/compare.hpp"
#include "conformance/shrink.hpp"
#include "conformance/transport.hpp"

namespace keyreq::conformance {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

void fnv(std::uint64_t& h, std::string_view bytes) {
  for (char c : bytes) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ull;
  }
  h ^= 0xff;
  h *= 0x100000001b3ull;
}

void write_file(const fs::path& p, std::string_view bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string request_token(const OracleRequest& r) {
  std::string v = r.value;
  for (char& c : v) {
    if (c == ':') c = '-';
  }
  return r.kind + "_" + v;
}

std::string family_token(const std::string& family) {
  std::string f = family;
  for (char& c : f) {
    if (c == ':') c = '-';
  }
  return f;
}

}  // namespace

std::string corpus_name(const std::string& label, const Case& c, const std::string& tag) {
  const std::string verdict = label == "accept" ? "y" : label == "decline" ? "d" : "n_" + label;
  return verdict + "_" + family_token(c.family) + "_" + request_token(c.request) + "_" + tag + ".json";
}

FuzzReport run_fuzz(const FuzzOptions& options) {
  FuzzReport report;
  report.seed = options.seed;
  report.fingerprint = 0xcbf29ce484222325ull;
  const auto start = Clock::now();

  InProcessResolver resolver;
  std::optional<TransportSample> transport;
  if (options.transport_every > 0) {
    transport.emplace(options.replay_program);
    report.transport_note = transport->error().empty() ? transport->describe() : "not run: " + transport->error();
    if (!transport->error().empty()) transport.reset();
  } else {
    report.transport_note = "not run (--transport-every 0)";
  }
  std::set<std::string> accepted_lines[2];  // what the oracle accepted per transport: exec, socket

  const bool corpus = !options.corpus_dir.empty();
  std::set<std::string> example_written;
  if (corpus) fs::create_directories(fs::path(options.corpus_dir) / "examples");

  const auto keep = [&](std::vector<FuzzFinding>& list, FuzzFinding f) {
    if (list.size() < options.max_shrunk) list.push_back(std::move(f));
  };

  for (std::uint64_t i = 0; i < options.cases; ++i) {
    const rc::Shrinkable<Case> shrinkable = case_at(options.seed, i);
    const Case c = shrinkable.value();
    fnv(report.fingerprint, c.request.wire());
    fnv(report.fingerprint, c.output);
    ++report.cases;
    ++report.per_family[c.family];

    const auto t0 = Clock::now();
    const Comparison cmp = compare(resolver, c.request, c.output);
    report.compare_seconds += seconds_since(t0);
    ++report.per_verdict[cmp.oracle.label];

    if (c.intent != "" && c.intent != cmp.oracle.label) {
      ++report.intent_mismatch_count;
      keep(report.intent_mismatches, FuzzFinding{"generator", i, c, c, "intended " + c.intent, cmp.oracle.describe()});
    }

    if (!cmp.agree()) {
      ++report.disagreement_count;
      ++report.per_disagreement["resolver " + cmp.resolver.label + ", oracle " + cmp.oracle.label];
      if (report.disagreements.size() < options.max_shrunk) {
        const std::string want_resolver = cmp.resolver.label, want_oracle = cmp.oracle.label;
        InProcessResolver shrink_resolver;
        const auto still_fails = [&](const Case& k) {
          const Comparison again = compare(shrink_resolver, k.request, k.output);
          return !again.agree() && again.resolver.label == want_resolver && again.oracle.label == want_oracle;
        };
        const Case shrunk = shrink_case(shrinkable, still_fails, options.shrink_budget);
        const Comparison small = compare(shrink_resolver, shrunk.request, shrunk.output);
        FuzzFinding f{"in-process", i, c, shrunk, small.resolver.describe(), small.oracle.describe()};
        if (corpus) {
          const std::string n = std::to_string(report.disagreements.size() + 1);
          const fs::path dir(options.corpus_dir);
          write_file(dir / ("disagreement-" + n + ".json"), shrunk.output);
          write_file(dir / ("disagreement-" + n + ".original.json"), c.output);
          write_file(dir / ("disagreement-" + n + ".txt"),
                     "request: " + escape_for_display(shrunk.request.wire()) + "\nresolver: " + f.resolver +
                         "\noracle: " + f.oracle + "\ncase: seed " + std::to_string(options.seed) + " index " +
                         std::to_string(i) + " (" + c.family + ")\n");
        }
        report.disagreements.push_back(std::move(f));
      }
    }

    if (corpus && cmp.agree() && example_written.insert(cmp.oracle.label + "/" + c.family).second) {
      write_file(fs::path(options.corpus_dir) / "examples" / corpus_name(cmp.oracle.label, c, std::to_string(i)),
                 c.output);
    }

    // A sample through the real transports.
    if (transport && i % options.transport_every == 0 && report.exec_cases < options.transport_max) {
      const Verdict full = cmp.oracle;
      std::optional<Verdict> prefix;
      if (const auto end = first_document_end(c.output); end && *end < c.output.size()) {
        prefix = from_oracle(judge(std::string_view(c.output).substr(0, *end), c.request));
      } else if (end) {
        prefix = full;
      }
      const std::size_t cap = transport->max_output();
      const bool past_cap = c.output.size() > cap;
      // What may reach client.keys: only what the oracle accepts.
      if (full.label == "accept" && !past_cap) accepted_lines[0].insert(keys_line(full.record));
      if (full.label == "accept") accepted_lines[1].insert(keys_line(full.record));
      if (prefix && prefix->label == "accept") accepted_lines[1].insert(keys_line(prefix->record));

      const Verdict by_exec = transport->via_exec(c);
      ++report.exec_cases;
      if (!transport_conforms(by_exec, full, std::nullopt, c.output.size(), cap)) {
        ++report.disagreement_count;
        keep(report.disagreements, FuzzFinding{"exec", i, c, c, by_exec.describe(), full.describe()});
      }
      const Verdict by_socket = transport->via_socket(c);
      ++report.socket_cases;
      if (!transport_conforms(by_socket, full, prefix, c.output.size(), cap)) {
        ++report.disagreement_count;
        keep(report.disagreements,
             FuzzFinding{"socket", i, c, c, by_socket.describe(),
                     full.describe() + (prefix ? " or, up to the first complete document, " + prefix->describe() : "")});
      }
    }

    if (options.progress) options.progress(i + 1, report.disagreement_count);
  }

  // Nothing non-conforming reached client.keys.
  if (transport) {
    for (const auto& [where, line] : transport->keys_lines()) {
      ++report.keys_lines;
      if (!accepted_lines[where == "exec" ? 0 : 1].count(line)) {
        ++report.disagreement_count;
        Case c;
        c.output = line;
        c.family = "client.keys";
        keep(report.disagreements,
             FuzzFinding{"client.keys", 0, c, c, "line in " + where + " client.keys", "no case the oracle accepted"});
      }
    }
    if (const std::string e = transport->reopen_error(); !e.empty()) {
      ++report.disagreement_count;
      Case c;
      c.output = e;
      keep(report.disagreements, FuzzFinding{"client.keys", 0, c, c, "client.keys does not load: " + e, "loads"});
    }
  }
  report.seconds = seconds_since(start);
  return report;
}

void print_report(const FuzzReport& r, std::ostream& out) {
  const auto rate = [](std::uint64_t n, double s) { return s > 0 ? static_cast<double>(n) / s : 0.0; };
  out << "keyreq fuzz: seed " << r.seed << ", " << r.cases << " cases in " << std::fixed << std::setprecision(2)
      << r.seconds << " s (" << std::setprecision(0) << rate(r.cases, r.seconds) << " cases/s overall, "
      << rate(r.cases, r.compare_seconds) << " cases/s resolver+oracle in process)\n";
  out << "  fingerprint " << std::hex << std::setw(16) << std::setfill('0') << r.fingerprint << std::dec
      << std::setfill(' ') << "\n";
  out << "  oracle verdicts:";
  for (const char* label : {"accept", "decline", "D1", "D2", "E1", "S1", "S2", "S3", "S4", "S5", "C1", "C2"}) {
    const auto it = r.per_verdict.find(label);
    out << " " << label << "=" << (it == r.per_verdict.end() ? 0 : it->second);
  }
  out << "\n  generators:";
  for (const auto& [family, n] : r.per_family) out << " " << family << "=" << n;
  out << "\n  transports: " << r.exec_cases << " exec, " << r.socket_cases << " socket, " << r.keys_lines
      << " client.keys lines checked (" << r.transport_note << ")\n";
  out << "  generator/oracle mismatches: " << r.intent_mismatch_count << "\n";
  for (const auto& f : r.intent_mismatches) {
    out << "    case " << f.index << " (" << f.original.family << ") " << f.resolver << ", oracle " << f.oracle
        << "\n      request " << escape_for_display(f.original.request.wire()) << "\n      output  "
        << escape_for_display(f.original.output) << "\n";
  }
  out << "  disagreements: " << r.disagreement_count;
  if (!r.per_disagreement.empty()) {
    out << " (in process:";
    for (const auto& [pair, n] : r.per_disagreement) out << " [" << pair << "] x" << n;
    out << ")";
  }
  out << "\n";
  for (const auto& f : r.disagreements) {
    out << "    [" << f.where << "] case " << f.index << " (" << f.original.family << ")\n"
        << "      request  " << escape_for_display(f.shrunk.request.wire()) << "\n"
        << "      output   " << escape_for_display(f.shrunk.output) << "\n";
    if (f.shrunk.output != f.original.output) {
      out << "      (shrunk from " << f.original.output.size() << " bytes: "
          << escape_for_display(f.original.output.substr(0, 300)) << (f.original.output.size() > 300 ? "..." : "")
          << ")\n";
    }
    out << "      resolver " << f.resolver << "\n      oracle   " << f.oracle << "\n";
  }
  out << (r.ok() ? "PASS" : "FAIL") << ": " << r.disagreement_count << " disagreements\n";
}

}  // namespace keyreq::conformance
