// keyreq bench: registered here, implemented in bench/ (in progress).
#include <iostream>

#include "harness/commands.hpp"

namespace keyreq::harness {

void add_bench_command(CLI::App& root, Action& action) {
  auto* cmd = root.add_subcommand("bench", "exec against socket, side by side (not built yet)");
  cmd->allow_extras();
  cmd->callback([&action] {
    action = [] {
      std::cerr << "keyreq bench: not implemented yet\n";
      return 3;
    };
  });
}

}  // namespace keyreq::harness
