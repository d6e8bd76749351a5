#pragma once
// Each subcommand lives in its own cmd_<name>.cpp and registers itself on the
// root app; `action` is set to the code to run when that subcommand is chosen.
// Exit codes (DESIGN.md): 0 success, 1 the checked thing failed, 2 usage or
// configuration error, 3 internal failure.
#include <CLI/CLI.hpp>
#include <functional>

namespace keyreq::harness {

using Action = std::function<int()>;

void add_resolve_command(CLI::App& root, Action& action);
void add_dataset_command(CLI::App& root, Action& action);
void add_bench_command(CLI::App& root, Action& action);
void add_serve_command(CLI::App& root, Action& action);
void add_gate_command(CLI::App& root, Action& action);
void add_fuzz_command(CLI::App& root, Action& action);
void add_certify_command(CLI::App& root, Action& action);

}  // namespace keyreq::harness
