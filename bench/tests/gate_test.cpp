#include "bench/gate.hpp"

#include <gtest/gtest.h>

namespace keyreq::bench {
namespace {

Report with(std::vector<double> exec_ratio, std::vector<double> socket_ratio) {
  Report r;
  r.profile = "ci";
  r.figures.push_back(Figure{"reference/exec/latency_ratio_c1_validate", "exec", "lower", true, 0.10, std::move(exec_ratio)});
  r.figures.push_back(
      Figure{"reference/socket/throughput_ratio_c4_validate", "socket", "higher", true, 0.20, std::move(socket_ratio)});
  r.figures.push_back(Figure{"reference/socket/throughput_ratio_peak", "not gated", "higher", false, 0, {0.5, 0.5}});
  return r;
}

const GateRow& row(const GateResult& g, const std::string& id) {
  for (const auto& r : g.rows)
    if (r.id == id) return r;
  throw std::runtime_error("no row " + id);
}

TEST(Gate, SameFiguresPass) {
  const auto base = with({1.02, 1.04, 1.03, 1.05, 1.01}, {0.9, 0.92, 0.88, 0.91, 0.9});
  const auto g = run_gate(base, base, {});
  EXPECT_FALSE(g.regression) << g.markdown;
  EXPECT_EQ(g.rows.size(), 2u);  // only gated figures
  EXPECT_NE(g.markdown.find("## keyreq gate: PASS"), std::string::npos);
}

TEST(Gate, ClearSlowdownIsARegression) {
  const auto base = with({1.02, 1.04, 1.03, 1.05, 1.01}, {0.9, 0.92, 0.88, 0.91, 0.9});
  const auto cur = with({1.40, 1.45, 1.38, 1.50, 1.42}, {0.9, 0.92, 0.88, 0.91, 0.9});
  const auto g = run_gate(base, cur, {});
  EXPECT_TRUE(g.regression);
  EXPECT_EQ(row(g, "reference/exec/latency_ratio_c1_validate").verdict, "REGRESSION");
  EXPECT_LT(row(g, "reference/exec/latency_ratio_c1_validate").p_value, 0.05);
  EXPECT_EQ(row(g, "reference/socket/throughput_ratio_c4_validate").verdict, "ok");
  EXPECT_NE(g.markdown.find("## keyreq gate: REGRESSION"), std::string::npos);
}

TEST(Gate, HigherIsBetterFiguresRegressDownwards) {
  const auto base = with({1.02, 1.04, 1.03, 1.05, 1.01}, {0.9, 0.92, 0.88, 0.91, 0.9});
  const auto faster = with({1.02, 1.04, 1.03, 1.05, 1.01}, {1.3, 1.32, 1.28, 1.31, 1.3});
  EXPECT_FALSE(run_gate(base, faster, {}).regression);
  EXPECT_EQ(row(run_gate(base, faster, {}), "reference/socket/throughput_ratio_c4_validate").verdict, "improved");
  const auto slower = with({1.02, 1.04, 1.03, 1.05, 1.01}, {0.5, 0.52, 0.48, 0.51, 0.5});
  EXPECT_TRUE(run_gate(base, slower, {}).regression);
}

TEST(Gate, ChangeWithinToleranceOrNotSignificantPasses) {
  const auto base = with({1.02, 1.04, 1.03, 1.05, 1.01}, {0.9, 0.92, 0.88, 0.91, 0.9});
  // 5% worse, tolerance 30%: ok even though significant
  const auto small = with({1.08, 1.09, 1.085, 1.1, 1.07}, {0.9, 0.92, 0.88, 0.91, 0.9});
  EXPECT_FALSE(run_gate(base, small, {}).regression);
  // median 41% worse but the samples overlap: not significant
  const auto noisy = with({0.9, 1.45, 1.5, 1.0, 1.8}, {0.9, 0.92, 0.88, 0.91, 0.9});
  const auto g = run_gate(base, noisy, {});
  EXPECT_FALSE(g.regression) << g.markdown;
  EXPECT_EQ(row(g, "reference/exec/latency_ratio_c1_validate").verdict, "worse (not significant)");
}

TEST(Gate, ToleranceScaleAndAlphaApply) {
  const auto base = with({1.02, 1.04, 1.03, 1.05, 1.01}, {0.9, 0.92, 0.88, 0.91, 0.9});
  const auto cur = with({1.40, 1.42, 1.41, 1.43, 1.39}, {0.9, 0.92, 0.88, 0.91, 0.9});
  EXPECT_TRUE(run_gate(base, cur, {}).regression);
  GateOptions loose;
  loose.tolerance_scale = 3;
  EXPECT_FALSE(run_gate(base, cur, loose).regression);
  GateOptions strict_alpha;
  strict_alpha.alpha = 0.001;  // 5 vs 5 cannot reach it
  EXPECT_FALSE(run_gate(base, cur, strict_alpha).regression);
}

TEST(Gate, PolicyComesFromThisBuildNotTheBaseline) {
  EXPECT_DOUBLE_EQ(gate_tolerance("reference/exec/latency_ratio_c1_validate"), 0.30);
  EXPECT_DOUBLE_EQ(gate_tolerance("reference/socket/throughput_ratio_peak"), 0.0);
  auto base = with({1.02, 1.04, 1.03, 1.05, 1.01}, {0.9, 0.92, 0.88, 0.91, 0.9});
  base.figures[0].tolerance = 5.0;  // an old baseline with another tolerance: ignored
  base.figures[2].gated = true;     // a figure this build does not gate: not judged
  auto cur = with({1.40, 1.42, 1.41, 1.43, 1.39}, {0.9, 0.92, 0.88, 0.91, 0.9});
  cur.figures[2].values = {0.1, 0.1};  // much worse, but not gated by this build
  const auto g = run_gate(base, cur, {});
  EXPECT_TRUE(g.regression);
  EXPECT_DOUBLE_EQ(row(g, "reference/exec/latency_ratio_c1_validate").tolerance, 0.30);
  EXPECT_EQ(g.rows.size(), 2u);
  for (const auto& r : g.rows) EXPECT_NE(r.id, "reference/socket/throughput_ratio_peak");
}

TEST(Gate, MissingGatedFigureFails) {
  const auto base = with({1.02, 1.04, 1.03}, {0.9, 0.92, 0.88});
  auto cur = base;
  cur.figures.erase(cur.figures.begin() + 1);
  const auto g = run_gate(base, cur, {});
  EXPECT_TRUE(g.regression);
  EXPECT_EQ(row(g, "reference/socket/throughput_ratio_c4_validate").verdict, "MISSING");
}

TEST(Gate, WrongOutcomesFailTheGate) {
  const auto base = with({1.02, 1.04, 1.03}, {0.9, 0.92, 0.88});
  auto cur = base;
  Series s;
  s.id = "reference/socket/resolver/c1";
  s.provider = "reference";
  Repetition rep;
  rep.requests = 100;
  rep.errors = 3;
  rep.first_error = "refused: S3";
  s.reps.push_back(rep);
  cur.series.push_back(s);
  const auto g = run_gate(base, cur, {});
  EXPECT_TRUE(g.regression);
  ASSERT_EQ(g.problems.size(), 1u);
  EXPECT_NE(g.problems[0].find("refused: S3"), std::string::npos);
}

}  // namespace
}  // namespace keyreq::bench
