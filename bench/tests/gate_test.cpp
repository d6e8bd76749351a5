#include "bench/gate.hpp"

#include <gtest/gtest.h>

namespace keyreq::bench {
namespace {

Report with(std::vector<double> exec_ratio, std::vector<double> socket_ratio) {
  Report r;
  r.profile = "ci";
  r.figures.push_back(Figure{"reference/exec/latency_ratio_c1_validate", "exec resolver p50 / floor p50", "lower", true,
                             0.10, std::move(exec_ratio)});
  r.figures.push_back(Figure{"reference/socket/throughput_ratio_c4_validate", "socket resolver / floor throughput",
                             "higher", true, 0.20, std::move(socket_ratio)});
  r.figures.push_back(Figure{"reference/socket/throughput_ratio_peak", "not gated", "higher", false, 0, {0.5, 0.5}});
  return r;
}

const std::vector<double> kExec = {1.02, 1.04, 1.03, 1.05, 1.01};
const std::vector<double> kSocket = {0.9, 0.92, 0.88, 0.91, 0.9};

const GateRow& row(const GateResult& g, const std::string& id) {
  for (const auto& r : g.rows)
    if (r.id == id) return r;
  throw std::runtime_error("no row " + id);
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(Gate, SameFiguresPass) {
  const auto base = with(kExec, kSocket);
  const auto g = run_gate(base, base, {});
  EXPECT_EQ(g.exit_code(), 0) << g.markdown;
  EXPECT_EQ(g.rows.size(), 2u);  // only gated figures
  EXPECT_TRUE(contains(g.markdown, "## keyreq gate: PASS"));
}

TEST(Gate, ClearSlowdownIsARegression) {
  const auto cur = with({1.40, 1.45, 1.38, 1.50, 1.42}, kSocket);
  const auto g = run_gate(with(kExec, kSocket), cur, {});
  EXPECT_EQ(g.exit_code(), 1);
  EXPECT_EQ(row(g, "reference/exec/latency_ratio_c1_validate").verdict, Verdict::regression);
  EXPECT_LT(row(g, "reference/exec/latency_ratio_c1_validate").p_value, 0.05);
  EXPECT_EQ(row(g, "reference/socket/throughput_ratio_c4_validate").verdict, Verdict::ok);
  EXPECT_TRUE(contains(g.markdown, "## keyreq gate: REGRESSION"));
  EXPECT_TRUE(contains(g.markdown, "worse")) << g.markdown;
}

TEST(Gate, HigherIsBetterFiguresRegressDownwards) {
  const auto base = with(kExec, kSocket);
  const auto faster = with(kExec, {1.3, 1.32, 1.28, 1.31, 1.3});
  EXPECT_EQ(run_gate(base, faster, {}).exit_code(), 0);
  EXPECT_EQ(row(run_gate(base, faster, {}), "reference/socket/throughput_ratio_c4_validate").verdict,
            Verdict::improved);
  const auto slower = with(kExec, {0.5, 0.52, 0.48, 0.51, 0.5});
  EXPECT_EQ(run_gate(base, slower, {}).exit_code(), 1);
}

TEST(Gate, ChangeWithinToleranceOrNotSignificantPasses) {
  const auto base = with(kExec, kSocket);
  // 5% worse, tolerance 30%: ok even though significant
  EXPECT_EQ(run_gate(base, with({1.08, 1.09, 1.085, 1.1, 1.07}, kSocket), {}).exit_code(), 0);
  // median 41% worse but the samples overlap: not significant
  const auto g = run_gate(base, with({0.9, 1.45, 1.5, 1.0, 1.8}, kSocket), {});
  EXPECT_EQ(g.exit_code(), 0) << g.markdown;
  EXPECT_EQ(row(g, "reference/exec/latency_ratio_c1_validate").verdict, Verdict::worse_not_significant);
}

TEST(Gate, ToleranceScaleApplies) {
  const auto base = with(kExec, kSocket);
  const auto cur = with({1.40, 1.42, 1.41, 1.43, 1.39}, kSocket);
  EXPECT_EQ(run_gate(base, cur, {}).exit_code(), 1);
  GateOptions loose;
  loose.tolerance_scale = 3;
  EXPECT_EQ(run_gate(base, cur, loose).exit_code(), 0);
}

// 3 against 3 can never give p below 0.1: even a doubling cannot be told
// from noise, so the gate says it cannot judge instead of passing.
TEST(Gate, TooFewRepetitionsForTheUTestCannotJudge) {
  const auto base = with({1.0, 1.01, 1.02}, {0.9, 0.91, 0.92});
  const auto doubled = with({2.0, 2.01, 2.02}, {0.9, 0.91, 0.92});
  const auto g = run_gate(base, doubled, {});
  EXPECT_EQ(g.exit_code(), 2) << g.markdown;
  EXPECT_EQ(row(g, "reference/exec/latency_ratio_c1_validate").verdict, Verdict::cannot_judge);
  EXPECT_NEAR(row(g, "reference/exec/latency_ratio_c1_validate").smallest_p, 0.1, 1e-12);
  EXPECT_TRUE(contains(g.markdown, "## keyreq gate: CANNOT JUDGE"));
  EXPECT_TRUE(contains(g.markdown, "at least 4 repetitions")) << g.markdown;
  EXPECT_EQ(run_gate(base, base, {}).exit_code(), 2);  // unchanged, still blind: never a silent pass
}

TEST(Gate, AnAlphaTheRepetitionsCannotReachCannotJudge) {
  const auto base = with(kExec, kSocket);
  GateOptions strict;
  strict.alpha = 0.001;  // 5 vs 5 reaches 0.0079 at best
  EXPECT_EQ(run_gate(base, with({1.40, 1.42, 1.41, 1.43, 1.39}, kSocket), strict).exit_code(), 2);
}

// A ci baseline (5 repetitions) against a shorter run (`keyreq bench --repetitions 3`): still judged.
TEST(Gate, FiveAgainstThreeRepetitionsCanJudge) {
  const auto base = with(kExec, kSocket);
  const auto quick = with({1.40, 1.42, 1.41}, {0.9, 0.91, 0.9});
  const auto g = run_gate(base, quick, {});
  EXPECT_EQ(g.exit_code(), 1) << g.markdown;
  EXPECT_EQ(row(g, "reference/exec/latency_ratio_c1_validate").verdict, Verdict::regression);
}

TEST(Gate, AFigureInOnlyOneReportIsNotComparableNotARegression) {
  const auto base = with(kExec, kSocket);
  auto cur = base;
  cur.figures.erase(cur.figures.begin() + 1);  // the socket figure is gone
  cur.figures.push_back(Figure{"mine/exec/floor_calibrated_p50", "new", "lower", true, 0.3, {2, 2.1, 2.2, 2, 2}});
  const auto g = run_gate(base, cur, {});
  EXPECT_EQ(g.exit_code(), 0) << g.markdown;
  EXPECT_EQ(row(g, "reference/socket/throughput_ratio_c4_validate").verdict, Verdict::not_comparable);
  EXPECT_EQ(row(g, "mine/exec/floor_calibrated_p50").verdict, Verdict::not_comparable);
  EXPECT_TRUE(contains(g.markdown, "only in the baseline report")) << g.markdown;
  EXPECT_TRUE(contains(g.markdown, "only in the current report")) << g.markdown;
}

TEST(Gate, NothingComparableCannotJudge) {
  Report base, cur;
  base.figures.push_back(Figure{"old/exec/floor_calibrated_p50", "old", "lower", true, 0.3, kExec});
  cur.figures.push_back(Figure{"new/exec/floor_calibrated_p50", "new", "lower", true, 0.3, kExec});
  EXPECT_EQ(run_gate(base, cur, {}).exit_code(), 2);
  EXPECT_EQ(run_gate(Report{}, Report{}, {}).exit_code(), 2);  // no gated figure at all
}

TEST(Gate, PolicyNamesFigureKindsForAnyProvider) {
  EXPECT_DOUBLE_EQ(gate_tolerance("reference/exec/latency_ratio_c1_validate"), 0.30);
  EXPECT_DOUBLE_EQ(gate_tolerance("my-provider/exec/latency_ratio_c1_validate"), 0.30);
  EXPECT_DOUBLE_EQ(gate_tolerance("my-provider/exec/floor_calibrated_p50"), 0.30);
  EXPECT_DOUBLE_EQ(gate_tolerance("my-provider/socket/floor_calibrated_p50"), 0.40);
  EXPECT_DOUBLE_EQ(gate_tolerance("reference/socket/throughput_ratio_peak"), 0.0);
  EXPECT_DOUBLE_EQ(gate_tolerance("floor_calibrated_p50"), 0.0);
}

// What is judged is what the reports mark gated; the tolerance is this
// build's policy where it names the figure, else the one recorded.
TEST(Gate, JudgesWhatTheReportsMarkGated) {
  auto base = with(kExec, kSocket);
  base.figures[0].tolerance = 5.0;  // a recorded tolerance the policy overrides
  base.figures.push_back(Figure{"mine/exec/floor_calibrated_p50",
                                "provider floor p50 / bare posix_spawn p50",
                                "lower",
                                true,
                                0.3,
                                {3.0, 3.1, 3.05, 2.95, 3.0}});
  base.figures.push_back(
      Figure{"mine/exec/other_kind", "a kind the policy does not name", "lower", true, 0.5, {1, 1.01, 1.02, 0.99, 1}});
  auto cur = base;
  cur.figures[0].values = {1.40, 1.42, 1.41, 1.43, 1.39};
  cur.figures[2].values = {0.1, 0.1};                    // not gated: never judged
  cur.figures[3].values = {4.5, 4.6, 4.55, 4.4, 4.5};    // calibrated floor 50% slower
  cur.figures[4].values = {1.4, 1.41, 1.42, 1.39, 1.4};  // 40% worse, recorded tolerance 50%: ok
  const auto g = run_gate(base, cur, {});
  EXPECT_EQ(g.exit_code(), 1) << g.markdown;
  EXPECT_DOUBLE_EQ(row(g, "reference/exec/latency_ratio_c1_validate").tolerance, 0.30);
  EXPECT_EQ(row(g, "reference/exec/latency_ratio_c1_validate").verdict, Verdict::regression);
  EXPECT_EQ(row(g, "mine/exec/floor_calibrated_p50").verdict, Verdict::regression);
  EXPECT_DOUBLE_EQ(row(g, "mine/exec/other_kind").tolerance, 0.5);
  EXPECT_EQ(row(g, "mine/exec/other_kind").verdict, Verdict::ok);
  for (const auto& r : g.rows) EXPECT_NE(r.id, "reference/socket/throughput_ratio_peak");
}

TEST(Gate, MarkdownSaysWhatEachFigureMeasuresAndWhichWayIsBetter) {
  const auto g = run_gate(with(kExec, kSocket), with(kExec, kSocket), {});
  EXPECT_TRUE(contains(g.markdown,
                       "`reference/exec/latency_ratio_c1_validate`: exec resolver p50 / floor p50 — "
                       "lower is better, so a rise is a slowdown."))
      << g.markdown;
  EXPECT_TRUE(contains(g.markdown, "socket resolver / floor throughput — higher is better, so a fall is a slowdown."));
  EXPECT_TRUE(contains(g.markdown, "| lower ↓ |"));
}

TEST(Gate, WrongOutcomesFailTheGate) {
  const auto base = with(kExec, kSocket);
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
  EXPECT_EQ(g.exit_code(), 1);
  ASSERT_EQ(g.problems.size(), 1u);
  EXPECT_TRUE(contains(g.problems[0], "refused: S3"));
}

}  // namespace
}  // namespace keyreq::bench
