#include "resolver/daemon/server.hpp"

#include <filesystem>

#include "resolver/daemon/datagram_input.hpp"
#include "resolver/daemon/log.hpp"
#include "resolver/daemon/provider_supervisor.hpp"
#include "resolver/keystore/keys_file_lock.hpp"
#include "resolver/keystore/keystore.hpp"
#include "resolver/platform/atomic_file.hpp"
#include "resolver/platform/escape.hpp"
#include "resolver/resolve/resolver.hpp"
#include "resolver/transport/command_line.hpp"
#include "resolver/transport/exec_client.hpp"
#include "resolver/transport/socket_client.hpp"

namespace keyreq {

namespace {

using Clock = std::chrono::steady_clock;

long long ms(Clock::duration d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); }
double ms_fraction(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

// One log line per finished request. Never the key: it is a secret.
void log_outcome(const Finished& f) {
  const std::string request = f.request.wire();
  const auto total = log::kv("total_ms", ms_fraction(f.timing.total()));
  const auto queued = log::kv("queue_ms", ms_fraction(f.timing.queue_wait()));
  std::visit(
      [&](const auto& o) {
        using T = std::decay_t<decltype(o)>;
        if constexpr (std::is_same_v<T, outcome::Registered> || std::is_same_v<T, outcome::AlreadyRegistered> ||
                      std::is_same_v<T, outcome::Accepted>) {
          log::info(outcome_name(*f.outcome),
                    {log::kv("request", request), log::kv("id", o.agent.id), log::kv("name", o.agent.name),
                     log::kv("ip", o.agent.ip), total, queued});
        } else if constexpr (std::is_same_v<T, outcome::Declined>) {
          // The message and stderr arrive escaped (escape_bytes): not a second time.
          log::warn("declined", {log::kv("request", request), log::kv("code", static_cast<long long>(o.code)),
                                 log::kv_escaped("message", o.message), total, queued});
        } else if constexpr (std::is_same_v<T, outcome::Refused>) {
          log::warn("refused",
                    {log::kv("request", request), log::kv("rule", o.rule), log::kv("detail", o.detail), total, queued});
        } else if constexpr (std::is_same_v<T, outcome::Conflict>) {
          log::warn("conflict", {log::kv("request", request), log::kv("detail", o.detail), total, queued});
        } else if constexpr (std::is_same_v<T, outcome::ProviderFailed>) {
          log::warn("provider_failure",
                    {log::kv("request", request), log::kv("class", to_string(o.failure)), log::kv("detail", o.detail),
                     log::kv_escaped("stderr", o.stderr_bytes), total, queued});
        } else if constexpr (std::is_same_v<T, outcome::InvalidRequest>) {
          log::warn("invalid_request", {log::kv("request", request), log::kv("reason", o.reason)});
        } else {
          log::error("store_failure", {log::kv("request", request), log::kv("detail", o.detail), total, queued});
        }
      },
      *f.outcome);
}

std::string fail(std::string_view event, std::string_view key, const std::string& value, const std::string& reason,
                 const std::string& message) {
  log::error(event, {log::kv(key, value), log::kv("reason", reason)});
  return message;
}

// force_insert from the configuration; a batch's `registered` lines (logged
// from its callbacks) are written with one write() (log::HeldLines).
KeyStoreOptions keystore_options(const KeyRequestConfig& config) {
  KeyStoreOptions options;
  options.force_insert = config.force_insert;
  options.around_batch_callbacks = [](const std::function<void()>& run_callbacks) {
    const log::HeldLines held;
    run_callbacks();
  };
  return options;
}

}  // namespace

Server::Server(ServerOptions options) : options_(std::move(options)) {}

Server::~Server() { stop("destroyed"); }

std::variant<std::unique_ptr<Server>, std::string> Server::create(ServerOptions options) {
  std::unique_ptr<Server> server(new Server(std::move(options)));
  Server& s = *server;
  const ServerOptions& o = s.options_;
  const KeyRequestConfig& config = o.config;
  if (!config.exec_path.empty()) {
    auto words = split_command_line(config.exec_path);
    if (auto* error = std::get_if<CommandLineError>(&words)) return "exec_path: " + error->reason;
    s.command_ = std::get<std::vector<std::string>>(std::move(words));
  }
  log::info("serve_starting",
            {log::kv("config", o.config_file), log::kv("exec_path", config.exec_path), log::kv("socket", config.socket),
             log::kv("timeout_s", config.timeout_seconds), log::kv("threads", config.threads),
             log::kv("queue_size", static_cast<unsigned long long>(config.queue_size)),
             log::kv("force_insert", config.force_insert), log::kv("exec_fallback", config.exec_fallback)});
  for (const std::string& warning : config.warnings) log::warn("config_warning", {log::kv("warning", warning)});

  // One writer per client.keys: the lock first (a second serve or a resolve
  // stops here, naming the holder), then the input socket, and only then is
  // the file loaded and repaired, so nothing can cut a live file.
  {
    std::error_code ec;
    const auto parent = std::filesystem::path(o.keys_path).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  }
  auto locked = KeysFileLock::acquire(o.keys_path);
  if (auto* error = std::get_if<KeysFileLockError>(&locked)) {
    return fail("keys_unusable", "keys", o.keys_path, error->reason,
                "cannot use client.keys " + o.keys_path + ": " + error->reason);
  }
  // Two reading threads: one may resolve a lone request itself while the
  // other reads (datagram_input.hpp, Dispatcher::submit_or_claim).
  auto input = DatagramInput::open(DatagramInputOptions{.path = o.input_path, .threads = 2});
  if (auto* error = std::get_if<std::string>(&input)) {
    return fail("input_unusable", "input", o.input_path, *error, "cannot use the input socket: " + *error);
  }
  s.input_ = std::get<std::unique_ptr<DatagramInput>>(std::move(input));
  auto opened = KeyStore::open(o.keys_path, keystore_options(config), std::get<KeysFileLock>(std::move(locked)));
  if (auto* error = std::get_if<KeyStoreError>(&opened)) {
    return fail("keys_unusable", "keys", o.keys_path, error->message(), "cannot use client.keys: " + error->message());
  }
  s.keys_ = std::get<std::unique_ptr<KeyStore>>(std::move(opened));
  if (!s.keys_->repair_note().empty()) {
    log::warn("keys_repaired", {log::kv("keys", o.keys_path), log::kv("note", s.keys_->repair_note())});
  }
  if (std::string error = s.build_provider(); !error.empty()) return error;

  Metrics& metrics = s.metrics_;
  s.on_done_ = [&metrics](const Finished& f) {
    if (f.cancelled()) {
      metrics.cancelled();
      log::warn("cancelled",
                {log::kv("request", f.request.wire()), log::kv("reason", "serve stopped before a worker took it")});
      return;
    }
    metrics.finished(*f.outcome, f.timing.total());
    log_outcome(f);
  };
  s.dispatcher_ = std::make_unique<Dispatcher>(
      *s.provider_, s.keys_.get(), DispatcherOptions{static_cast<unsigned>(config.threads), config.queue_size});
  return server;
}

// The provider stack: an exec client, or a socket client with (when its
// socket is down and exec_path is set) a supervisor, or the exec fallback.
std::string Server::build_provider() {
  const KeyRequestConfig& config = options_.config;
  CallLimits limits;
  limits.timeout = std::chrono::seconds(config.timeout_seconds);
  if (config.socket.empty()) {
    exec_client_ = std::make_unique<ExecClient>(command_, limits);
    provider_ = exec_client_.get();
    if (find_in_path(command_.front()).empty()) {
      log::warn("provider_not_found",
                {log::kv("exec_path", config.exec_path), log::kv("effect", "every request fails as cannot_start")});
    }
    return "";
  }
  socket_up_at_start_ = SocketClient(config.socket, limits).health_check();
  log::info("provider_health_check", {log::kv("socket", config.socket), log::kv("up", socket_up_at_start_)});
  // With exec_path (and no fallback) the socket is always supervised: started
  // now when down, or watched while someone else (an orphan of an earlier
  // serve, an external daemon) serves it and started when that one goes.
  if (!command_.empty() && !config.exec_fallback) {
    SupervisorOptions s;
    s.command = command_;
    s.socket_path = config.socket;
    s.on_restart = [this] { metrics_.provider_restarted(); };
    s.start_in_standby = socket_up_at_start_;
    supervisor_ = std::make_unique<ProviderSupervisor>(std::move(s));
  }
  if (config.exec_fallback) exec_client_ = std::make_unique<ExecClient>(command_, limits);
  SocketProviderOptions s;
  s.path = config.socket;
  s.limits = limits;
  s.supervisor = supervisor_.get();
  s.fallback = exec_client_.get();
  s.initially_up = socket_up_at_start_;
  if (!socket_up_at_start_ && !supervisor_) {
    log::warn("provider_socket_down", {log::kv("socket", config.socket), log::kv("probe_ms", 1000),
                                       log::kv("fallback", exec_client_ ? exec_client_->describe() : "none")});
  }
  socket_provider_ = std::make_unique<SocketProvider>(std::move(s));
  provider_ = socket_provider_.get();
  return "";
}

// One per reading thread: admits each datagram in arrival order, and
// resolves the request itself (after the input's lock) when it was allowed
// to claim it.
class Server::ServeReader final : public DatagramInput::Reader {
 public:
  explicit ServeReader(Server& server) : server_(server), own_(*server.provider_, server.keys_.get()) {}
  void admit(std::string_view datagram, std::size_t size, bool others_receiving) override {
    server_.on_datagram(datagram, size, others_receiving ? &claimed_ : nullptr);
  }
  void finish() override {
    if (!claimed_) return;
    server_.dispatcher_->run_claimed(*claimed_, own_);
    claimed_.reset();
  }

