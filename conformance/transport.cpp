#include "conformance/transport.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <mutex>
#include <thread>

#include "resolver/keystore/keystore.hpp"
#include "resolver/platform/json_document_end.hpp"
#include "resolver/platform/socket_send.hpp"
#include "resolver/platform/temp_dir.hpp"
#include "resolver/platform/unix_listen.hpp"
#include "resolver/resolve/resolver.hpp"
#include "resolver/transport/exec_client.hpp"
#include "resolver/transport/socket_client.hpp"

namespace keyreq::conformance {

namespace {

namespace fs = std::filesystem;

// A Unix stream server on a thread: each connection gets `reply`, then EOF.
class ReplayServer {
 public:
  explicit ReplayServer(std::string path) : path_(std::move(path)) {
    UnixListenResult listening = listen_unix(path_, UnixListenOptions{.backlog = 16});
    if (!listening.ok()) throw std::runtime_error(listening.error);
    listener_ = std::move(listening.listener);
    fd_ = listener_.fd();
    thread_ = std::thread([this] { serve(); });
  }
  ~ReplayServer() {
    stop_ = true;
    thread_.join();  // then listener_ closes the socket and removes its path
  }
  void set_reply(std::string bytes) {
    std::lock_guard lock(mutex_);
    reply_ = std::move(bytes);
  }

 private:
  void serve() {
    accept_until_stopped(fd_, stop_, [this](int client) { handle(client); });
  }
  void handle(int fd) {
    // The request has no terminator: read what comes within a short while
    // (a health check sends nothing and closes).
    char buf[256];
    std::string request;
    while (request.size() < 64) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, request.empty() ? 1000 : 5) <= 0) break;
      const ssize_t n = ::read(fd, buf, sizeof buf);
      if (n <= 0) break;
      request.append(buf, static_cast<std::size_t>(n));
    }
    std::string reply;
    {
      std::lock_guard lock(mutex_);
      reply = reply_;
    }
    // A failure is no error: the client may stop reading once the document is complete.
    (void)send_all(fd, reply, std::chrono::steady_clock::now() + std::chrono::seconds(10));
  }

  std::string path_;
  UnixListener listener_;
  int fd_ = -1;
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::string reply_;
  std::thread thread_;
};

std::string find_replay_program() {
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const fs::path beside = self.parent_path() / "keyreq-replay-provider";
    if (::access(beside.c_str(), X_OK) == 0) return beside.string();
  }
  if (const char* bin = std::getenv("KEYREQ_BIN_DIR")) {
    const fs::path p = fs::path(bin) / "keyreq-replay-provider";
    if (::access(p.c_str(), X_OK) == 0) return p.string();
  }
  return {};
}

std::unique_ptr<KeyStore> open_store(const fs::path& path, std::string& error) {
  auto opened = KeyStore::open(path);
  if (auto* e = std::get_if<KeyStoreError>(&opened)) {
    error = e->message();
    return nullptr;
  }
  return std::get<std::unique_ptr<KeyStore>>(std::move(opened));
}

Request to_request(const OracleRequest& r) {
  return Request{r.kind == "id" ? RequestKind::id : RequestKind::ip, r.value};
}

}  // namespace

struct TransportSample::Impl {
  std::optional<TempDir> temp;  // first: removed last, after everything using it
  fs::path dir;
  fs::path reply_file;
  CallLimits limits;
  std::vector<std::string> command;
  std::unique_ptr<ExecClient> exec;
  std::unique_ptr<ReplayServer> server;
  std::unique_ptr<SocketClient> socket;
  std::unique_ptr<KeyStore> exec_keys, socket_keys;
  std::unique_ptr<Resolver> exec_resolver, socket_resolver;

  ~Impl() {
    socket_resolver.reset();
    exec_resolver.reset();
    exec_keys.reset();
    socket_keys.reset();
    server.reset();
  }
};

