#include "conformance/fuzz_run.hpp"

#include <algorithm>
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

// A corpus file name part: ':' (in "ip:::1", "mutation:truncate") becomes '-'.
std::string file_token(std::string text) {
  std::replace(text.begin(), text.end(), ':', '-');
  return text;
}

}  // namespace

std::string corpus_name(const std::string& label, const Case& c, const std::string& tag) {
  const std::string verdict = label == "accept" ? "y" : label == "decline" ? "d" : "n_" + label;
  return verdict + "_" + file_token(c.family) + "_" + c.request.kind + "_" + file_token(c.request.value) + "_" + tag +
         ".json";
}

namespace {

// One `keyreq fuzz` run: the cases in order, each judged in process, a sample
// also through the real transports, then client.keys checked against what
// the oracle accepted.
class FuzzCampaign {
 public:
  explicit FuzzCampaign(const FuzzOptions& options) : options_(options) {
    report_.seed = options.seed;
    report_.fingerprint = 0xcbf29ce484222325ull;
    if (corpus()) fs::create_directories(fs::path(options.corpus_dir) / "examples");
  }

  FuzzReport run() {
    const auto start = Clock::now();
    open_transports();
    for (std::uint64_t i = 0; i < options_.cases; ++i) {
      run_case(i);
      if (options_.progress) options_.progress(i + 1, report_.disagreement_count);
    }
    if (transport_) check_client_keys();
    report_.seconds = seconds_since(start);
    return std::move(report_);
  }

 private:
  bool corpus() const { return !options_.corpus_dir.empty(); }

  void keep(std::vector<FuzzFinding>& list, FuzzFinding f) const {
    if (list.size() < options_.max_shrunk) list.push_back(std::move(f));
  }

  void open_transports() {
    if (options_.transport_every == 0) {
      report_.transport_note = "not run (--transport-every 0)";
      return;
    }
    transport_.emplace(options_.replay_program);
    report_.transport_note = transport_->error().empty() ? transport_->describe() : "not run: " + transport_->error();
    if (!transport_->error().empty()) transport_.reset();
  }

  void run_case(std::uint64_t i) {
    const rc::Shrinkable<Case> shrinkable = case_at(options_.seed, i);
    const Case c = shrinkable.value();
    fnv(report_.fingerprint, c.request.wire());
    fnv(report_.fingerprint, c.output);
    ++report_.cases;
    ++report_.per_family[c.family];

    const auto t0 = Clock::now();
    const Comparison cmp = compare(resolver_, c.request, c.output);
    report_.compare_seconds += seconds_since(t0);
    ++report_.per_verdict[cmp.oracle.label];

    if (c.intent != "" && c.intent != cmp.oracle.label) {
      ++report_.intent_mismatch_count;
      keep(report_.intent_mismatches, FuzzFinding{"generator", i, c, c, "intended " + c.intent, cmp.oracle.describe()});
    }
    if (!cmp.agree()) {
      ++report_.disagreement_count;
      ++report_.per_disagreement["resolver " + cmp.resolver.label + ", oracle " + cmp.oracle.label];
      if (report_.disagreements.size() < options_.max_shrunk) record_disagreement(shrinkable, cmp, i);
    }
    if (corpus() && cmp.agree() && example_written_.insert(cmp.oracle.label + "/" + c.family).second) {
      write_file(fs::path(options_.corpus_dir) / "examples" / corpus_name(cmp.oracle.label, c, std::to_string(i)),
                 c.output);
    }
    if (transport_ && i % options_.transport_every == 0 && report_.exec_cases < options_.transport_max) {
      sample_transports(c, cmp.oracle, i);
    }
  }

