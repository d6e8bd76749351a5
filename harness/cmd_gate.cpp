// keyreq gate: a bench report against a baseline; Markdown verdict on
// stdout, exit 1 on regression, 2 when it cannot judge (bench/gate.hpp says how).
#include <fstream>
#include <iostream>
#include <sstream>

#include "bench/gate.hpp"
#include "bench/report.hpp"
#include "harness/commands.hpp"

namespace keyreq::harness {

namespace {

// What `keyreq gate --help` says after the options.
constexpr const char* kHelpFooter =
    R"(Gated: the figures the reports mark gated (`keyreq bench` marks them by the policy in bench/gate.cpp,
docs/bench.md): ratios measured within one run and a provider's floor over a calibration of the same run.
A figure regresses when its median is worse by more than its tolerance and the U test over repetitions
gives p < alpha. Requests that did not get their expected outcome also fail the gate. A figure in only
one report is "not comparable" (listed, not a regression).
Exit 0 no regression; 1 regression; 2 cannot judge (too few repetitions for the U test to reach alpha,
no figure in both reports), unreadable report, report of another schema version, or usage error.)";

struct GateCli {
  std::string baseline;
  std::string current;
  std::string summary;  // also append the verdict here (e.g. $GITHUB_STEP_SUMMARY)
  bench::GateOptions options;
};

std::optional<bench::Report> load(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::cerr << "keyreq gate: cannot read the " << what << " report " << path << "\n";
    return std::nullopt;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  std::string error;
  auto report = bench::parse_report_json(ss.str(), error);
  if (!report) std::cerr << "keyreq gate: " << path << ": " << error << "\n";
  return report;
}

int run_gate_cli(const GateCli& cli) {
  const auto baseline = load(cli.baseline, "baseline");
  const auto current = load(cli.current, "current");
  if (!baseline || !current) return 2;
  const auto result = bench::run_gate(*baseline, *current, cli.options);
  std::cout << result.markdown;
  if (!cli.summary.empty()) {
    std::ofstream out(cli.summary, std::ios::app);
    out << result.markdown << "\n";
    if (!out) {
      std::cerr << "keyreq gate: cannot append the verdict to " << cli.summary << "\n";
      return 2;
    }
  }
  for (const auto& why : result.blind) std::cerr << "keyreq gate: cannot judge: " << why << "\n";
  return result.exit_code();
}
}  // namespace

void add_gate_command(CLI::App& root, Action& action) {
  auto cli = std::make_shared<GateCli>();
  auto* cmd = root.add_subcommand("gate", "compare a bench report against a baseline; exit 1 on regression");
  cmd->add_option("--baseline", cli->baseline, "baseline report.json (e.g. reports/baseline/report.json)")->required();
  cmd->add_option("--current", cli->current, "current report.json (e.g. reports/latest/report.json)")->required();
  cmd->add_option("--alpha", cli->options.alpha, "significance level of the Mann-Whitney U test")
      ->capture_default_str()
      ->check(CLI::Range(0.0001, 0.5));
  cmd->add_option("--tolerance-scale", cli->options.tolerance_scale, "multiply every figure's tolerance")
      ->capture_default_str()
      ->check(CLI::Range(0.01, 100.0));
  cmd->add_option("--summary", cli->summary, "also append the Markdown verdict to this file");
  finish_command(*cmd, kHelpFooter, action, [cli] { return Action([cli] { return run_gate_cli(*cli); }); });
}

}  // namespace keyreq::harness
