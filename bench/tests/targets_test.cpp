// The targets table: one threshold per row gives both the requirement text
// and the verdict; a missing figure is "not measured", never PASS.
#include "bench/targets.hpp"

#include <gtest/gtest.h>

namespace keyreq::bench {
namespace {

const PerformanceTarget& named(const Report& r, const std::string& prefix) {
  for (const auto& t : r.targets)
    if (t.name.rfind(prefix, 0) == 0) return t;
  throw std::runtime_error("no target " + prefix);
}

TEST(Targets, EmptyReportIsNotMeasuredWithTheRequirementsSpelledOut) {
  Report r;
  evaluate_targets(r);
  ASSERT_EQ(r.targets.size(), 9u);
  for (const auto& t : r.targets) {
    EXPECT_FALSE(t.measured_ok) << t.name;
    EXPECT_FALSE(t.pass) << t.name;
  }
  EXPECT_EQ(named(r, "socket, reference").requirement, "ratio >= 0.80");
  EXPECT_EQ(named(r, "exec, reference").requirement, "ratio <= 1.10");
  EXPECT_EQ(named(r, "parse + validate one").requirement, "<= 250 ns");
  EXPECT_EQ(named(r, "durable registration").requirement, ">= 20k registrations/s");
  EXPECT_EQ(named(r, "resolver memory flat").requirement, "growth <= 1 MiB between 10% and 100% of the requests");
}

TEST(Targets, TheThresholdDecidesTheVerdict) {
  for (const auto& [value, pass] : {std::pair{1.05, true}, std::pair{1.10, true}, std::pair{1.2, false}}) {
    Report r;
    r.figures.push_back(Figure{"reference/exec/latency_ratio_c1_validate", "", "lower", true, 0.3, {value}});
    evaluate_targets(r);
    const PerformanceTarget& t = named(r, "exec, reference");
    EXPECT_TRUE(t.measured_ok);
    EXPECT_EQ(t.pass, pass) << value;
    EXPECT_DOUBLE_EQ(t.value, value);
  }
}

TEST(Targets, ConditionsOfTheTargetMustHold) {
  Report r;
  r.measurements["keystore.registrations_per_s_async"] = 50000;
  r.measurements["memory.keystore_agents"] = 1000;  // the target is stated for 100k agents on file
  evaluate_targets(r);
  EXPECT_TRUE(named(r, "durable registration").measured_ok);
  EXPECT_FALSE(named(r, "durable registration").pass);
}

}  // namespace
}  // namespace keyreq::bench
