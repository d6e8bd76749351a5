// keyreq gate: placeholder until its issue lands; the owner replaces this file.
#include <iostream>

#include "harness/commands.hpp"

namespace keyreq::harness {

void add_gate_command(CLI::App& root, Action& action) {
  auto* cmd = root.add_subcommand("gate", "compare a bench report against a baseline; exit 1 on regression (not built yet)");
  cmd->allow_extras();
  cmd->callback([&action] {
    action = [] {
      std::cerr << "keyreq gate: not implemented yet\n";
      return 3;
    };
  });
}

}  // namespace keyreq::harness
