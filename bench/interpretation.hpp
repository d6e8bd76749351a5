#pragma once
// "What this means": a few sentences computed from the run's own series —
// what one exec call costs and how much of it is the interpreter starting,
// the socket speed-up at each concurrency, the herd — each naming the series
// it was computed from. Only measured numbers; nothing when a series is missing.
#include "bench/model.hpp"

namespace keyreq::bench {

void interpret(Report& report);

}  // namespace keyreq::bench
