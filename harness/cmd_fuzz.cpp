// keyreq fuzz: placeholder until its issue lands; the owner replaces this file.
#include <iostream>

#include "harness/commands.hpp"

namespace keyreq::harness {

void add_fuzz_command(CLI::App& root, Action& action) {
  auto* cmd = root.add_subcommand("fuzz", "differential conformance of the resolver against the rule oracle (not built yet)");
  cmd->allow_extras();
  cmd->callback([&action] {
    action = [] {
      std::cerr << "keyreq fuzz: not implemented yet\n";
      return 3;
    };
  });
}

}  // namespace keyreq::harness
