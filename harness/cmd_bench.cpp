// keyreq bench: exec against socket, side by side, floors measured in the
// same run; reports into reports/latest/ (bench/, docs/bench.md).
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>

#include "bench/bench.hpp"
#include "bench/format.hpp"
#include "bench/gate.hpp"
#include "bench/report.hpp"
#include "bench/stats.hpp"
#include "harness/commands.hpp"
#include "harness/progress.hpp"

namespace keyreq::harness {

namespace {

// What `keyreq bench --help` says after the options.
constexpr const char* kHelpFooter = R"(Your own provider: keyreq bench --exec "python3 my_provider.py --db agents.db" \
  --socket /tmp/p.sock --socket-cmd "python3 my_provider.py --db agents.db --socket /tmp/p.sock" \
  --dataset agents.csv   (every answer is checked against the dataset while timing)
Writes report.json, report.md, index.html and one .hgrm per series to --out; prints the DESIGN.md target
lines and what the run means. Exit 0 when the run completed (targets may FAIL: `keyreq gate` judges),
2 usage (bad or missing input, your daemon never came up), 3 could not measure.)";

struct BenchCli {
  bench::BenchOptions options;
  std::string providers;
  std::string mix;
  std::string sweep;
  ProgressSettings progress;
  bool no_micro = false;
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

// The summary on stdout: where the reports are, the target lines, what it means.
void print_summary(const bench::Report& r, const std::string& out) {
  std::cout << "keyreq bench (" << r.profile << ", " << bench::format::fixed(r.elapsed_s, 0) << " s): reports in "
            << out << "/ (report.json, report.md, index.html, .hgrm)\n";
  for (const auto& t : r.targets) {
    std::cout << "  "
              << (!t.measured_ok ? "N/A "
                  : t.pass       ? "PASS"
                                 : "FAIL")
              << "  " << t.name << ": " << t.measured << " (" << t.requirement << ")\n";
  }
  if (!r.interpretation.empty()) std::cout << "What this means:\n";
  for (const auto& line : r.interpretation) std::cout << "  - " << line.text << "\n";
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
  // The ci profile feeds `keyreq gate`: refuse a repetition count its U test can never judge.
  if (const double alpha = bench::GateOptions{}.alpha;
      o.profile == "ci" && o.repetitions > 0 && bench::smallest_two_sided_p(o.repetitions, o.repetitions) >= alpha) {
    std::cerr << "keyreq bench: --profile ci --repetitions " << o.repetitions
              << ": with so few repetitions the gate's U test can never reach p < " << alpha
              << " (the gate would exit 2); use at least " << bench::repetitions_to_reach(alpha) << "\n";
    return 2;
  }
  if (cli.no_micro) o.micro = false;
  Progress progress = Progress::on_stderr(cli.progress, "bench");
  o.on_progress = [&progress](const std::string& text) { progress.step(text); };
  bench::BenchResult result = bench::run_bench(o);
  progress.finish();
  // Notes (a transport not measured, wrong answers, …) after the progress line is gone.
  for (const auto& note : result.report.notes) std::cerr << "keyreq bench: " << note << "\n";
  if (result.status != bench::BenchResult::Status::done) {
    std::cerr << "keyreq bench: " << result.error << "\n";
    return result.status == bench::BenchResult::Status::usage ? 2 : 3;
  }
  std::string warnings;
  const std::string error = bench::write_reports(result.report, o.out, warnings);
  if (!warnings.empty()) std::cerr << "keyreq bench: " << warnings << "\n";
  if (!error.empty()) {
    std::cerr << "keyreq bench: " << error << "\n";
    return 3;
  }
  print_summary(result.report, o.out);
  return 0;
}
}  // namespace

void add_bench_command(CLI::App& root, Action& action) {
  auto cli = std::make_shared<BenchCli>();
  auto* cmd = root.add_subcommand("bench", "exec against socket, side by side, with floors measured in the same run");
  auto& o = cli->options;
  cmd->add_option("--profile", o.profile,
                  "quick (make bench), ci (short, 5 repetitions for the gate), full, or smoke (seconds, for tests)")
      ->capture_default_str()
      ->check(CLI::IsMember(bench::profile_names()));
  cmd->add_option("--providers", cli->providers,
                  "built-in providers, comma-separated: reference, python, php, perl, or all (default: quick/full all, "
                  "ci reference; none when --exec/--socket is given)");
  auto& u = o.user;
  cmd->add_option("--exec", u.exec,
                  "YOUR provider over exec: its command line, split like exec_path (SPEC §3, no shell); "
                  "the request words are appended");
  cmd->add_option("--socket", u.socket, "YOUR provider over socket: the Unix socket its daemon serves");
  cmd->add_option("--socket-cmd", u.socket_cmd,
                  "start this daemon for --socket (own process group, health-checked, stopped at the end)");
  cmd->add_option("--dataset", u.dataset,
                  "the agents YOUR provider serves: CSV id,name,ip,key or SQLite table agent (as keyreq certify)");
  cmd->add_option("--name", u.name, "label of YOUR provider in the report (default: from the command)");
  cmd->add_option("--herd", o.herd,
                  "herd of N distinct agents through keyreq serve (0: off; default: quick/full 10000/50000 for the "
                  "reference provider, your provider 1000 (ci 200, full 10000), smoke off)")
      ->check(CLI::Range(0, 220000));
  cmd->add_option(
         "--herd-budget", o.herd_budget_s,
         "seconds the exec herd may take; what fits is run, the rest extrapolated (default 60, quick 15, ci/smoke 10)")
      ->check(CLI::Range(1, 3600));
  cmd->add_option("--out", o.out, "report directory")->capture_default_str();
  cmd->add_option("--agents", o.agents, "agents in the SQLite dataset")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000000));
  cmd->add_option("--mix", cli->mix,
                  "request mix, e.g. id=80,ip=15,unknown=5,invalid=0,zipf=1.1 (default as shown, uniform)");
  cmd->add_flag("--validate-only", o.validate_only, "do not register into client.keys (default: a fresh one per run)");
  cmd->add_flag("--direct", o.direct,
                "drive one Resolver per load-generator thread instead of going through the dispatcher");
  cmd->add_option("--repetitions", o.repetitions,
                  "override the profile's repetitions (each series and the socket herd)")
      ->check(CLI::Range(1, 100));
  cmd->add_option("--duration-ms", o.duration_ms, "override the measured time of each run")
      ->check(CLI::Range(10, 600000));
  cmd->add_option("--concurrency", cli->sweep, "override the closed-loop sweep, e.g. 1,2,4,8");
  cmd->add_option("--workdir", o.workdir, "where the private work directory goes (default $TMPDIR or /tmp)");
  cmd->add_flag("--keep-workdir", o.keep_workdir, "keep the work directory (dataset, client.keys, daemon logs)");
  cmd->add_flag("--no-micro", cli->no_micro, "skip the Google Benchmark microbenchmarks");
  add_progress_flags(*cmd, cli->progress);
  cmd->add_option(
         "--inject-delay-us", o.inject_delay_us,
         "TESTING ONLY: sleep this long before every resolver provider call (proves the gate catches a slowdown)")
      ->check(CLI::Range(0, 10000000));
  finish_command(*cmd, kHelpFooter, action, [cli] {
    // The report records the command exactly as typed.
    std::string line;
    std::ifstream in("/proc/self/cmdline", std::ios::binary);
    std::string word;
    while (std::getline(in, word, '\0')) line += (line.empty() ? "" : " ") + word;
    return Action([cli, line] { return run_bench_cli(*cli, line); });
  });
}

}  // namespace keyreq::harness
