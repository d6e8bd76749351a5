#include "bench/histogram.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <sstream>

namespace keyreq::bench {
namespace {

TEST(Histogram, BucketsCoverEveryValueWithBoundedError) {
  for (std::uint64_t v :
       {0ull, 1ull, 255ull, 256ull, 257ull, 511ull, 512ull, 1000ull, 123456789ull, (1ull << 40) + 12345, ~0ull}) {
    const auto i = Histogram::index_of(v);
    ASSERT_LT(i, Histogram::kBuckets) << v;
    EXPECT_LE(Histogram::lowest_of(i), v) << v;
    EXPECT_GE(Histogram::highest_of(i), v) << v;
    // relative width below 1/128
    EXPECT_LE(static_cast<double>(Histogram::highest_of(i) - Histogram::lowest_of(i)),
              static_cast<double>(v) / 128.0 + 1.0)
        << v;
  }
}

TEST(Histogram, IndexesAreContiguousAndMonotonic) {
  for (std::size_t i = 0; i + 1 < Histogram::kBuckets; ++i) {
    ASSERT_EQ(Histogram::highest_of(i) + 1, Histogram::lowest_of(i + 1)) << i;
    ASSERT_EQ(Histogram::index_of(Histogram::lowest_of(i)), i);
    ASSERT_EQ(Histogram::index_of(Histogram::highest_of(i)), i);
  }
}

TEST(Histogram, PercentilesOfAUniformSampleAreWithinPrecision) {
  Histogram h;
  for (std::uint64_t v = 1; v <= 100000; ++v) h.record(v * 1000);  // 1 µs .. 100 ms
  EXPECT_EQ(h.count(), 100000u);
  EXPECT_EQ(h.min(), 1000u);
  EXPECT_EQ(h.max(), 100000000u);
  for (double p : {50.0, 90.0, 99.0, 99.9}) {
    const double expected = p / 100.0 * 100000 * 1000;
    EXPECT_NEAR(static_cast<double>(h.value_at(p)), expected, expected / 100.0) << p;
  }
  EXPECT_EQ(h.value_at(100), h.max());
  EXPECT_NEAR(h.mean(), 50000.5 * 1000, 1);
}

TEST(Histogram, MergeEqualsRecordingEverythingInOne) {
  Histogram a, b, all;
  std::mt19937_64 rng(7);
  for (int i = 0; i < 5000; ++i) {
    const auto v = rng() % 10'000'000;
    (i % 2 ? a : b).record(v);
    all.record(v);
  }
  a.merge(b);
  EXPECT_EQ(a.count(), all.count());
  EXPECT_EQ(a.min(), all.min());
  EXPECT_EQ(a.max(), all.max());
  for (double p : {1.0, 50.0, 99.0}) EXPECT_EQ(a.value_at(p), all.value_at(p));
}

TEST(Histogram, HgrmIsHdrHistogramPercentileFormat) {
  Histogram h;
  for (int i = 1; i <= 1000; ++i) h.record(static_cast<std::uint64_t>(i) * 1000);
  const std::string text = h.hgrm();
  std::istringstream in(text);
  std::string line;
  std::getline(in, line);
  EXPECT_NE(line.find("Percentile"), std::string::npos);
  double last_value = -1, last_p = -1;
  int rows = 0;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream row(line);
    double value = 0, p = 0;
    unsigned long long count = 0;
    row >> value >> p >> count;
    EXPECT_GE(value, last_value);
    EXPECT_GE(p, last_p);
    last_value = value;
    last_p = p;
    ++rows;
  }
  EXPECT_GT(rows, 20);
  EXPECT_DOUBLE_EQ(last_p, 1.0);
  EXPECT_NEAR(last_value, 1.0, 1e-9);  // 1 ms max, values in milliseconds
  EXPECT_NE(text.find("#[Max     ="), std::string::npos);
  EXPECT_NE(text.find("Total count    =         1000"), std::string::npos);
}

TEST(Histogram, EmptyHistogramIsHarmless) {
  Histogram h;
  EXPECT_EQ(h.value_at(50), 0u);
  EXPECT_EQ(h.max(), 0u);
  EXPECT_NE(h.hgrm().find("Total count"), std::string::npos);
}

}  // namespace
}  // namespace keyreq::bench
