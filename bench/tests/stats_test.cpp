#include "bench/stats.hpp"

#include <gtest/gtest.h>

namespace keyreq::bench {
namespace {

TEST(Stats, MedianQuantileMad) {
  EXPECT_DOUBLE_EQ(median({3, 1, 2}), 2);
  EXPECT_DOUBLE_EQ(median({4, 1, 3, 2}), 2.5);
  EXPECT_DOUBLE_EQ(quantile({1, 2, 3, 4, 5}, 0.25), 2);
  EXPECT_DOUBLE_EQ(mad({1, 2, 3, 4, 100}), 1);
  const Spread s = spread_of({10, 11, 9, 10, 30});
  EXPECT_DOUBLE_EQ(s.median, 10);
  EXPECT_DOUBLE_EQ(s.min, 9);
  EXPECT_DOUBLE_EQ(s.max, 30);
  EXPECT_DOUBLE_EQ(s.rel_mad, 0.1);
  EXPECT_EQ(median({}), 0);
}

// Reference values computed independently: exact p by enumerating every
// split of the pooled sample (scipy's method='exact' definition), asymptotic p
// from scipy's tie-corrected normal formula with continuity correction.
TEST(Stats, MannWhitneyExactSmallSamples) {
  // method='exact': U = 0, p = 2/C(6,3) = 0.1
  auto t = mann_whitney_u({1, 2, 3}, {4, 5, 6});
  EXPECT_TRUE(t.exact);
  EXPECT_DOUBLE_EQ(t.u, 0);
  EXPECT_NEAR(t.p_value, 0.1, 1e-12);
  // 5 against 5, completely separated: p = 2/252
  t = mann_whitney_u({1, 2, 3, 4, 5}, {6, 7, 8, 9, 10});
  EXPECT_NEAR(t.p_value, 2.0 / 252.0, 1e-12);
  // interleaved: no evidence
  t = mann_whitney_u({1, 3, 5, 7, 9}, {2, 4, 6, 8, 10});
  EXPECT_DOUBLE_EQ(t.u, 10);
  EXPECT_NEAR(t.p_value, 0.6904761904761905, 1e-9);
  // unequal sizes: U = 9, p = 128/210
  t = mann_whitney_u({1, 4, 5, 9}, {2, 3, 6, 7, 8, 10});
  EXPECT_DOUBLE_EQ(t.u, 9);
  EXPECT_NEAR(t.p_value, 0.6095238095238096, 1e-9);
}

TEST(Stats, MannWhitneyWithTiesUsesTheNormalApproximation) {
  const auto t = mann_whitney_u({1, 2, 2, 3, 3}, {3, 4, 4, 5, 6});
  EXPECT_FALSE(t.exact);
  EXPECT_DOUBLE_EQ(t.u, 1);
  EXPECT_NEAR(t.p_value, 0.01924356579907484, 1e-9);
}

TEST(Stats, MannWhitneyNeedsTwoRepetitionsEach) {
  EXPECT_FALSE(mann_whitney_u({1}, {2, 3}).enough);
  EXPECT_TRUE(mann_whitney_u({1, 2}, {2, 3}).enough);
  EXPECT_DOUBLE_EQ(mann_whitney_u({}, {1}).p_value, 1.0);
}

// The bound is what the exact test gives for fully separated samples.
TEST(Stats, SmallestTwoSidedPIsTheFullySeparatedCase) {
  EXPECT_NEAR(smallest_two_sided_p(3, 3), 0.1, 1e-12);
  EXPECT_NEAR(smallest_two_sided_p(3, 3), mann_whitney_u({1, 2, 3}, {4, 5, 6}).p_value, 1e-12);
  EXPECT_NEAR(smallest_two_sided_p(5, 3), 2.0 / 56, 1e-12);
  EXPECT_NEAR(smallest_two_sided_p(5, 3), mann_whitney_u({1, 2, 3, 4, 5}, {6, 7, 8}).p_value, 1e-12);
  EXPECT_NEAR(smallest_two_sided_p(5, 5), 2.0 / 252, 1e-12);
  EXPECT_DOUBLE_EQ(smallest_two_sided_p(0, 5), 1.0);
  EXPECT_DOUBLE_EQ(smallest_two_sided_p(1, 1), 1.0);
  EXPECT_GT(smallest_two_sided_p(60, 60), 0.0);  // no overflow to 0 or NaN
  EXPECT_EQ(repetitions_to_reach(0.05), 4u);     // 4 vs 4: 2/70 = 0.029
  EXPECT_EQ(repetitions_to_reach(0.01), 5u);     // 5 vs 5: 0.0079
}

}  // namespace
}  // namespace keyreq::bench
