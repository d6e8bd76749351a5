#include "bench/format.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace keyreq::bench::format {
namespace {

TEST(Format, DurationsPickTheirUnit) {
  EXPECT_EQ(micros(0.64), "640 ns");
  EXPECT_EQ(micros(12.46), "12.5 µs");
  EXPECT_EQ(micros(812.4), "812 µs");
  EXPECT_EQ(micros(41300), "41.3 ms");
  EXPECT_EQ(micros(0), "0.0 µs");
  EXPECT_EQ(nanos(12.34), "12.3 ns");
  EXPECT_EQ(nanos(45600), "45.6 µs");
}

TEST(Format, RatesAndPercentages) {
  EXPECT_EQ(rate(41300), "41.3k");
  EXPECT_EQ(rate(812.4), "812");
  EXPECT_EQ(rate(12.46), "12.5");
  EXPECT_EQ(percent(0.123), "12%");
  EXPECT_EQ(percent(0.1234, 1), "12.3%");
  EXPECT_EQ(signed_percent(-0.031), "-3.1%");
  EXPECT_EQ(signed_percent(0.412), "+41.2%");
  EXPECT_EQ(plus_minus(0.04), "±4%");
  EXPECT_EQ(fixed(1.2345, 2), "1.23");
}

TEST(Format, WhatWasNotMeasuredReadsAsADash) {
  for (const auto& s :
       {fixed(NAN), micros(NAN), nanos(INFINITY), rate(NAN), percent(NAN), signed_percent(NAN), plus_minus(NAN)})
    EXPECT_EQ(s, kNone);
}

}  // namespace
}  // namespace keyreq::bench::format
