#pragma once
// `keyreq gate`: judges a current report against a baseline. Only
// dimensionless figures measured within one run are gated (resolver/floor
// ratios, exec/socket speed-up): they survive a change of machine or load
// far better than raw timings. A gated figure regresses when its median moved
// past its tolerance in the bad direction AND a two-sided Mann-Whitney U test
// over the repetitions says the two samples differ (p < alpha), as Google
// Benchmark's compare.py judges. Correctness is gated too: any request of the
// current run that did not get its expected outcome fails the gate.
#include <string>
#include <vector>

#include "bench/model.hpp"

namespace keyreq::bench {

struct GateOptions {
  double alpha = 0.05;
  double tolerance_scale = 1.0;  // multiplies every figure's tolerance
};

struct GateRow {
  std::string id;
  std::string description;
  std::string better;
  double baseline = 0, current = 0;  // medians
  double worse_by = 0;               // relative change, > 0 when worse
  double tolerance = 0;
  double p_value = 1;
  bool utest_enough = false;
  std::string verdict;  // "ok", "improved", "worse (not significant)", "REGRESSION", "MISSING"
  bool failed = false;
};

struct GateResult {
  std::vector<GateRow> rows;
  std::vector<std::string> problems;  // failures that are not a figure (outcome errors)
  std::vector<std::string> warnings;  // e.g. different profiles
  bool regression = false;
  std::string markdown;
};

GateResult run_gate(const Report& baseline, const Report& current, const GateOptions& options);

// The gate's policy, in one place: the relative change a figure may show in
// its bad direction, 0 when the figure is reported but not gated. `keyreq
// bench` marks figures with it; `keyreq gate` judges with it (the flags
// recorded in the baseline are informational), so a change of policy does
// not need a new baseline.
double gate_tolerance(const std::string& figure_id);

}  // namespace keyreq::bench
