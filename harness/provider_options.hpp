#pragma once
// --exec CMD | --socket PATH, shared by every subcommand that talks to a provider.
#include <CLI/CLI.hpp>
#include <memory>
#include <string>
#include <variant>

#include "resolver/core/provider_client.hpp"

namespace keyreq::harness {

struct ProviderOptions {
  std::string exec;
  std::string socket;
  double timeout_seconds = 60;

  void add_to(CLI::App& cmd);
  CallLimits limits() const;
  // The client for the chosen transport, or an error message (usage error).
  std::variant<std::unique_ptr<ProviderClient>, std::string> make_client() const;
};

}  // namespace keyreq::harness
