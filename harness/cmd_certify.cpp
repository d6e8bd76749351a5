// keyreq certify: black-box certification of a provider over exec or socket
// (docs/certify.md). Exit 0 certified, 1 not certified, 2 usage error,
// 3 internal failure (a report could not be written).
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>

#include "conformance/certify/certifier.hpp"
#include "conformance/certify/interruption.hpp"
#include "conformance/certify/provider_guardian.hpp"
#include "conformance/certify/redact.hpp"
#include "conformance/certify/report.hpp"
#include "harness/commands.hpp"
#include "harness/progress.hpp"
#include "harness/provider_options.hpp"
#include "resolver/transport/command_line.hpp"

namespace keyreq::harness {

namespace {

// What `keyreq certify --help` says after the options.
constexpr const char* kHelpFooter =
    R"(Probes: smoke lookups, a dataset sample (exact records), every request form SPEC §2 allows (ids of
3-8 digits, IPv6 spellings, boundaries), adversarial requests (SQL injection, shell metacharacters,
malformed values), parallel consistency, stderr/exit status (exec), health check, half-close, pieces,
concurrency (socket). MUST findings block certification; SHOULD ones are warnings. Findings are
printed once per rule (count, hint, first examples); certificate.json has every one. Agent keys are
redacted unless --show-keys. Ctrl-C stops the providers certify started.
Exit 0 certified, 1 not certified, 2 usage error, 3 a report could not be written. docs/certify.md.)";

struct CertifyCommandOptions {
  ProviderOptions provider;
  std::string dataset;
  std::string out;
  std::string junit;
  unsigned parallel = 4;
  bool verbose = false;
  bool show_keys = false;
  bool warnings_as_failures = false;
  std::size_t max_failures = 0;
  ProgressSettings progress;
};

int usage(const std::string& message) {
  std::cerr << "keyreq certify: " << message << "\n";
  return 2;
}

int run_certify(const CertifyCommandOptions& o) {
  certify::CertifyOptions c;
  if (o.provider.exec.empty() == o.provider.socket.empty())
    return usage("give exactly one of --exec CMD or --socket PATH");
  if (!o.provider.exec.empty()) {
    auto words = split_command_line(o.provider.exec);
    if (auto* error = std::get_if<CommandLineError>(&words)) return usage("--exec: " + error->reason);
    c.transport = certify::Transport::exec;
    c.command = std::get<std::vector<std::string>>(std::move(words));
    c.command_line = o.provider.exec;
    const std::string& program = c.command.front();
    if (find_in_path(program).empty()) return usage("--exec: \"" + program + "\" not found in PATH");
    struct stat st {};
    if (program.find('/') != std::string::npos && ::stat(program.c_str(), &st) != 0) {
      return usage("--exec: " + program + " does not exist");
    }
  } else {
    c.transport = certify::Transport::socket;
    c.socket_path = o.provider.socket;
    struct stat st {};
    if (::stat(c.socket_path.c_str(), &st) != 0)
      return usage("--socket: " + c.socket_path + " does not exist (start the daemon first)");
    if (!S_ISSOCK(st.st_mode)) return usage("--socket: " + c.socket_path + " is not a socket");
  }
  if (o.dataset.empty()) return usage("--dataset FILE is required");
  auto dataset = certify::read_dataset(o.dataset);
  if (!dataset) return usage("--dataset: " + dataset.error);
  if (auto problem = certify::dataset_problem(dataset.agents); !problem.empty()) {
    return usage("--dataset: " + o.dataset + ": " + problem);
  }
  c.dataset_path = o.dataset;
  c.agents = std::move(dataset.agents);
  c.timeout = std::chrono::milliseconds(static_cast<long>(o.provider.timeout_seconds * 1000));
  c.parallel = o.parallel;
  c.max_failures = o.max_failures;

  if (!o.out.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(o.out, ec);
    if (ec) return usage("--out: cannot create " + o.out + ": " + ec.message());
  }
  Progress progress = Progress::on_stderr(o.progress, "keyreq certify");
  c.planned = [&progress](std::size_t probes) { progress.set_total(probes); };
  c.progress = [&progress](const certify::ProbeResult& p) { progress.step(p.id); };
  // Before any thread: kill -9 of certify must not leave providers running.
  if (auto error = certify::start_provider_guardian(); !error.empty()) {
    std::cerr << "keyreq certify: warning: no guardian for provider processes (" << error
              << "): if certify is killed, providers it started may keep running\n";
  }
  certify::Certificate cert = [&c] {
    const certify::StopProvidersOnSignal stop_on_signal;  // Ctrl-C: no provider left running
    return certify::certify(c);
  }();
  progress.finish();
  // Judged with whole keys; written without them unless asked.
  if (!o.show_keys) cert = certify::redacted(std::move(cert));

  certify::write_console(cert, std::cout, o.verbose);
  const bool failed = !cert.certified() || (o.warnings_as_failures && cert.should_findings() > 0);
  int rc = failed ? 1 : 0;
  if (!o.out.empty()) {
    if (auto error = certify::write_certificate_files(cert, o.out); !error.empty()) {
      std::cerr << "keyreq certify: " << error << "\n";
      rc = 3;
    } else {
      std::cout << "wrote " << o.out << "/certificate.json and " << o.out << "/certificate.md\n";
    }
  }
  if (!o.junit.empty()) {
    if (auto error = certify::write_text_file(o.junit, certify::junit_xml(cert, o.warnings_as_failures));
        !error.empty()) {
      std::cerr << "keyreq certify: " << error << "\n";
      rc = 3;
    } else {
      std::cout << "wrote " << o.junit << "\n";
    }
  }
  return rc;
}
}  // namespace

void add_certify_command(CLI::App& root, Action& action) {
  auto options = std::make_shared<CertifyCommandOptions>();
  options->provider.timeout_seconds = 5;
  auto* cmd = root.add_subcommand("certify", "black-box certification of a provider, over exec or socket");
  options->provider.add_to(*cmd);
  cmd->add_option("--dataset", options->dataset,
                  "the agents the provider must know: CSV (header id,name,ip,key) or SQLite from `keyreq dataset`")
      ->required();
  cmd->add_option("--out", options->out, "directory for certificate.json and certificate.md");
  cmd->add_option("--junit", options->junit, "JUnit XML file, one testcase per probe");
  cmd->add_option("--parallel", options->parallel, "concurrent calls (parallel probe and probe workers)")
      ->capture_default_str()
      ->check(CLI::Range(1u, 64u));
  cmd->add_option("--max-failures", options->max_failures,
                  "stop probing after N failed probes (the rest are skipped); 0: run every probe")
      ->capture_default_str();
  cmd->add_flag("--show-keys", options->show_keys,
                "write agent keys whole (default: first 4 and last 4 hex digits and the length)");
  cmd->add_flag("--warnings-as-failures", options->warnings_as_failures,
                "SHOULD findings fail too: JUnit <failure>, exit 1");
  cmd->add_flag("-v,--verbose", options->verbose, "every probe with its findings and evidence, passing ones too");
  add_progress_flags(*cmd, options->progress);
  finish_command(*cmd, kHelpFooter, action, [options] { return Action([options] { return run_certify(*options); }); });
}

}  // namespace keyreq::harness
