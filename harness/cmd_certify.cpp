// keyreq certify: placeholder until its issue lands; the owner replaces this file.
#include <iostream>

#include "harness/commands.hpp"

namespace keyreq::harness {

void add_certify_command(CLI::App& root, Action& action) {
  auto* cmd = root.add_subcommand("certify", "black-box certification of a provider, over exec or socket (not built yet)");
  cmd->allow_extras();
  cmd->callback([&action] {
    action = [] {
      std::cerr << "keyreq certify: not implemented yet\n";
      return 3;
    };
  });
}

}  // namespace keyreq::harness
