// keyreq serve: placeholder until its issue lands; the owner replaces this file.
#include <iostream>

#include "harness/commands.hpp"

namespace keyreq::harness {

void add_serve_command(CLI::App& root, Action& action) {
  auto* cmd = root.add_subcommand("serve", "the resolver as a daemon: datagram input, queue, workers, provider supervision (not built yet)");
  cmd->allow_extras();
  cmd->callback([&action] {
    action = [] {
      std::cerr << "keyreq serve: not implemented yet\n";
      return 3;
    };
  });
}

}  // namespace keyreq::harness
