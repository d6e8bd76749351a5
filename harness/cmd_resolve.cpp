// keyreq resolve: one key request end to end, outcome as one JSON line.
#include <iostream>

#include "harness/commands.hpp"
#include "harness/provider_options.hpp"
#include "resolver/keystore/keystore.hpp"
#include "resolver/platform/child_process_groups.hpp"
#include "resolver/resolve/resolver.hpp"

namespace keyreq::harness {

namespace {

// What `keyreq resolve --help` says after the options.
constexpr const char* kHelpFooter =
    R"(Prints the outcome as one JSON line. Exit 0 registered, accepted (no --keys) or already registered;
1 declined, refused (the rule id is in the line), conflict or provider failure;
2 usage error, invalid request, or client.keys held by another keyreq process (its pid is named);
3 internal or client.keys write error.)";

struct ResolveOptions {
  ProviderOptions provider;
  std::string keys;
  bool force_insert = false;
  std::string kind;
  std::string value;
};

int run_resolve(const ResolveOptions& o) {
  // Ctrl-C / SIGTERM / SIGHUP: the provider's process group goes too.
  kill_child_groups_when_interrupted();
  auto client = o.provider.make_client();
  if (auto* error = std::get_if<std::string>(&client)) {
    std::cerr << "keyreq resolve: " << *error << "\n";
    return 2;
  }
  std::unique_ptr<KeyStore> keys;
  if (!o.keys.empty()) {
    auto opened = KeyStore::open(o.keys, KeyStoreOptions{o.force_insert});
    if (auto* error = std::get_if<KeyStoreError>(&opened)) {
      std::cerr << "keyreq resolve: cannot use client.keys: " << error->message() << "\n";
      return 2;
    }
    keys = std::get<std::unique_ptr<KeyStore>>(std::move(opened));
    if (!keys->repair_note().empty()) std::cerr << "keyreq resolve: " << keys->repair_note() << "\n";
  }
  const std::string raw = o.kind + ":" + o.value;
  Resolver resolver(*std::get<std::unique_ptr<ProviderClient>>(client), keys.get());
  auto parsed = make_request(o.kind, o.value);
  Outcome outcome = std::holds_alternative<Request>(parsed)
                        ? resolver.resolve(std::get<Request>(parsed))
                        : Outcome{outcome::InvalidRequest{std::get<InvalidRequest>(parsed).reason}};
  std::cout << outcome_json(outcome, raw) << std::endl;
  return outcome_exit_code(outcome);
}
}  // namespace

void add_resolve_command(CLI::App& root, Action& action) {
  auto options = std::make_shared<ResolveOptions>();
  auto* cmd = root.add_subcommand("resolve", "ask a provider for one agent, check the answer, register it");
  options->provider.add_to(*cmd);
  cmd->add_option("--keys", options->keys, "client.keys file to register into (without it: validate only)");
  cmd->add_flag("--force-insert", options->force_insert, "replace conflicting entries (SPEC §5)");
  cmd->add_option("kind", options->kind, "id or ip")->required()->check(CLI::IsMember({"id", "ip"}));
  cmd->add_option("value", options->value, "agent id (3-8 digits) or IP address")->required();
  finish_command(*cmd, kHelpFooter, action, [options] { return Action([options] { return run_resolve(*options); }); });
}

}  // namespace keyreq::harness
