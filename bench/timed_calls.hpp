#pragma once
// What the load generator times: the resolver (provider → rules → keystore)
// and the two floors, the least a client must do to get the same answer from
// the same provider (bare spawn + read + wait; bare connect, write,
// read, close). Plus two provider decorators: a null provider (canned
// answers, no I/O) and an injected delay (the gate's self-test only).
#include <chrono>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "bench/loadgen.hpp"
#include "resolver/core/provider_client.hpp"
#include "resolver/daemon/dispatcher.hpp"
#include "resolver/keystore/keystore.hpp"

namespace keyreq::bench {

// One Resolver (its own ResponseParser) over a shared client and keystore.
// Every answer is checked against the record `workload` expects (wrong agent,
// declined known agent, refused answer: an error).
std::unique_ptr<TimedCall> make_resolver_call(ProviderClient& provider, KeyStore* keys, const Workload& workload);

// Through the dispatcher (`keyreq serve`'s de-duplication, queue and
// workers): submit_or_run, then wait for on_done. A closed-loop thread
// waits for its answer anyway, so it resolves the request itself while a
// worker is idle (RunHere::when_worker_idle) and otherwise hands it to a
// worker. One probe per load-generator thread, each with its own Resolver;
// the dispatcher (`provider`, `keys`) has as many workers as the load
// generator has threads. (serve's readers resolve only a lone request: the
// herd measures that path under load.)
std::unique_ptr<TimedCall> make_dispatcher_call(Dispatcher& dispatcher, ProviderClient& provider, KeyStore* keys,
                                                const Workload& workload);
// The same submit for the asynchronous open loop.
AsyncSubmit dispatcher_submit(Dispatcher& dispatcher, const Workload& workload);

// A bare spawn of command + kind + value (the platform kit's spawn_process
// with no process group and no PDEATHSIG: what glibc's posix_spawn does),
// stdin /dev/null, stdout a pipe read to EOF, stderr /dev/null, waitpid.
// `command[0]` must be an absolute path.
std::unique_ptr<TimedCall> make_exec_floor_call(const std::vector<std::string>& command);

// connect, write the request, read until EOF or one complete JSON object, close.
std::unique_ptr<TimedCall> make_socket_floor_call(const std::string& socket_path);

// Does nothing: what is left is the load generator's own cost per request.
std::unique_ptr<TimedCall> make_null_call();

// Answers every id request of the dataset from memory, as the reference
// provider would, without I/O: times the load generator and the resolver alone.
class NullProvider final : public ProviderClient {
 public:
  explicit NullProvider(std::size_t agents);
  ProviderResult call(const Request& request) override;
  std::string describe() const override { return "null"; }

 private:
  std::unordered_map<std::string, std::string> answers_;
};

// Sleeps `delay` before every call of the wrapped client. Only built when
// `keyreq bench --inject-delay-us N` asks for it: it exists so a test can
// prove the gate catches a real slowdown of the resolver path.
class DelayedProvider final : public ProviderClient {
 public:
  DelayedProvider(ProviderClient& inner, std::chrono::microseconds delay) : inner_(inner), delay_(delay) {}
  ProviderResult call(const Request& request) override;
  std::string describe() const override { return inner_.describe() + " +delay"; }

 private:
  ProviderClient& inner_;
  std::chrono::microseconds delay_;
};

}  // namespace keyreq::bench
