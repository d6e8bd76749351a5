#include "bench/gate.hpp"

#include <cmath>
#include <map>
#include <cstdio>
#include <sstream>

#include "bench/stats.hpp"

namespace keyreq::bench {

namespace {

std::string num(double v, int digits = 3) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

std::string pct(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%+.1f%%", 100 * v);
  return buf;
}

std::string describe(const Report& r) {
  std::string s = "profile " + r.profile + ", " + r.created + ", commit " +
                  (r.git_commit.empty() ? std::string("?") : r.git_commit.substr(0, 12)) +
                  (r.git_dirty ? " (modified)" : "");
  if (r.machine.count("hostname")) s += ", " + r.machine.at("hostname");
  if (r.settings.count("inject_delay_us")) s += ", injected delay " + r.settings.at("inject_delay_us") + " µs";
  return s;
}

}  // namespace

// Only validate-only figures are gated: they compare the resolver with a
// floor measured against the same provider in the same run, so they carry
// over between machines of one kind. Figures that include registration
// depend on the disk's fdatasync latency, which differs between machines of
// the same kind (1447/s on the development VM, 8498/s on a CI VM for the same
// build): they are reported, never gated. Tolerances were chosen from repeated
// `--profile ci` runs on a shared, loaded 2-core machine (docs/bench.md):
// unchanged runs moved the exec figures by up to ~22% and the socket figure
// by up to ~35%.
double gate_tolerance(const std::string& id) {
  // "<provider>/<figure>": the reference provider or the user's own
  // (`keyreq bench --exec/--socket`); the built-in script providers are
  // reported, not gated. floor_calibrated_p50 exists for the user's provider
  // only (its floor over a calibration measured in the same run).
  static const std::map<std::string, double> gated = {
      {"exec/latency_ratio_c1_validate", 0.30},      {"exec/throughput_ratio_c4_validate", 0.30},
      {"socket/throughput_ratio_c4_validate", 0.40}, {"exec/floor_calibrated_p50", 0.30},
      {"socket/floor_calibrated_p50", 0.40},
  };
  const auto slash = id.find('/');
  if (slash == std::string::npos) return 0;
  const std::string provider = id.substr(0, slash);
  for (const char* builtin_script : {"python", "php", "perl", "null", "calibration"})
    if (provider == builtin_script) return 0;
  const auto it = gated.find(id.substr(slash + 1));
  return it == gated.end() ? 0 : it->second;
}

GateResult run_gate(const Report& baseline, const Report& current, const GateOptions& options) {
  GateResult g;
  if (baseline.profile != current.profile) {
    g.warnings.push_back("profiles differ (baseline " + baseline.profile + ", current " + current.profile +
                         "): ratios should still compare, timings will not");
  }
  for (const auto& b : baseline.figures) {
    const double tolerance = gate_tolerance(b.id);  // the baseline's own flags are informational
    if (tolerance <= 0) continue;
    GateRow row;
    row.id = b.id;
    row.description = b.description;
    row.better = b.better;
    row.baseline = median(b.values);
    row.tolerance = tolerance * options.tolerance_scale;
    const Figure* c = current.find_figure(b.id);
    if (c == nullptr || c->values.empty()) {
      row.verdict = "MISSING";
      row.failed = true;
      g.rows.push_back(row);
      continue;
    }
    row.current = median(c->values);
    const double change = row.baseline != 0 ? (row.current - row.baseline) / row.baseline : 0;
    row.worse_by = b.better == "lower" ? change : -change;
    const UTest u = mann_whitney_u(b.values, c->values);
    row.p_value = u.p_value;
    row.utest_enough = u.enough;
    // Without enough repetitions for the U test, the tolerance alone decides.
    const bool significant = !u.enough || u.p_value < options.alpha;
    if (row.worse_by > row.tolerance && significant) {
      row.verdict = "REGRESSION";
      row.failed = true;
    } else if (row.worse_by > row.tolerance) {
      row.verdict = "worse (not significant)";
    } else if (row.worse_by < -row.tolerance && significant) {
      row.verdict = "improved";
    } else {
      row.verdict = "ok";
    }
    g.rows.push_back(row);
  }
  // Correctness: the gated provider's requests must all get their expected outcome.
  for (const auto& s : current.series) {
    std::uint64_t errors = 0, requests = 0;
    std::string first;
    for (const auto& rep : s.reps) {
      errors += rep.errors;
      requests += rep.requests;
      if (first.empty()) first = rep.first_error;
    }
    if (errors > 0 && (s.provider == "reference" || s.provider == "null")) {
      g.problems.push_back(s.id + ": " + std::to_string(errors) + " of " + std::to_string(requests) +
                           " requests did not get their expected outcome (first: " + first + ")");
    }
  }
  if (current.settings.count("inject_delay_us")) {
    g.warnings.push_back("the current report was made with --inject-delay-us " +
                         current.settings.at("inject_delay_us") + " (a deliberate slowdown)");
  }
  for (const auto& row : g.rows) g.regression = g.regression || row.failed;
  g.regression = g.regression || !g.problems.empty();

  std::ostringstream md;
  md << "## keyreq gate: " << (g.regression ? "REGRESSION" : "PASS") << "\n\n";
  md << "- baseline: " << describe(baseline) << "\n- current: " << describe(current) << "\n";
  md << "- rule: a gated figure fails when its median is worse than the baseline's by more than its tolerance "
        "and a two-sided Mann-Whitney U test over the repetitions gives p < "
     << num(options.alpha, 2) << "\n\n";
  md << "| figure | better | baseline | current | change | tolerance | U-test p | verdict |\n"
     << "|---|---|---:|---:|---:|---:|---:|---|\n";
  for (const auto& row : g.rows) {
    md << "| `" << row.id << "` | " << row.better << " | " << num(row.baseline) << " | "
       << (row.verdict == "MISSING" ? std::string("–") : num(row.current)) << " | "
       << (row.verdict == "MISSING" ? std::string("–") : pct(row.better == "lower" ? row.worse_by : -row.worse_by))
       << " | ±" << num(100 * row.tolerance, 0) << "% | "
       << (row.verdict == "MISSING" ? std::string("–") : num(row.p_value, 4) + (row.utest_enough ? "" : " (too few)"))
       << " | " << (row.failed ? "**" + row.verdict + "**" : row.verdict) << " |\n";
  }
  if (!g.problems.empty()) {
    md << "\nOutcome errors in the current run:\n\n";
    for (const auto& p : g.problems) md << "- " << p << "\n";
  }
  if (!g.warnings.empty()) {
    md << "\n";
    for (const auto& w : g.warnings) md << "- warning: " << w << "\n";
  }
  g.markdown = md.str();
  return g;
}

}  // namespace keyreq::bench
