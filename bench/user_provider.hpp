#pragma once
// The user's own provider for `keyreq bench --exec CMD / --socket PATH
// [--socket-cmd CMD] --dataset FILE [--name LABEL]`: every input checked
// before anything is measured, each bad one named (the harness exits 2).
#include <string>
#include <variant>
#include <vector>

#include "bench/bench.hpp"
#include "bench/fixture.hpp"
#include "dataset/dataset.hpp"

namespace keyreq::bench {

struct UserProvider {
  ProviderSpec spec;
  std::vector<fixtures::DatasetAgent> agents;  // the dataset the answers are checked against
  std::string exec_line;                       // --exec as given (keyreq serve's exec_path in the herd)
};

struct UsageError {
  std::string message;
};

// Splits the command lines (SPEC §3, no shell), finds their programs, loads
// and checks the dataset (the loader and checks of `keyreq certify
// --dataset`), derives the name. Does not start anything.
std::variant<UserProvider, UsageError> prepare_user_provider(const UserProviderOptions& options);

// Recognises the interpreter of `command` from its first word or the first
// word's shebang; fills spec.interpreter and spec.startup_command.
void recognise_interpreter(ProviderSpec& spec);

// Names the built-in providers and series groups use; a --name may not take them.
bool reserved_provider_name(const std::string& name);

}  // namespace keyreq::bench
