#include "bench/stats.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace keyreq::bench {

double quantile(std::vector<double> v, double q) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  q = std::clamp(q, 0.0, 1.0);
  const double pos = q * static_cast<double>(v.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(pos));
  const std::size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (pos - static_cast<double>(lo));
}

double median(const std::vector<double>& v) { return quantile(v, 0.5); }

double mad(const std::vector<double>& v) {
  if (v.empty()) return 0.0;
  const double m = median(v);
  std::vector<double> dev;
  dev.reserve(v.size());
  for (double x : v) dev.push_back(std::fabs(x - m));
  return median(dev);
}

Spread spread_of(const std::vector<double>& v) {
  Spread s;
  s.n = v.size();
  if (v.empty()) return s;
  s.median = median(v);
  s.min = *std::min_element(v.begin(), v.end());
  s.max = *std::max_element(v.begin(), v.end());
  s.rel_mad = s.median != 0 ? mad(v) / std::fabs(s.median) : 0.0;
  return s;
}

namespace {

// Number of arrangements of n1 + n2 untied values giving each U (0..n1*n2).
std::vector<double> exact_u_counts(std::size_t n1, std::size_t n2) {
  // f[j][u] for the current i; f(i, j, u) = f(i-1, j, u-j) + f(i, j-1, u).
  const std::size_t umax = n1 * n2;
  std::vector<std::vector<double>> prev(n2 + 1, std::vector<double>(umax + 1, 0.0));
  for (std::size_t j = 0; j <= n2; ++j) prev[j][0] = 1.0;  // i = 0
  for (std::size_t i = 1; i <= n1; ++i) {
    std::vector<std::vector<double>> cur(n2 + 1, std::vector<double>(umax + 1, 0.0));
    cur[0][0] = 1.0;
    for (std::size_t j = 1; j <= n2; ++j) {
      for (std::size_t u = 0; u <= umax; ++u) {
        double ways = cur[j - 1][u];
        if (u >= j) ways += prev[j][u - j];
        cur[j][u] = ways;
      }
    }
    prev = std::move(cur);
  }
  return prev[n2];
}

}  // namespace

UTest mann_whitney_u(const std::vector<double>& a, const std::vector<double>& b) {
  UTest t;
  const std::size_t n1 = a.size(), n2 = b.size();
  t.enough = n1 >= UTest::kMinRepetitions && n2 >= UTest::kMinRepetitions;
  if (n1 == 0 || n2 == 0) return t;

  struct Item {
    double v;
    bool first;
  };
  std::vector<Item> all;
  for (double x : a) all.push_back({x, true});
  for (double x : b) all.push_back({x, false});
  std::sort(all.begin(), all.end(), [](const Item& l, const Item& r) { return l.v < r.v; });
  const std::size_t n = all.size();
  double rank_sum_a = 0, tie_term = 0;
  bool ties = false;
  for (std::size_t i = 0; i < n;) {
    std::size_t j = i;
    while (j < n && all[j].v == all[i].v) ++j;
    const double avg_rank = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2.0;
    const double k = static_cast<double>(j - i);
    if (j - i > 1) {
      ties = true;
      tie_term += k * k * k - k;
    }
    for (std::size_t m = i; m < j; ++m)
      if (all[m].first) rank_sum_a += avg_rank;
    i = j;
  }
  const double dn1 = static_cast<double>(n1), dn2 = static_cast<double>(n2);
  t.u = rank_sum_a - dn1 * (dn1 + 1) / 2.0;

  if (!ties && n1 <= 20 && n2 <= 20) {
    const auto counts = exact_u_counts(n1, n2);
    const double total = std::accumulate(counts.begin(), counts.end(), 0.0);
    const auto u = static_cast<std::size_t>(std::llround(t.u));
    double low = 0, high = 0;
    for (std::size_t k = 0; k < counts.size(); ++k) {
      if (k <= u) low += counts[k];
      if (k >= u) high += counts[k];
    }
    t.p_value = std::min(1.0, 2.0 * std::min(low, high) / total);
    t.exact = true;
    return t;
  }
  // Normal approximation with tie and continuity corrections (scipy's "asymptotic").
  const double mu = dn1 * dn2 / 2.0;
  const double dn = dn1 + dn2;
  const double sigma = std::sqrt(dn1 * dn2 / 12.0 * ((dn + 1) - tie_term / (dn * (dn - 1))));
  if (sigma == 0) {
    t.p_value = 1.0;
    return t;
  }
  const double big_u = std::max(t.u, dn1 * dn2 - t.u);
  const double z = (big_u - mu - 0.5) / sigma;
  t.p_value = std::min(1.0, std::erfc(z / std::sqrt(2.0)));
  return t;
}

double smallest_two_sided_p(std::size_t n1, std::size_t n2) {
  if (n1 == 0 || n2 == 0) return 1.0;
  const double a = static_cast<double>(n1), b = static_cast<double>(n2);
  // 1 / C(n1+n2, n1) through log-gamma: no overflow for large samples.
  const double one_arrangement = std::exp(std::lgamma(a + 1) + std::lgamma(b + 1) - std::lgamma(a + b + 1));
  return std::min(1.0, 2.0 * one_arrangement);
}

std::size_t repetitions_to_reach(double alpha) {
  std::size_t n = 1;
  while (smallest_two_sided_p(n, n) >= alpha && n < 1000) ++n;
  return n;
}

}  // namespace keyreq::bench