TransportSample::TransportSample(std::string replay_program) : impl_(std::make_unique<Impl>()) {
  std::string temp_error;
  impl_->temp = TempDir::create("keyreq-fuzz", temp_error);
  if (!impl_->temp) {
    error_ = "no temp dir: " + temp_error;
    return;
  }
  impl_->dir = impl_->temp->path();
  impl_->reply_file = impl_->dir / "reply.bin";
  impl_->limits.timeout = std::chrono::milliseconds(10'000);
  impl_->limits.kill_grace = std::chrono::milliseconds(200);
  if (replay_program.empty()) replay_program = find_replay_program();
  if (!replay_program.empty()) {
    impl_->command = {replay_program, impl_->reply_file.string()};
  } else {
    // sh execs cat on $0 (the file); the request words land in $1, $2, unused.
    impl_->command = {"/bin/sh", "-c", "exec cat -- \"$0\"", impl_->reply_file.string()};
  }
  impl_->exec = std::make_unique<ExecClient>(impl_->command, impl_->limits);
  const std::string socket_path = (impl_->dir / "replay.sock").string();
  try {
    impl_->server = std::make_unique<ReplayServer>(socket_path);
  } catch (const std::exception& e) {
    error_ = e.what();
    return;
  }
  impl_->socket = std::make_unique<SocketClient>(socket_path, impl_->limits);
  impl_->exec_keys = open_store(impl_->dir / "exec-client.keys", error_);
  if (!error_.empty()) return;
  impl_->socket_keys = open_store(impl_->dir / "socket-client.keys", error_);
  if (!error_.empty()) return;
  impl_->exec_resolver = std::make_unique<Resolver>(*impl_->exec, impl_->exec_keys.get());
  impl_->socket_resolver = std::make_unique<Resolver>(*impl_->socket, impl_->socket_keys.get());
}

TransportSample::~TransportSample() = default;

std::string TransportSample::describe() const {
  std::string words;
  for (const auto& w : impl_->command) words += (words.empty() ? "" : " ") + w;
  return "exec: " + words + "; socket: " + (impl_->dir / "replay.sock").string();
}

std::size_t TransportSample::max_output() const { return impl_->limits.max_output; }

Verdict TransportSample::via_exec(const Case& c) {
  {
    std::ofstream out(impl_->reply_file, std::ios::binary | std::ios::trunc);
    out.write(c.output.data(), static_cast<std::streamsize>(c.output.size()));
  }
  return from_outcome(impl_->exec_resolver->resolve(to_request(c.request)));
}

Verdict TransportSample::via_socket(const Case& c) {
  impl_->server->set_reply(c.output);
  return from_outcome(impl_->socket_resolver->resolve(to_request(c.request)));
}

std::vector<std::pair<std::string, std::string>> TransportSample::keys_lines() const {
  std::vector<std::pair<std::string, std::string>> lines;
  for (const auto& [transport, name] :
       {std::pair{"exec", "exec-client.keys"}, std::pair{"socket", "socket-client.keys"}}) {
    std::ifstream in(impl_->dir / name, std::ios::binary);
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty() || line[0] == '#' || line[0] == ' ') continue;
      lines.emplace_back(transport, line);
    }
  }
  return lines;
}

std::string TransportSample::reopen_error() const {
  // One writer per client.keys (KeysFileLock): each store is closed before
  // it is opened again, and the reopened one is used from then on.
  Impl& s = *impl_;
  s.exec_resolver.reset();
  s.socket_resolver.reset();
  std::string error;
  for (auto [keys, name] :
       {std::pair{&s.exec_keys, "exec-client.keys"}, std::pair{&s.socket_keys, "socket-client.keys"}}) {
    keys->reset();
    *keys = open_store(s.dir / name, error);
    if (!error.empty()) return error;
  }
  s.exec_resolver = std::make_unique<Resolver>(*s.exec, s.exec_keys.get());
  s.socket_resolver = std::make_unique<Resolver>(*s.socket, s.socket_keys.get());
  return {};
}

std::optional<std::size_t> first_document_end(std::string_view s) { return json_document_end(s); }

std::string keys_line(const OracleAccept& a) { return a.id + " " + a.name + " " + a.ip + " " + a.key; }

bool transport_conforms(const Verdict& got, const Verdict& oracle_full, const std::optional<Verdict>& oracle_prefix,
                        std::size_t output_size, std::size_t max_output) {
  if (got.label == "provider_failure:output_too_large") return output_size > max_output;
  // exec reads to EOF: past the cap nothing else is right. The socket may
  // have stopped at a complete document before reaching the cap.
  if (output_size > max_output && !oracle_prefix) return false;
  const auto matches = [&](const Verdict& expected) {
    if (expected.label == "accept" && got.label == "conflict") return true;
    return same_verdict(got, expected);
  };
  return matches(oracle_full) || (oracle_prefix && matches(*oracle_prefix));
}

}  // namespace keyreq::conformance
