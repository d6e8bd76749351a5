#pragma once
// `keyreq gate`: judges a current report against a baseline. It judges the
// figures a report marks gated (`keyreq bench` marks them with
// gate_tolerance()): dimensionless figures measured within one run
// (resolver/floor ratios, a provider's floor over a calibration measured in
// the same run), which survive a change of machine or load far better than
// raw timings. A gated figure regresses when its median moved past its
// tolerance in the bad direction AND a two-sided Mann-Whitney U test over the
// repetitions says the two samples differ (p < alpha), as Google Benchmark's
// compare.py judges. Correctness is gated too: any request of the current
// run that did not get its expected outcome fails the gate.
//
// The gate never passes when it cannot see: a figure whose repetitions are
// too few for the U test to ever reach alpha cannot be judged (exit 2), and a
// figure present in only one report is "not comparable" (reported, not a
// regression; exit 2 when no figure at all could be compared).
#include <string>
#include <vector>

#include "bench/model.hpp"

namespace keyreq::bench {

struct GateOptions {
  double alpha = 0.05;
  double tolerance_scale = 1.0;  // multiplies every figure's tolerance
};

enum class Verdict {
  ok,
  improved,
  worse_not_significant,  // past the tolerance, but the U test does not separate the samples
  regression,
  not_comparable,  // present in only one of the two reports
  cannot_judge,    // too few repetitions for the U test to reach alpha
};
const char* verdict_text(Verdict v);

struct GateRow {
  std::string id;
  std::string description;
  std::string better;                // "lower" or "higher"
  double baseline = 0, current = 0;  // medians (NaN when the report lacks the figure)
  double change = 0;                 // relative change current/baseline - 1
  double worse_by = 0;               // relative change, > 0 when worse
  double tolerance = 0;
  std::size_t n_baseline = 0, n_current = 0;
  double p_value = 1;
  double smallest_p = 1;  // the smallest p the U test can give for these sample sizes
  Verdict verdict = Verdict::ok;
};

struct GateResult {
  std::vector<GateRow> rows;
  std::vector<std::string> problems;  // failures that are not a figure (outcome errors)
  std::vector<std::string> warnings;  // e.g. different profiles
  bool regression = false;            // a figure regressed or a request failed
  std::vector<std::string> blind;     // why the gate cannot decide (too few repetitions, nothing comparable)
  std::string markdown;
  // 1 regression; else 2 when the gate could not see; else 0.
  int exit_code() const { return regression ? 1 : blind.empty() ? 0 : 2; }
};

GateResult run_gate(const Report& baseline, const Report& current, const GateOptions& options);

// The gate's policy, in one place: the relative change a figure may show in
// its bad direction, 0 when the figure is reported but not gated. It names
// figure kinds, the part of the id after the provider's name, so it applies
// to a user's provider as to the reference one ("my-provider/exec/
// floor_calibrated_p50"). `keyreq bench` marks figures with it; `keyreq gate`
// judges what the reports mark, with this tolerance where the policy names
// the figure (a change of tolerance does not need a new baseline).
double gate_tolerance(const std::string& figure_id);

}  // namespace keyreq::bench
