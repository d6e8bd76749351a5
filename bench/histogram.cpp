#include "bench/histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>

namespace keyreq::bench {

std::size_t Histogram::index_of(std::uint64_t value) {
  if (value < kExact) return static_cast<std::size_t>(value);
  const int msb = 63 - std::countl_zero(value);  // >= kSubBits + 1
  const int shift = msb - kSubBits;              // >= 1
  const std::uint64_t top = value >> shift;      // in [128, 256)
  return static_cast<std::size_t>(kExact + static_cast<std::uint64_t>(shift - 1) * (1u << kSubBits) +
                                  (top - (1u << kSubBits)));
}

std::uint64_t Histogram::lowest_of(std::size_t index) {
  if (index < kExact) return index;
  const std::size_t k = (index - kExact) >> kSubBits;
  const std::uint64_t top = (1u << kSubBits) + ((index - kExact) & ((1u << kSubBits) - 1));
  return top << (k + 1);
}

std::uint64_t Histogram::highest_of(std::size_t index) {
  if (index < kExact) return index;
  const std::size_t k = (index - kExact) >> kSubBits;
  return lowest_of(index) + (std::uint64_t{1} << (k + 1)) - 1;
}

void Histogram::record(std::uint64_t value, std::uint64_t times) {
  if (times == 0) return;
  counts_[index_of(value)] += times;
  count_ += times;
  min_ = std::min(min_, value);
  max_ = std::max(max_, value);
  const long double v = static_cast<long double>(value);
  sum_ += v * times;
  sum_squares_ += v * v * times;
}

void Histogram::merge(const Histogram& other) {
  for (std::size_t i = 0; i < kBuckets; ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
  sum_ += other.sum_;
  sum_squares_ += other.sum_squares_;
}

void Histogram::reset() { *this = Histogram(); }

double Histogram::mean() const { return count_ ? static_cast<double>(sum_ / count_) : 0.0; }

double Histogram::stddev() const {
  if (count_ < 2) return 0.0;
  const long double m = sum_ / count_;
  const long double var = sum_squares_ / count_ - m * m;
  return var > 0 ? static_cast<double>(std::sqrt(var)) : 0.0;
}

std::uint64_t Histogram::value_at(double percentile) const {
  if (count_ == 0) return 0;
  percentile = std::clamp(percentile, 0.0, 100.0);
  if (percentile >= 100.0) return max_;
  // rank = ceil(p/100 * count), at least 1 (so p0 is the minimum's bucket).
  auto rank = static_cast<std::uint64_t>(std::ceil(percentile / 100.0 * static_cast<double>(count_)));
  rank = std::max<std::uint64_t>(rank, 1);
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < kBuckets; ++i) {
    seen += counts_[i];
    if (seen >= rank) return std::clamp(highest_of(i), min_, max_);
  }
  return max_;
}

double Histogram::fraction_at_or_below(std::uint64_t value) const {
  if (count_ == 0) return 0.0;
  const std::size_t last = index_of(value);
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i <= last; ++i) seen += counts_[i];
  return static_cast<double>(seen) / static_cast<double>(count_);
}

std::string Histogram::hgrm(int ticks) const {
  std::string out;
  char line[160];
  std::snprintf(line, sizeof line, "%12s %14s %10s %14s\n\n", "Value", "Percentile", "TotalCount", "1/(1-Percentile)");
  out += line;
  if (count_ > 0) {
    // Walk the buckets and emit a line at each reporting level: ticks per
    // "half distance" to 100% (50%, 75%, 87.5%, ...), as HdrHistogram does.
    double level = 0.0;
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < kBuckets && seen < count_; ++i) {
      if (counts_[i] == 0) continue;
      seen += counts_[i];
      const double reached = 100.0 * static_cast<double>(seen) / static_cast<double>(count_);
      const double value_ms = static_cast<double>(std::clamp(highest_of(i), min_, max_)) / 1e6;
      while (level <= reached && level < 100.0) {
        const double fraction = level / 100.0;
        if (fraction < 1.0) {
          std::snprintf(line, sizeof line, "%12.6f %2.12f %10llu %14.2f\n", value_ms, fraction,
                        static_cast<unsigned long long>(seen), 1.0 / (1.0 - fraction));
          out += line;
        }
        if (seen == count_) break;  // the 100% line follows; never creep towards it
        const double half_distance = std::exp2(std::floor(std::log2(100.0 / (100.0 - level))) + 1);
        level += 100.0 / half_distance / ticks;
      }
    }
    std::snprintf(line, sizeof line, "%12.6f %2.12f %10llu\n", static_cast<double>(max_) / 1e6, 1.0,
                  static_cast<unsigned long long>(count_));
    out += line;
  }
  std::snprintf(line, sizeof line, "#[Mean    = %12.6f, StdDeviation   = %12.6f]\n", mean() / 1e6, stddev() / 1e6);
  out += line;
  std::snprintf(line, sizeof line, "#[Max     = %12.6f, Total count    = %12llu]\n", static_cast<double>(max_) / 1e6,
                static_cast<unsigned long long>(count_));
  out += line;
  std::snprintf(line, sizeof line, "#[Buckets = %12zu, SubBuckets     = %12d]\n", kBuckets, 1 << kSubBits);
  out += line;
  return out;
}

}  // namespace keyreq::bench