  // Shrinks an in-process disagreement to a small case that fails the same
  // way, keeps it, and writes it under --corpus.
  void record_disagreement(const rc::Shrinkable<Case>& shrinkable, const Comparison& cmp, std::uint64_t i) {
    const Case c = shrinkable.value();
    const std::string want_resolver = cmp.resolver.label, want_oracle = cmp.oracle.label;
    InProcessResolver shrink_resolver;
    const auto still_fails = [&](const Case& k) {
      const Comparison again = compare(shrink_resolver, k.request, k.output);
      return !again.agree() && again.resolver.label == want_resolver && again.oracle.label == want_oracle;
    };
    const Case shrunk = shrink_case(shrinkable, still_fails, options_.shrink_budget);
    const Comparison small = compare(shrink_resolver, shrunk.request, shrunk.output);
    FuzzFinding f{"in-process", i, c, shrunk, small.resolver.describe(), small.oracle.describe()};
    if (corpus()) {
      const std::string n = std::to_string(report_.disagreements.size() + 1);
      const fs::path dir(options_.corpus_dir);
      write_file(dir / ("disagreement-" + n + ".json"), shrunk.output);
      write_file(dir / ("disagreement-" + n + ".original.json"), c.output);
      write_file(dir / ("disagreement-" + n + ".txt"), "request: " + escape_for_display(shrunk.request.wire()) +
                                                           "\nresolver: " + f.resolver + "\noracle: " + f.oracle +
                                                           "\ncase: seed " + std::to_string(options_.seed) + " index " +
                                                           std::to_string(i) + " (" + c.family + ")\n");
    }
    report_.disagreements.push_back(std::move(f));
  }

  // The case through the real exec and socket transports; what the oracle
  // accepts is remembered as what may reach each client.keys.
  void sample_transports(const Case& c, const Verdict& full, std::uint64_t i) {
    std::optional<Verdict> prefix;  // the socket reader may stop at the first complete document
    if (const auto end = first_document_end(c.output); end && *end < c.output.size()) {
      prefix = from_oracle(judge(std::string_view(c.output).substr(0, *end), c.request));
    } else if (end) {
      prefix = full;
    }
    const std::size_t cap = transport_->max_output();
    const bool past_cap = c.output.size() > cap;
    if (full.label == "accept" && !past_cap) accepted_lines_[0].insert(keys_line(full.record));
    if (full.label == "accept") accepted_lines_[1].insert(keys_line(full.record));
    if (prefix && prefix->label == "accept") accepted_lines_[1].insert(keys_line(prefix->record));

    const Verdict by_exec = transport_->via_exec(c);
    ++report_.exec_cases;
    if (!transport_conforms(by_exec, full, std::nullopt, c.output.size(), cap)) {
      ++report_.disagreement_count;
      keep(report_.disagreements, FuzzFinding{"exec", i, c, c, by_exec.describe(), full.describe()});
    }
    const Verdict by_socket = transport_->via_socket(c);
    ++report_.socket_cases;
    if (!transport_conforms(by_socket, full, prefix, c.output.size(), cap)) {
      ++report_.disagreement_count;
      keep(report_.disagreements,
           FuzzFinding{
               "socket", i, c, c, by_socket.describe(),
               full.describe() + (prefix ? " or, up to the first complete document, " + prefix->describe() : "")});
    }
  }

  // Nothing non-conforming reached client.keys, and it still loads.
  void check_client_keys() {
    for (const auto& [where, line] : transport_->keys_lines()) {
      ++report_.keys_lines;
      if (!accepted_lines_[where == "exec" ? 0 : 1].count(line)) {
        ++report_.disagreement_count;
        Case c;
        c.output = line;
        c.family = "client.keys";
        keep(report_.disagreements,
             FuzzFinding{"client.keys", 0, c, c, "line in " + where + " client.keys", "no case the oracle accepted"});
      }
    }
    if (const std::string e = transport_->reopen_error(); !e.empty()) {
      ++report_.disagreement_count;
      Case c;
      c.output = e;
      keep(report_.disagreements, FuzzFinding{"client.keys", 0, c, c, "client.keys does not load: " + e, "loads"});
    }
  }

  const FuzzOptions& options_;
  FuzzReport report_;
  InProcessResolver resolver_;
  std::optional<TransportSample> transport_;
  std::set<std::string> accepted_lines_[2];  // what the oracle accepted per transport: exec, socket
  std::set<std::string> example_written_;    // oracle label / family pairs already in examples/
};

}  // namespace

FuzzReport run_fuzz(const FuzzOptions& options) { return FuzzCampaign(options).run(); }

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
      out << "      (shrunk from " << f.original.output.size()
          << " bytes: " << escape_for_display(f.original.output.substr(0, 300))
          << (f.original.output.size() > 300 ? "..." : "") << ")\n";
    }
    out << "      resolver " << f.resolver << "\n      oracle   " << f.oracle << "\n";
  }
  out << (r.ok() ? "PASS" : "FAIL") << ": " << r.disagreement_count << " disagreements\n";
}

}  // namespace keyreq::conformance
