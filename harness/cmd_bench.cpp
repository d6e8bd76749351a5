// keyreq bench: exec against socket, side by side, floors measured in the
// same run; reports into reports/latest/ (bench/, docs/bench.md).
#include <fstream>
#include <iostream>

#include "bench/bench.hpp"
#include "harness/commands.hpp"

namespace keyreq::harness {

namespace {
struct BenchCli {
  bench::BenchOptions options;
  std::string providers;
  std::string mix;
  std::string sweep;
  bool no_progress = false;
  bool no_micro = false;
  bool progress = false;
};

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : text + ",") {
    if (c == ',') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else if (c != ' ') {
      cur += c;
    }
  }
  return out;
}

int run_bench_cli(BenchCli& cli, const std::string& command_line) {
  auto& o = cli.options;
  o.command_line = command_line;
  if (!cli.providers.empty()) o.providers = split_list(cli.providers);
  if (!cli.mix.empty()) {
    std::string error;
    if (!bench::parse_mix(cli.mix, o.mix, error)) {
      std::cerr << "keyreq bench: --mix: " << error << "\n";
      return 2;
    }
  }
  if (!cli.sweep.empty()) {
    for (const auto& w : split_list(cli.sweep)) {
      try {
        const int c = std::stoi(w);
        if (c < 1 || c > 256) throw std::out_of_range("range");
        o.sweep.push_back(c);
      } catch (const std::exception&) {
        std::cerr << "keyreq bench: --concurrency: \"" << w << "\" is not a number from 1 to 256\n";
        return 2;
      }
    }
  }
  if (cli.no_micro) o.micro = false;
  if (cli.progress) o.progress = 1;
  if (cli.no_progress) o.progress = 0;
  return bench::run_bench(o);
}
}  // namespace

void add_bench_command(CLI::App& root, Action& action) {
  auto cli = std::make_shared<BenchCli>();
  auto* cmd = root.add_subcommand("bench", "exec against socket, side by side, with floors measured in the same run");
  auto& o = cli->options;
  cmd->add_option("--profile", o.profile, "quick (make bench, < 2 min), ci (< 1 min) or full")
      ->capture_default_str()
      ->check(CLI::IsMember({"quick", "ci", "full", "smoke"}));
  cmd->add_option("--providers", cli->providers,
                  "comma-separated: reference, python, php, perl, or all (default: quick/full all, ci reference)");
  cmd->add_option("--out", o.out, "report directory")->capture_default_str();
  cmd->add_option("--agents", o.agents, "agents in the SQLite dataset")->capture_default_str()->check(CLI::Range(1, 1000000));
  cmd->add_option("--mix", cli->mix, "request mix, e.g. id=80,ip=15,unknown=5,invalid=0,zipf=1.1 (default as shown, uniform)");
  cmd->add_flag("--validate-only", o.validate_only, "do not register into client.keys (default: a fresh one per run)");
  cmd->add_flag("--direct", o.direct,
                "drive one Resolver per load-generator thread instead of going through the dispatcher");
  cmd->add_option("--repetitions", o.repetitions, "override the profile's repetitions")->check(CLI::Range(1, 100));
  cmd->add_option("--duration-ms", o.duration_ms, "override the measured time of each run")->check(CLI::Range(10, 600000));
  cmd->add_option("--concurrency", cli->sweep, "override the closed-loop sweep, e.g. 1,2,4,8");
  cmd->add_option("--workdir", o.workdir, "where the private work directory goes (default $TMPDIR or /tmp)");
  cmd->add_flag("--keep-workdir", o.keep_workdir, "keep the work directory (dataset, client.keys, daemon logs)");
  cmd->add_flag("--no-micro", cli->no_micro, "skip the Google Benchmark microbenchmarks");
  cmd->add_flag("--progress", cli->progress, "show progress on stderr even when it is not a terminal");
  cmd->add_flag("--no-progress", cli->no_progress, "no progress display");
  cmd->add_option("--inject-delay-us", o.inject_delay_us,
                  "TESTING ONLY: sleep this long before every resolver provider call (proves the gate catches a slowdown)")
      ->check(CLI::Range(0, 10000000));
  cmd->footer(
      "Writes report.json, report.md, index.html and one .hgrm per series to --out; prints the DESIGN.md target\n"
      "lines. Exit 0 when the run completed (targets may FAIL: `keyreq gate` judges), 2 usage, 3 could not measure.");
  cmd->callback([cli, &action] {
    // The report records the command exactly as typed.
    std::string line;
    std::ifstream in("/proc/self/cmdline", std::ios::binary);
    std::string word;
    while (std::getline(in, word, '\0')) line += (line.empty() ? "" : " ") + word;
    action = [cli, line] { return run_bench_cli(*cli, line); };
  });
}

}  // namespace keyreq::harness
