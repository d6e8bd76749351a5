// keyreq serve: the resolver as a daemon (docs/serve.md). This file merges
// the configuration file and the flags; resolver/daemon/server.* is the daemon
// (start-up and shutdown order) and resolver/daemon/serve_signals.* its signals.
#include <algorithm>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>

#include "harness/commands.hpp"
#include "resolver/daemon/config.hpp"
#include "resolver/daemon/log.hpp"
#include "resolver/daemon/serve_signals.hpp"
#include "resolver/daemon/server.hpp"
#include "resolver/platform/escape.hpp"

namespace keyreq::harness {

namespace {

// What `keyreq serve --help` says after the options.
constexpr const char* kHelpFooter =
    R"(Flags override the file. Exit 0 after SIGTERM/SIGINT/SIGHUP (in-flight requests finished, provider
stopped; a second signal cancels the requests still waiting); SIGUSR1 logs a serve_status line.
2 on any configuration error (the message names the tag, the value and what is allowed), when
client.keys is held by another keyreq process (its pid is named) or is not a regular file.)";

struct ServeOptions {
  std::string config;
  std::string exec;
  std::string socket;
  std::string home;
  std::string input;
  std::string keys;
  std::string threads;
  std::string queue_size;
  std::string timeout;
  bool force_insert = false;
  bool exec_fallback = false;
  std::string metrics_file;
  std::string log_level = "info";
};

int usage_error(const std::string& message) {
  std::cerr << "keyreq serve: " << message << "\n";
  return 2;
}

// The merged configuration: file first, flags over it.
std::variant<KeyRequestConfig, int> build_config(const ServeOptions& o) {
  KeyRequestConfig config;
  if (!o.config.empty()) {
    auto loaded = load_key_request_config(o.config);
    if (auto* error = std::get_if<ConfigError>(&loaded)) return usage_error(error->message());
    config = std::get<KeyRequestConfig>(std::move(loaded));
  } else if (o.exec.empty() && o.socket.empty()) {
    return usage_error("give --config FILE, or --exec CMD and/or --socket PATH");
  }
  const std::pair<const char*, const std::string*> flags[] = {{"exec_path", &o.exec},
                                                              {"socket", &o.socket},
                                                              {"timeout", &o.timeout},
                                                              {"threads", &o.threads},
                                                              {"queue_size", &o.queue_size}};
  const char* flag_names[] = {"--exec", "--socket", "--timeout", "--threads", "--queue-size"};
  for (std::size_t i = 0; i < std::size(flags); ++i) {
    if (flags[i].second->empty()) continue;  // not given (an empty --exec/--socket is refused earlier)
    if (auto error = apply_setting(config, flags[i].first, *flags[i].second, flag_names[i])) {
      return usage_error(error->message());
    }
  }
  if (o.force_insert) config.force_insert = true;
  if (o.exec_fallback) config.exec_fallback = true;
  if (!config.block_found && (!o.exec.empty() || !o.socket.empty())) config.enabled = true;
  return config;
}

int run_serve(const ServeOptions& o, const std::vector<std::string>& given) {
  // Flags given with an empty value are refused like an empty tag.
  for (const auto& [flag, tag] : {std::pair{"--exec", "exec_path"}, std::pair{"--socket", "socket"}}) {
    if (std::find(given.begin(), given.end(), flag) != given.end()) {
      KeyRequestConfig scratch;
      const std::string& value = std::string(flag) == "--exec" ? o.exec : o.socket;
      if (auto error = apply_setting(scratch, tag, value, flag)) return usage_error(error->message());
    }
  }
  auto built = build_config(o);
  if (auto* rc = std::get_if<int>(&built)) return *rc;
  ServerOptions server_options;
  server_options.config = std::get<KeyRequestConfig>(std::move(built));
  const KeyRequestConfig& config = server_options.config;
  const auto level = log::parse_level(o.log_level);
  if (!level)
    return usage_error("--log-level: \"" + escape_bytes(o.log_level) +
                       "\" is not one of trace, debug, info, warn, error, off");
  if (!config.enabled) {
    std::cerr << "keyreq serve: key request is disabled in " << o.config
              << (config.block_found ? " (<key_request><enabled>no</enabled>)" : " (no <key_request> block)")
              << "; nothing to serve\n";
    return 0;
  }
  if (auto error = check_complete(config)) return usage_error(error->message());

  server_options.config_file = o.config;
  server_options.metrics_file = o.metrics_file;
  server_options.input_path = !o.input.empty() ? o.input
                              : o.home.empty() ? ""
                                               : (std::filesystem::path(o.home) / "queue/sockets/krequest").string();
  server_options.keys_path = !o.keys.empty()  ? o.keys
                             : o.home.empty() ? ""
                                              : (std::filesystem::path(o.home) / "etc/client.keys").string();
  if (server_options.input_path.empty())
    return usage_error("give --input PATH or --home DIR (input DIR/queue/sockets/krequest)");
  if (auto error = check_socket_path(server_options.input_path,
                                     o.input.empty() ? "--home (input DIR/queue/sockets/krequest)" : "--input")) {
    return usage_error(error->message());
  }
  if (server_options.keys_path.empty()) return usage_error("give --keys FILE or --home DIR (keys DIR/etc/client.keys)");

  block_serve_signals();  // before any thread starts: every thread inherits the mask
  log::init(*level);
  auto created = Server::create(std::move(server_options));
  if (auto* error = std::get_if<std::string>(&created)) return usage_error(*error);
  return serve_until_signalled(*std::get<std::unique_ptr<Server>>(created));
}

}  // namespace

void add_serve_command(CLI::App& root, Action& action) {
  auto options = std::make_shared<ServeOptions>();
  auto* cmd =
      root.add_subcommand("serve", "the resolver as a daemon: datagram input, queue, workers, provider supervision");
  cmd->add_option("--config", options->config, "ossec.conf-style file with a <key_request> block (SPEC §6)");
  cmd->add_option("--exec", options->exec, "provider command line (exec_path); with --socket: the daemon to start");
  cmd->add_option("--socket", options->socket, "provider Unix stream socket (socket)");
  cmd->add_option("--home", options->home,
                  "installation directory: input DIR/queue/sockets/krequest, keys DIR/etc/client.keys");
  cmd->add_option("--input", options->input, "Unix datagram socket to receive requests on (created, mode 0660)");
  cmd->add_option("--keys", options->keys, "client.keys file to register into");
  cmd->add_option("--threads", options->threads, "requests resolved at once, 1-32 (threads)")->type_name("INT");
  cmd->add_option("--queue-size", options->queue_size, "requests waiting, 1-220000 (queue_size)")->type_name("INT");
  cmd->add_option("--timeout", options->timeout, "seconds per request, 1-3600 (timeout)")->type_name("INT");
  cmd->add_flag("--force-insert", options->force_insert, "replace conflicting client.keys entries (force_insert)");
  cmd->add_flag("--exec-fallback", options->exec_fallback,
                "when the socket gives no answer (down, empty answer, transport error), run exec_path once "
                "for the request instead (upstream 4.4+; off by default)");
  cmd->add_option("--metrics-file", options->metrics_file, "Prometheus text file, rewritten every second and on exit");
  cmd->add_option("--log-level", options->log_level, "trace, debug, info, warn, error or off")->capture_default_str();
  finish_command(*cmd, kHelpFooter, action, [options, cmd] {
    std::vector<std::string> given;
    for (const char* flag : {"--exec", "--socket"}) {
      if (cmd->count(flag) > 0) given.emplace_back(flag);
    }
    return Action([options, given] { return run_serve(*options, given); });
  });
}

}  // namespace keyreq::harness
