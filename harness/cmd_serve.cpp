// keyreq serve: the resolver as a daemon (docs/serve.md). Reads requests from
// a Unix datagram socket, de-duplicates and queues them, resolves them on
// `threads` workers, registers agents in client.keys, supervises a socket
// provider it had to start, writes metrics, stops cleanly on SIGTERM/SIGINT.
#include <signal.h>
#include <time.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>

#include "harness/commands.hpp"
#include "resolver/command_line.hpp"
#include "resolver/config.hpp"
#include "resolver/datagram_input.hpp"
#include "resolver/dispatcher.hpp"
#include "resolver/escape.hpp"
#include "resolver/exec_client.hpp"
#include "resolver/keystore.hpp"
#include "resolver/log.hpp"
#include "resolver/metrics.hpp"
#include "resolver/provider_supervisor.hpp"
#include "resolver/socket_client.hpp"

namespace keyreq::harness {

namespace {

using Clock = std::chrono::steady_clock;

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

long long ms(Clock::duration d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); }
double ms_fraction(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

void log_outcome(const Finished& f) {
  const std::string request = f.request.wire();
  const auto total = log::kv("total_ms", ms_fraction(f.timing.total()));
  const auto queued = log::kv("queue_ms", ms_fraction(f.timing.queue_wait()));
  std::visit(
      [&](const auto& o) {
        using T = std::decay_t<decltype(o)>;
        if constexpr (std::is_same_v<T, outcome::Registered> || std::is_same_v<T, outcome::AlreadyRegistered> ||
                      std::is_same_v<T, outcome::Accepted>) {
          // Never the key: it is a secret.
          log::info(outcome_name(*f.outcome), {log::kv("request", request), log::kv("id", o.agent.id),
                                               log::kv("name", o.agent.name), log::kv("ip", o.agent.ip), total, queued});
        } else if constexpr (std::is_same_v<T, outcome::Declined>) {
          log::warn("declined", {log::kv("request", request), log::kv("code", static_cast<long long>(o.code)),
                                 log::kv("message", o.message), total});
        } else if constexpr (std::is_same_v<T, outcome::Refused>) {
          log::warn("refused",
                    {log::kv("request", request), log::kv("rule", o.rule), log::kv("detail", o.detail), total});
        } else if constexpr (std::is_same_v<T, outcome::Conflict>) {
          log::warn("conflict", {log::kv("request", request), log::kv("detail", o.detail), total});
        } else if constexpr (std::is_same_v<T, outcome::ProviderFailed>) {
          log::warn("provider_failure", {log::kv("request", request), log::kv("class", to_string(o.failure)),
                                         log::kv("detail", o.detail), log::kv("stderr", o.stderr_bytes), total});
        } else if constexpr (std::is_same_v<T, outcome::InvalidRequest>) {
          log::warn("invalid_request", {log::kv("request", request), log::kv("reason", o.reason)});
        } else {
          log::error("store_failure", {log::kv("request", request), log::kv("detail", o.detail), total});
        }
      },
      *f.outcome);
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
  const std::pair<const char*, const std::string*> flags[] = {
      {"exec_path", &o.exec}, {"socket", &o.socket}, {"timeout", &o.timeout},
      {"threads", &o.threads}, {"queue_size", &o.queue_size}};
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
  const KeyRequestConfig config = std::get<KeyRequestConfig>(std::move(built));
  const auto level = log::parse_level(o.log_level);
  if (!level) return usage_error("--log-level: \"" + escape_bytes(o.log_level) + "\" is not one of trace, debug, info, warn, error, off");
  if (!config.enabled) {
    std::cerr << "keyreq serve: key request is disabled in " << o.config
              << (config.block_found ? " (<key_request><enabled>no</enabled>)" : " (no <key_request> block)")
              << "; nothing to serve\n";
    return 0;
  }
  if (auto error = check_complete(config)) return usage_error(error->message());

  const std::string input_path =
      !o.input.empty() ? o.input : o.home.empty() ? "" : (std::filesystem::path(o.home) / "queue/sockets/krequest").string();
  const std::string keys_path =
      !o.keys.empty() ? o.keys : o.home.empty() ? "" : (std::filesystem::path(o.home) / "etc/client.keys").string();
  if (input_path.empty()) return usage_error("give --input PATH or --home DIR (input DIR/queue/sockets/krequest)");
  if (keys_path.empty()) return usage_error("give --keys FILE or --home DIR (keys DIR/etc/client.keys)");
  std::vector<std::string> command;
  if (!config.exec_path.empty()) command = std::get<std::vector<std::string>>(split_command_line(config.exec_path));

  // SIGTERM / SIGINT are taken by sigtimedwait() in this thread only: block
  // them before any thread starts so every thread inherits the mask. Children
  // get an empty mask from the spawn launcher.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  log::init(*level);
  log::info("serve_starting", {log::kv("config", o.config), log::kv("exec_path", config.exec_path),
                               log::kv("socket", config.socket), log::kv("timeout_s", config.timeout_seconds),
                               log::kv("threads", config.threads),
                               log::kv("queue_size", static_cast<unsigned long long>(config.queue_size)),
                               log::kv("force_insert", config.force_insert),
                               log::kv("exec_fallback", config.exec_fallback)});

  {
    std::error_code ec;
    const auto parent = std::filesystem::path(keys_path).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  }
  auto opened = KeyStore::open(keys_path, KeyStoreOptions{config.force_insert});
  if (auto* error = std::get_if<KeyStoreError>(&opened)) {
    log::error("keys_unusable", {log::kv("keys", keys_path), log::kv("reason", error->message())});
    return usage_error("cannot use client.keys: " + error->message());
  }
  std::unique_ptr<KeyStore> keys = std::get<std::unique_ptr<KeyStore>>(std::move(opened));
  if (!keys->repair_note().empty()) log::warn("keys_repaired", {log::kv("keys", keys_path), log::kv("note", keys->repair_note())});

  CallLimits limits;
  limits.timeout = std::chrono::seconds(config.timeout_seconds);
  Metrics metrics;

  std::unique_ptr<ExecClient> exec_client;
  std::unique_ptr<ProviderSupervisor> supervisor;
  std::unique_ptr<SocketProvider> socket_provider;
  ProviderClient* provider = nullptr;
  if (config.socket.empty()) {
    exec_client = std::make_unique<ExecClient>(command, limits);
    provider = exec_client.get();
    if (find_in_path(command.front()).empty()) {
      log::warn("provider_not_found", {log::kv("exec_path", config.exec_path),
                                       log::kv("effect", "every request fails as cannot_start")});
    }
  } else {
    const bool up = SocketClient(config.socket, limits).health_check();
    log::info("provider_health_check", {log::kv("socket", config.socket), log::kv("up", up)});
    if (!up && !command.empty() && !config.exec_fallback) {
      SupervisorOptions s;
      s.command = command;
      s.socket_path = config.socket;
      s.on_restart = [&metrics] { metrics.provider_restarted(); };
      supervisor = std::make_unique<ProviderSupervisor>(std::move(s));
      supervisor->start();
      // Wait for the socket, but let SIGTERM / SIGINT through meanwhile.
      const auto give_up = Clock::now() + limits.timeout;
      bool ready = false;
      while (!(ready = supervisor->wait_until_ready(std::chrono::milliseconds(100))) && Clock::now() < give_up) {
        const timespec now{0, 0};
        const int sig = ::sigtimedwait(&stop_signals, nullptr, &now);
        if (sig > 0) {
          log::info("serve_stopping", {log::kv("signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"),
                                       log::kv("phase", "waiting for the provider socket")});
          supervisor->stop();
          return 0;
        }
      }
      if (!ready) {
        log::warn("provider_not_ready", {log::kv("socket", config.socket), log::kv("waited_s", config.timeout_seconds),
                                         log::kv("effect", "requests wait for it within their timeout")});
      }
    }
    if (config.exec_fallback) exec_client = std::make_unique<ExecClient>(command, limits);
    SocketProviderOptions s;
    s.path = config.socket;
    s.limits = limits;
    s.supervisor = supervisor.get();
    s.fallback = exec_client.get();
    s.initially_up = up;
    if (!up && !supervisor) {
      log::warn("provider_socket_down", {log::kv("socket", config.socket), log::kv("probe_ms", 1000),
                                         log::kv("fallback", exec_client ? exec_client->describe() : "none")});
    }
    socket_provider = std::make_unique<SocketProvider>(std::move(s));
    provider = socket_provider.get();
  }

  auto dispatcher = std::make_unique<Dispatcher>(
      *provider, keys.get(),
      DispatcherOptions{static_cast<unsigned>(config.threads), config.queue_size});
  const OnDone on_done = [&metrics](const Finished& f) {
    if (f.cancelled()) {
      metrics.cancelled();
      log::warn("cancelled", {log::kv("request", f.request.wire()), log::kv("reason", "serve stopped before a worker took it")});
      return;
    }
    metrics.finished(*f.outcome, f.timing.total());
    log_outcome(f);
  };

  auto gauges = [&] {
    Metrics::Gauges g;
    g.queue_depth = dispatcher->waiting();
    g.running = dispatcher->running();
    if (socket_provider) g.provider_socket_up = socket_provider->up();
    return g;
  };
  auto write_metrics = [&] {
    if (o.metrics_file.empty()) return;
    if (auto error = write_file_atomically(o.metrics_file, metrics.render(gauges()))) {
      log::warn("metrics_write_failed", {log::kv("file", o.metrics_file), log::kv("reason", *error)});
    }
  };
  auto shut_down_provider = [&] {
    socket_provider.reset();
    if (supervisor) supervisor->stop();
  };

  auto input_opened = DatagramInput::open(DatagramInputOptions{input_path});
  if (auto* error = std::get_if<std::string>(&input_opened)) {
    log::error("input_unusable", {log::kv("input", input_path), log::kv("reason", *error)});
    dispatcher->stop(Clock::now());
    shut_down_provider();
    return usage_error("cannot use the input socket: " + *error);
  }
  auto input = std::get<std::unique_ptr<DatagramInput>>(std::move(input_opened));
  Dispatcher& d = *dispatcher;
  input->start([&metrics, &d, &on_done, &config](std::string_view datagram, std::size_t size) {
    metrics.received();
    if (size > datagram.size()) {
      metrics.submitted(SubmitStatus::invalid);
      log::warn("invalid_request", {log::kv("bytes", datagram), log::kv("size", static_cast<unsigned long long>(size)),
                                    log::kv("reason", "datagram too long")});
      return;
    }
    auto parsed = parse_request(datagram);
    if (auto* invalid = std::get_if<InvalidRequest>(&parsed)) {
      metrics.submitted(SubmitStatus::invalid);
      log::warn("invalid_request", {log::kv("bytes", datagram), log::kv("reason", invalid->reason)});
      return;
    }
    auto& request = std::get<Request>(parsed);
    const std::string wire = log::enabled(log::Level::warn) ? request.wire() : std::string();
    const SubmitStatus status = d.submit(std::move(request), on_done);
    metrics.submitted(status);
    switch (status) {
      case SubmitStatus::accepted: break;
      case SubmitStatus::deduplicated: log::info("deduplicated", {log::kv("request", wire)}); break;
      case SubmitStatus::queue_full:
        log::warn("dropped", {log::kv("request", wire), log::kv("reason", "queue_full"),
                              log::kv("queue_size", static_cast<unsigned long long>(config.queue_size))});
        break;
      case SubmitStatus::invalid:
      case SubmitStatus::stopped: log::info("dropped", {log::kv("request", wire), log::kv("reason", to_string(status))}); break;
    }
  });
  log::info("serve_started", {log::kv("input", input_path), log::kv("keys", keys_path),
                              log::kv("provider", provider->describe()), log::kv("metrics_file", o.metrics_file)});

  int signal_number = 0;
  while (signal_number <= 0) {
    write_metrics();
    const timespec second{1, 0};
    signal_number = ::sigtimedwait(&stop_signals, nullptr, &second);
  }

  const auto stop_started = Clock::now();
  log::info("serve_stopping", {log::kv("signal", signal_number == SIGTERM ? "SIGTERM" : "SIGINT"),
                               log::kv("waiting", static_cast<unsigned long long>(dispatcher->waiting())),
                               log::kv("running", static_cast<unsigned long long>(dispatcher->running()))});
  input->stop();
  // Waiting requests still get a worker until the timeout; running ones end
  // within their own deadline either way.
  dispatcher->stop(Clock::now() + limits.timeout);
  const DispatcherCounts counts = dispatcher->counts();
  keys.reset();  // every registration was synced before it was reported; this closes the file
  if (supervisor) supervisor->stop();
  write_metrics();  // the stopped dispatcher still answers for the gauges
  socket_provider.reset();
  log::info("serve_stopped", {log::kv("registered", static_cast<unsigned long long>(metrics.registered_count())),
                              log::kv("completed", static_cast<unsigned long long>(counts.completed)),
                              log::kv("cancelled", static_cast<unsigned long long>(counts.cancelled)),
                              log::kv("stop_ms", ms(Clock::now() - stop_started))});
  return 0;
}

}  // namespace

void add_serve_command(CLI::App& root, Action& action) {
  auto options = std::make_shared<ServeOptions>();
  auto* cmd = root.add_subcommand("serve", "the resolver as a daemon: datagram input, queue, workers, provider supervision");
  cmd->add_option("--config", options->config, "ossec.conf-style file with a <key_request> block (SPEC §6)");
  cmd->add_option("--exec", options->exec, "provider command line (exec_path); with --socket: the daemon to start");
  cmd->add_option("--socket", options->socket, "provider Unix stream socket (socket)");
  cmd->add_option("--home", options->home, "installation directory: input DIR/queue/sockets/krequest, keys DIR/etc/client.keys");
  cmd->add_option("--input", options->input, "Unix datagram socket to receive requests on (created, mode 0660)");
  cmd->add_option("--keys", options->keys, "client.keys file to register into");
  cmd->add_option("--threads", options->threads, "requests resolved at once, 1-32 (threads)");
  cmd->add_option("--queue-size", options->queue_size, "requests waiting, 1-220000 (queue_size)");
  cmd->add_option("--timeout", options->timeout, "seconds per request, 1-3600 (timeout)");
  cmd->add_flag("--force-insert", options->force_insert, "replace conflicting client.keys entries (force_insert)");
  cmd->add_flag("--exec-fallback", options->exec_fallback,
                "when the socket gives no answer (down, empty answer, transport error), run exec_path once "
                "for the request instead (upstream 4.4+; off by default)");
  cmd->add_option("--metrics-file", options->metrics_file, "Prometheus text file, rewritten every second and on exit");
  cmd->add_option("--log-level", options->log_level, "trace, debug, info, warn, error or off")->capture_default_str();
  cmd->footer(
      "Flags override the file. Exit 0 after SIGTERM/SIGINT (in-flight requests finished, provider stopped),\n"
      "2 on any configuration error (the message names the tag, the value and what is allowed).");
  cmd->callback([options, cmd, &action] {
    std::vector<std::string> given;
    for (const char* flag : {"--exec", "--socket"}) {
      if (cmd->count(flag) > 0) given.emplace_back(flag);
    }
    action = [options, given] { return run_serve(*options, given); };
  });
}

}  // namespace keyreq::harness
