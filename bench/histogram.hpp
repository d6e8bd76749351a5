#pragma once
// A log-linear latency histogram in the manner of HdrHistogram: values below
// 256 are counted exactly, above that every power of two is cut into 128
// equal sub-buckets, so any recorded value is known to within 1/128 (< 0.8%).
// Fixed size (7,424 counters), no allocation while recording; one per
// thread, merged afterwards. Values are nanoseconds.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace keyreq::bench {

class Histogram {
 public:
  static constexpr int kSubBits = 7;                             // 128 sub-buckets per power of two
  static constexpr std::uint64_t kExact = 1u << (kSubBits + 1);  // 256 values counted exactly
  static constexpr std::size_t kBuckets = kExact + (63 - kSubBits) * (1u << kSubBits);

  void record(std::uint64_t value_ns, std::uint64_t times = 1);
  void merge(const Histogram& other);
  void reset();

  std::uint64_t count() const { return count_; }
  std::uint64_t min() const { return count_ ? min_ : 0; }
  std::uint64_t max() const { return max_; }
  double mean() const;
  double stddev() const;
  // Value at or below which `percentile` (0..100) of the recorded values lie:
  // the highest value equivalent to the bucket holding that rank, capped by max().
  std::uint64_t value_at(double percentile) const;
  // Fraction (0..1) of values <= value_ns.
  double fraction_at_or_below(std::uint64_t value_ns) const;

  // HdrHistogram's percentile distribution text (".hgrm"), values in milliseconds,
  // readable by HdrHistogram's plotter and wrk2 tooling.
  std::string hgrm(int ticks_per_half_distance = 5) const;

  static std::size_t index_of(std::uint64_t value);
  static std::uint64_t lowest_of(std::size_t index);
  static std::uint64_t highest_of(std::size_t index);

 private:
  std::vector<std::uint64_t> counts_ = std::vector<std::uint64_t>(kBuckets, 0);
  std::uint64_t count_ = 0;
  std::uint64_t min_ = UINT64_MAX;
  std::uint64_t max_ = 0;
  long double sum_ = 0;
  long double sum_squares_ = 0;
};

}  // namespace keyreq::bench