 private:
  Server& server_;
  Resolver own_;
  std::optional<Dispatcher::Job> claimed_;
};

bool Server::start(const std::function<bool()>& interrupted) {
  if (supervisor_) {
    supervisor_->start();
    // Wait for the socket, but let a stop through meanwhile.
    const auto give_up = Clock::now() + std::chrono::seconds(options_.config.timeout_seconds);
    bool ready = false;
    while (!(ready = supervisor_->wait_until_ready(std::chrono::milliseconds(100))) && Clock::now() < give_up) {
      if (interrupted && interrupted()) {
        stop("interrupted while waiting for the provider socket");
        return false;
      }
    }
    if (!ready) {
      log::warn("provider_not_ready",
                {log::kv("socket", options_.config.socket), log::kv("waited_s", options_.config.timeout_seconds),
                 log::kv("effect", "requests wait for it within their timeout")});
    }
  }
  input_->start([this]() -> std::unique_ptr<DatagramInput::Reader> { return std::make_unique<ServeReader>(*this); });
  log::info("serve_started",
            {log::kv("input", options_.input_path), log::kv("keys", options_.keys_path),
             log::kv("provider", provider_->describe()), log::kv("metrics_file", options_.metrics_file)});
  return true;
}

void Server::on_datagram(std::string_view datagram, std::size_t size, std::optional<Dispatcher::Job>* claim) {
  metrics_.received();
  if (size > datagram.size()) {
    metrics_.submitted(SubmitStatus::invalid);
    if (invalid_log_.allow(size)) {
      log::warn("invalid_request", {log::kv("bytes", datagram), log::kv("size", static_cast<unsigned long long>(size)),
                                    log::kv("reason", "datagram too long")});
    }
    return;
  }
  auto parsed = parse_request(datagram);
  if (auto* invalid = std::get_if<InvalidRequest>(&parsed)) {
    metrics_.submitted(SubmitStatus::invalid);
    if (invalid_log_.allow(size)) {
      log::warn("invalid_request", {log::kv("bytes", datagram), log::kv("reason", invalid->reason)});
    }
    return;
  }
  auto& request = std::get<Request>(parsed);
  const std::string wire = log::enabled(log::Level::warn) ? request.wire() : std::string();
  const SubmitStatus status = claim != nullptr ? dispatcher_->submit_or_claim(std::move(request), on_done_, *claim)
                                               : dispatcher_->submit(std::move(request), on_done_);
  metrics_.submitted(status);
  switch (status) {
    case SubmitStatus::accepted: break;
    case SubmitStatus::deduplicated:
      if (deduplicated_log_.allow(size)) log::info("deduplicated", {log::kv("request", wire)});
      break;
    case SubmitStatus::queue_full:
      if (dropped_log_.allow(size)) {
        log::warn("dropped", {log::kv("request", wire), log::kv("reason", "queue_full"),
                              log::kv("queue_size", static_cast<unsigned long long>(options_.config.queue_size))});
      }
      break;
    case SubmitStatus::invalid:
    case SubmitStatus::stopped:
      if (dropped_log_.allow(size))
        log::info("dropped", {log::kv("request", wire), log::kv("reason", to_string(status))});
      break;
  }
}

Metrics::Gauges Server::gauges() const {
  Metrics::Gauges g;
  if (dispatcher_) {
    g.queue_depth = dispatcher_->waiting();
    g.running = dispatcher_->running();
  }
  if (socket_provider_) g.provider_socket_up = socket_provider_->up();
  if (keys_) g.keystore_batches = keys_->batches_written();
  return g;
}

void Server::tick() {
  write_metrics();
  for (auto* budget : {&invalid_log_, &dropped_log_, &deduplicated_log_}) budget->tick();
}

void Server::write_metrics() {
  if (stopped_.load()) return;  // stop() writes them at its own safe point
  write_metrics_now();
}

void Server::write_metrics_now() {
  if (options_.metrics_file.empty()) return;
  if (auto error = write_file_atomically(options_.metrics_file, metrics_.render(gauges()))) {
    log::warn("metrics_write_failed", {log::kv("file", options_.metrics_file), log::kv("reason", *error)});
  }
}

void Server::log_status() const {
  if (stopped_.load()) return;  // the provider stack is being taken down
  const Metrics::Gauges g = gauges();
  log::info("serve_status", {log::kv("waiting", static_cast<unsigned long long>(g.queue_depth)),
                             log::kv("running", static_cast<unsigned long long>(g.running)),
                             log::kv("received", static_cast<unsigned long long>(metrics_.received_count())),
                             log::kv("registered", static_cast<unsigned long long>(metrics_.registered_count())),
                             log::kv("provider", provider_ ? provider_->describe() : std::string("none"))});
}

void Server::cancel_waiting() {
  if (!dispatcher_ || cancel_requested_.exchange(true)) return;
  log::warn("serve_stopping_now",
            {log::kv("cancelling", static_cast<unsigned long long>(dispatcher_->waiting())),
             log::kv("running", static_cast<unsigned long long>(dispatcher_->running())),
             log::kv("effect", "waiting requests cancelled; running ones end within their deadline")});
  dispatcher_->cancel_waiting();
}

void Server::stop(std::string_view reason) {
  std::lock_guard serial(stop_mutex_);
  if (stopped_.exchange(true)) return;
  if (!dispatcher_) return;  // create() failed: the members close what they hold
  const auto stop_started = Clock::now();
  log::info("serve_stopping",
            {log::kv("reason", reason),
             log::kv("waiting", static_cast<unsigned long long>(dispatcher_ ? dispatcher_->waiting() : 0)),
             log::kv("running", static_cast<unsigned long long>(dispatcher_ ? dispatcher_->running() : 0))});
  // 1. No new requests (datagrams not read yet stay: the requester asks again).
  if (input_) input_->request_stop();
  // 2. Waiting requests still get a worker until the timeout (or until
  // cancel_waiting()); running ones end within their own deadline, those a
  // reading thread resolves itself included. Returns once every registration
  // handed to the keystore is durable and reported.
  DispatcherCounts counts;
  if (dispatcher_) {
    dispatcher_->stop(Clock::now() + std::chrono::seconds(options_.config.timeout_seconds));
    counts = dispatcher_->counts();
  }
  if (input_) input_->stop();  // the reading threads have nothing left to finish
  for (auto* budget : {&invalid_log_, &dropped_log_, &deduplicated_log_}) budget->flush();
  // 3. client.keys closed (and its lock released).
  keys_.reset();
  // 4. The provider: the supervised daemon, then the socket client (and its prober).
  if (supervisor_) supervisor_->stop();
  write_metrics_now();  // the stopped dispatcher still answers for the gauges
  socket_provider_.reset();
  log::info("serve_stopped", {log::kv("registered", static_cast<unsigned long long>(metrics_.registered_count())),
                              log::kv("completed", static_cast<unsigned long long>(counts.completed)),
                              log::kv("cancelled", static_cast<unsigned long long>(counts.cancelled)),
                              log::kv("stop_ms", ms(Clock::now() - stop_started))});
}

}  // namespace keyreq
