#include "harness/provider_options.hpp"

#include "resolver/transport/command_line.hpp"
#include "resolver/transport/exec_client.hpp"
#include "resolver/transport/socket_client.hpp"

namespace keyreq::harness {

void ProviderOptions::add_to(CLI::App& cmd) {
  auto* exec_opt = cmd.add_option("--exec", exec, "provider command line, run once per request (exec transport)");
  auto* socket_opt = cmd.add_option("--socket", socket, "Unix stream socket of a provider daemon (socket transport)");
  exec_opt->excludes(socket_opt);
  socket_opt->excludes(exec_opt);
  cmd.add_option("--timeout", timeout_seconds, "seconds allowed per request")
      ->capture_default_str()
      ->check(CLI::Range(0.001, 3600.0));
}

CallLimits ProviderOptions::limits() const {
  CallLimits limits;
  limits.timeout = std::chrono::milliseconds(static_cast<long>(timeout_seconds * 1000));
  return limits;
}

std::variant<std::unique_ptr<ProviderClient>, std::string> ProviderOptions::make_client() const {
  if (exec.empty() == socket.empty()) return std::string("give exactly one of --exec CMD or --socket PATH");
  if (!socket.empty()) return std::unique_ptr<ProviderClient>(std::make_unique<SocketClient>(socket, limits()));
  auto words = split_command_line(exec);
  if (auto* error = std::get_if<CommandLineError>(&words)) return "--exec: " + error->reason;
  return std::unique_ptr<ProviderClient>(
      std::make_unique<ExecClient>(std::get<std::vector<std::string>>(std::move(words)), limits()));
}

}  // namespace keyreq::harness
