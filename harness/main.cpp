// keyreq: benchmark and conformance harness for the agent key request protocol.
#include <iostream>

#include "harness/commands.hpp"

int main(int argc, char** argv) {
  CLI::App app{"keyreq: resolver, benchmark and conformance harness for the agent key request protocol"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "keyreq 0.1.0");

  keyreq::harness::Action action;
  keyreq::harness::add_resolve_command(app, action);
  keyreq::harness::add_dataset_command(app, action);
  keyreq::harness::add_bench_command(app, action);
  keyreq::harness::add_serve_command(app, action);
  keyreq::harness::add_gate_command(app, action);
  keyreq::harness::add_fuzz_command(app, action);
  keyreq::harness::add_certify_command(app, action);

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
