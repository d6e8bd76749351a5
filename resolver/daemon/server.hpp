#pragma once
// keyreq serve as an object (docs/serve.md): owns the client.keys store, the
// provider stack (exec client, or socket client with its supervisor and
// fallback), the dispatcher, the datagram input and the metrics, and holds
// the one place where they are started and stopped in order. The harness
// only merges flags and configuration; tests drive a Server in-process.
//
//   auto server = Server::create(options);       // lock, bind, load: nothing runs yet
//   server->start(interrupted);                  // provider up, input read
//   ... server->write_metrics() every second ...
//   server->stop("SIGTERM");                     // drain, close, stop the provider
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "resolver/daemon/config.hpp"
#include "resolver/daemon/dispatcher.hpp"
#include "resolver/daemon/log.hpp"
#include "resolver/daemon/metrics.hpp"

namespace keyreq {

class DatagramInput;
class ExecClient;
class KeyStore;
class ProviderClient;
class ProviderSupervisor;
class SocketProvider;

struct ServerOptions {
  KeyRequestConfig config;  // complete (check_complete passed)
  std::string config_file;  // for the log only
  std::string input_path;
  std::string keys_path;
  std::string metrics_file;  // "" : none
};

class Server {
 public:
  using Clock = std::chrono::steady_clock;

  // In this order, so that a second writer stops before touching anything:
  // takes client.keys' writer lock, binds the input socket, loads and
  // repairs client.keys, builds the provider stack and the dispatcher. The
  // provider is not started and the input is not read yet. An error is a
  // message for exit code 2 (also logged).
  static std::variant<std::unique_ptr<Server>, std::string> create(ServerOptions options);
  ~Server();  // stop("destroyed") when not stopped

  // Starts (and waits for) the supervised provider when its socket is down,
  // polling `interrupted` every 100 ms meanwhile; then reads the input.
  // False when interrupted before serving (the provider is stopped again).
  bool start(const std::function<bool()>& interrupted = {});

  // Rewrites the metrics file (when one is configured). Any thread.
  void write_metrics();
  // Every second: metrics, and the summaries of log lines held back.
  void tick();
  // One `serve_status` log line: queue, running, counters (SIGUSR1).
  void log_status() const;

  // The shutdown, in its one order: input closed, dispatcher drained (waiting
  // requests still get a worker until `timeout`), client.keys closed,
  // provider stopped, metrics written, `serve_stopped` logged. Blocks;
  // idempotent.
  void stop(std::string_view reason);
  // From another thread while stop() drains: cancels the requests still
  // waiting at once (a second SIGTERM). Requests a worker runs finish within
  // their own deadline.
  void cancel_waiting();

  const Metrics& metrics() const { return metrics_; }
  const std::string& input_path() const { return options_.input_path; }
  bool stopped() const { return stopped_.load(); }

 private:
  explicit Server(ServerOptions options);
  std::string build_provider();
  class ServeReader;
  // `claim`: where the reading thread takes the request to resolve it itself
  // (another reading thread is receiving), else null.
  void on_datagram(std::string_view datagram, std::size_t size, std::optional<Dispatcher::Job>* claim);
  Metrics::Gauges gauges() const;
  void write_metrics_now();

  ServerOptions options_;
  std::vector<std::string> command_;  // exec_path split into words
  Metrics metrics_;
  std::unique_ptr<DatagramInput> input_;
  std::unique_ptr<KeyStore> keys_;
  std::unique_ptr<ExecClient> exec_client_;
  std::unique_ptr<ProviderSupervisor> supervisor_;
  std::unique_ptr<SocketProvider> socket_provider_;
  ProviderClient* provider_ = nullptr;
  bool socket_up_at_start_ = false;
  std::unique_ptr<Dispatcher> dispatcher_;
  OnDone on_done_;
  // Per-datagram log lines an unauthenticated sender could make unbounded.
  log::LineBudget invalid_log_{"invalid_request"};
  log::LineBudget dropped_log_{"dropped"};
  log::LineBudget deduplicated_log_{"deduplicated"};
  std::mutex stop_mutex_;
  std::atomic<bool> stopped_{false};
  std::atomic<bool> cancel_requested_{false};
};

}  // namespace keyreq
