#pragma once
// DESIGN.md's targets, each judged PASS/FAIL from figures of the same run.
#include "bench/model.hpp"

namespace keyreq::bench {

void evaluate_targets(Report& report);

}  // namespace keyreq::bench
