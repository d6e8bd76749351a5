#pragma once
// The figures of a run: dimensionless ratios computed per repetition from
// series measured side by side (resolver / floor, socket / exec, the user
// provider's floors over the same run's calibration), and the herd figures.
// Whether a figure is gated, and with which tolerance, is gate_tolerance()'s.
#include "bench/model.hpp"

namespace keyreq::bench {

void derive_figures(Report& report);

}  // namespace keyreq::bench
