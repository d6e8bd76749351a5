#pragma once
// Summary statistics over repetitions and the Mann-Whitney U test that
// Google Benchmark's tools/compare.py uses to judge a change.
#include <cstddef>
#include <vector>

namespace keyreq::bench {

// Quantile q (0..1) with linear interpolation between order statistics; 0 when empty.
double quantile(std::vector<double> values, double q);
double median(const std::vector<double>& values);
// Median absolute deviation from the median (unscaled).
double mad(const std::vector<double>& values);

struct Spread {
  double median = 0, min = 0, max = 0;
  double rel_mad = 0;  // MAD / |median|: the relative spread shown as ±
  std::size_t n = 0;
};
Spread spread_of(const std::vector<double>& values);

struct UTest {
  double u = 0;          // U statistic of the first sample
  double p_value = 1.0;  // two-sided
  bool exact = false;    // exact distribution (no ties, small samples) or normal approximation
  bool enough = false;   // both samples have at least kMinRepetitions values
  static constexpr std::size_t kMinRepetitions = 2;  // as compare.py's UTEST_MIN_REPETITIONS
};
UTest mann_whitney_u(const std::vector<double>& a, const std::vector<double>& b);

// The smallest two-sided p-value the U test can give for samples of n1 and
// n2 values (all of one sample beyond all of the other): 2 / C(n1+n2, n1).
// 3 against 3 can never go below 0.1; 5 against 5 reaches 0.008.
double smallest_two_sided_p(std::size_t n1, std::size_t n2);
// The fewest repetitions per side for which the U test can go below alpha.
std::size_t repetitions_to_reach(double alpha);

}  // namespace keyreq::bench
