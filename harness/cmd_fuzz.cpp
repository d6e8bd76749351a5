// keyreq fuzz: differential conformance of the resolver against the rule
// oracle (conformance/fuzz_run.hpp, docs/conformance.md).
#include <fstream>
#include <iostream>
#include <iterator>

#include "conformance/compare.hpp"
#include "conformance/fuzz_run.hpp"
#include "conformance/oracle.hpp"
#include "harness/commands.hpp"
#include "harness/progress.hpp"

namespace keyreq::harness {

namespace {

// What `keyreq fuzz --help` says after the options.
constexpr const char* kHelpFooter =
    R"(Each case is judged by the resolver (in process) and by the rule oracle (conformance/oracle.cpp);
a disagreement is shrunk to a minimal answer and printed escaped. Exit 0 when they agree on every
case, 1 on any disagreement (or a generator whose intent the oracle contradicts).)";

struct FuzzCommandOptions {
  conformance::FuzzOptions fuzz;
  ProgressSettings progress;
  std::string judge_file;
  std::string request = "id:001";
};

// --judge FILE: one output through both sides, verdicts printed.
int judge_one(const FuzzCommandOptions& o) {
  std::ifstream in(o.judge_file, std::ios::binary);
  if (!in) {
    std::cerr << "keyreq fuzz: cannot read " << o.judge_file << "\n";
    return 2;
  }
  const std::string output((std::istreambuf_iterator<char>(in)), {});
  const auto request = conformance::parse_request_bytes(o.request);
  if (!request) {
    std::cerr << "keyreq fuzz: invalid request \"" << conformance::escape_for_display(o.request) << "\"\n";
    return 2;
  }
  conformance::InProcessResolver resolver;
  const auto c = conformance::compare(resolver, *request, output);
  std::cout << "request  " << conformance::escape_for_display(request->wire()) << "\n"
            << "output   " << conformance::escape_for_display(output) << "\n"
            << "resolver " << c.resolver.describe() << "\n"
            << "oracle   " << c.oracle.describe() << "\n"
            << (c.agree() ? "agree" : "DISAGREE") << std::endl;
  return c.agree() ? 0 : 1;
}

int run_fuzz_command(FuzzCommandOptions o) {
  if (!o.judge_file.empty()) return judge_one(o);
  Progress progress = Progress::on_stderr(o.progress, "keyreq fuzz", o.fuzz.cases);
  if (progress.enabled()) {
    o.fuzz.progress = [&progress](std::uint64_t done, std::uint64_t disagreements) {
      progress.update(done, "cases, " + std::to_string(disagreements) + " disagreements");
    };
  }
  const auto report = conformance::run_fuzz(o.fuzz);
  progress.finish();
  conformance::print_report(report, std::cout);
  std::cout << std::flush;
  return report.ok() ? 0 : 1;
}
}  // namespace

void add_fuzz_command(CLI::App& root, Action& action) {
  auto options = std::make_shared<FuzzCommandOptions>();
  auto* cmd = root.add_subcommand("fuzz", "differential conformance of the resolver against the rule oracle");
  cmd->add_option("--cases", options->fuzz.cases, "number of generated provider answers")
      ->default_val(10000)
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{100'000'000}));
  cmd->add_option("--seed", options->fuzz.seed, "generator seed: the same seed gives the same cases")->default_val(1);
  cmd->add_option("--corpus", options->fuzz.corpus_dir,
                  "directory to write each disagreement (shrunk and original) and one example per verdict into");
  cmd->add_option("--transport-every", options->fuzz.transport_every,
                  "also send every Nth case through a real exec and socket provider into client.keys (0: never)")
      ->default_val(200);
  cmd->add_option("--transport-max", options->fuzz.transport_max, "at most this many cases through each transport")
      ->default_val(200);
  add_progress_flags(*cmd, options->progress);
  cmd->add_flag_callback(
      "--quiet", [options] { options->progress.requested = false; }, "same as --no-progress (kept for scripts)");
  cmd->add_option("--judge", options->judge_file,
                  "judge one output file with both the resolver and the oracle instead of fuzzing");
  cmd->add_option("--request", options->request, "with --judge: the request the file answers")->default_val("id:001");
  finish_command(*cmd, kHelpFooter, action,
                 [options] { return Action([options] { return run_fuzz_command(*options); }); });
}

}  // namespace keyreq::harness
