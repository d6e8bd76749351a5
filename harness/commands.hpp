#pragma once
// Each subcommand lives in its own cmd_<name>.cpp and registers itself on the
// root app; `action` is set to the code to run when that subcommand is chosen.
// Exit codes (DESIGN.md): 0 success, 1 the checked thing failed, 2 usage or
// configuration error, 3 internal failure.
#include <CLI/CLI.hpp>
#include <functional>

namespace keyreq::harness {

using Action = std::function<int()>;

// Ends a subcommand's set-up, the same way for each: `footer` closes its
// --help, and when the subcommand is chosen `choose` (run after parsing, so it
// may read what was given) returns what `action` becomes.
inline void finish_command(CLI::App& cmd, const char* footer, Action& action, std::function<Action()> choose) {
  cmd.footer(footer);
  cmd.callback([&action, choose = std::move(choose)] { action = choose(); });
}

void add_resolve_command(CLI::App& root, Action& action);
void add_dataset_command(CLI::App& root, Action& action);
void add_bench_command(CLI::App& root, Action& action);
void add_serve_command(CLI::App& root, Action& action);
void add_gate_command(CLI::App& root, Action& action);
void add_fuzz_command(CLI::App& root, Action& action);
void add_certify_command(CLI::App& root, Action& action);

}  // namespace keyreq::harness
