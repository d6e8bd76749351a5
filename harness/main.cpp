// keyreq: benchmark and conformance harness for the agent key request protocol.
#include <algorithm>
#include <iostream>

#include "harness/commands.hpp"
#include "harness/suggest.hpp"

namespace {

std::vector<std::string> subcommand_names(const CLI::App& app) {
  std::vector<std::string> names;
  for (const auto* sub : app.get_subcommands([](const CLI::App*) { return true; })) names.push_back(sub->get_name());
  return names;
}

bool is_subcommand(const CLI::App& app, const std::string& name) {
  const auto names = subcommand_names(app);
  return std::find(names.begin(), names.end(), name) != names.end();
}

// "keyreq: unknown subcommand "bnech"; did you mean "bench"?" on stderr; 2.
int unknown_subcommand(const CLI::App& app, const std::string& typed) {
  std::cerr << "keyreq: unknown subcommand \"" << typed << "\"";
  if (const auto guess = keyreq::harness::closest(typed, subcommand_names(app)); !guess.empty()) {
    std::cerr << "; did you mean \"" << guess << "\"?";
  }
  std::cerr << "\nRun `keyreq help` for the list.\n";
  return 2;
}

// `keyreq help [CMD]`: the same text as `keyreq [CMD] --help`, exit 0.
int help(const CLI::App& app, int argc, char** argv) {
  if (argc < 3) {
    std::cout << app.help();
    return 0;
  }
  const std::string name = argv[2];
  if (!is_subcommand(app, name)) return unknown_subcommand(app, name);
  std::cout << app.get_subcommand(name)->help("keyreq");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // The name is fixed: usage lines say `keyreq`, not the path it was run by.
  CLI::App app{"keyreq: resolver, benchmark and conformance harness for the agent key request protocol", "keyreq"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "keyreq 0.1.0");
  app.footer(
      "Run `keyreq help CMD` or `keyreq CMD --help` for a subcommand.\n"
      "Exit codes: 0 success, 1 the checked thing failed, 2 usage or configuration error, 3 internal failure.");

  keyreq::harness::Action action;
  keyreq::harness::add_resolve_command(app, action);
  keyreq::harness::add_dataset_command(app, action);
  keyreq::harness::add_bench_command(app, action);
  keyreq::harness::add_serve_command(app, action);
  keyreq::harness::add_gate_command(app, action);
  keyreq::harness::add_fuzz_command(app, action);
  keyreq::harness::add_certify_command(app, action);

  if (argc >= 2 && std::string_view(argv[1]) == "help") return help(app, argc, argv);
  if (argc >= 2 && argv[1][0] != '-' && !is_subcommand(app, argv[1])) {
    return unknown_subcommand(app, argv[1]);
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : 2;  // --help exits 0; every usage error is 2
  }
  try {
    return action ? action() : 2;
  } catch (const std::exception& e) {
    std::cerr << "keyreq: internal error: " << e.what() << "\n";
    return 3;
  }
}
