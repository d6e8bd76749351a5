#pragma once
// Between the requester and the provider (SPEC §2): de-duplication of
// identical requests in flight, a bounded queue of exactly `queue_size`
// waiting requests, and `threads` workers, each with its own Resolver over a
// shared provider client and keystore. docs/serve.md says why workers are
// blocked threads rather than an event loop.
//
// The load generator drives it directly:
//
//   Dispatcher d(provider, &keys, {.threads = 8, .queue_size = 1024});
//   auto status = d.submit(request, [](const Finished& f) { ... });  // any thread
//   ...
//   d.stop(Clock::now() + std::chrono::seconds(5));
//
// submit() never blocks on the provider: it takes a lock, checks the
// in-flight set and the queue, and returns. on_done runs exactly once for
// every accepted request: on the thread that resolved it (a worker, or a
// submit_or_run / run_claimed caller), or, for a valid agent to register,
// once the entry is durable (or failed): on the keystore's committer thread,
// or on the resolving thread when nothing else was waiting and it wrote the
// batch itself; or on the thread calling stop() for
// a request cancelled before it started. It must be quick and must not call stop().
//
// Under load a worker does not wait for the disk: it calls the provider,
// checks the answer, hands a valid agent to KeyStore::register_agent_async()
// and takes the next request (with nothing waiting it writes the batch
// itself when the disk is idle: KeyStore::Writer::caller_if_idle). The request stays in the de-duplication set until
// its on_done, and timing.finished is when client.keys holds it durably.
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_set>
#include <vector>

#include "resolver/core/provider_client.hpp"
#include "resolver/core/request.hpp"
#include "resolver/keystore/keystore.hpp"
#include "resolver/resolve/outcome.hpp"

namespace keyreq {

struct DispatcherOptions {
  unsigned threads = 1;           // requests resolved at once (≥ 1)
  std::size_t queue_size = 1024;  // requests waiting for a worker (≥ 1)
  // Registrations handed to the keystore and not yet durable; a worker with
  // one more waits until the count drops below (≥ 1).
  std::size_t max_registering = 4096;
};

struct RequestTiming {
  using Clock = std::chrono::steady_clock;
  Clock::time_point submitted;  // submit() accepted it
  Clock::time_point started;    // a worker took it (the same as submitted when a worker was idle)
  Clock::time_point
      finished;  // the outcome is known (client.keys synced for a registration: the batch's fdatasync returned)
  Clock::duration queue_wait() const { return started - submitted; }
  Clock::duration service() const { return finished - started; }
  Clock::duration total() const { return finished - submitted; }
};

struct Finished {
  const Request& request;
  // Null when the request was cancelled: stop() reached its deadline before a
  // worker took it. Otherwise the outcome, valid during the callback only.
  const Outcome* outcome;
  RequestTiming timing;
  bool cancelled() const { return outcome == nullptr; }
};

using OnDone = std::function<void(const Finished&)>;

// When a submitting thread may resolve its request itself (submit_or_run):
// it takes an idle worker's slot, sparing that worker's wake-up and the hand
// back (docs/serve.md, docs/bench.md).
enum class RunHere {
  never,
  // Nothing queued and nothing being resolved. For a thread with other work
  // to get back to (serve's readers): under load, readers that resolved were
  // measured slower than workers kept awake by their queue.
  when_alone,
  // Nothing queued and a worker idle. For a caller that waits for on_done
  // anyway (a closed loop): its thread would otherwise only sleep.
  when_worker_idle,
};

enum class SubmitStatus {
  accepted,      // queued or handed to a worker: on_done will run once
  deduplicated,  // the same request (same wire bytes) is already waiting or being resolved
  queue_full,    // queue_size requests are already waiting
  invalid,       // submit(raw) only: the bytes are not a valid request (SPEC §2)
  stopped,       // stop() was called
};
std::string_view to_string(SubmitStatus s);

struct DispatcherCounts {
  std::uint64_t accepted = 0;
  std::uint64_t deduplicated = 0;
  std::uint64_t queue_full = 0;
  std::uint64_t invalid = 0;
  std::uint64_t cancelled = 0;
  std::uint64_t completed = 0;  // on_done ran with an outcome
};

class Resolver;

class Dispatcher {
 public:
  using Clock = std::chrono::steady_clock;

  // Starts the workers at once. `provider` and `keys` (may be null:
  // validate only) must outlive the dispatcher.
  Dispatcher(ProviderClient& provider, KeyStore* keys, DispatcherOptions options);
  ~Dispatcher();  // stop(now) when not stopped yet
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  // Thread-safe. on_done runs exactly once if and only if the result is accepted.
  SubmitStatus submit(Request request, OnDone on_done);
  // Parses one datagram first (SPEC §2); invalid bytes give `invalid` and no callback.
  SubmitStatus submit(std::string_view raw, OnDone on_done);

  // Like submit(), but when `when` allows (RunHere), the calling thread
  // resolves the request itself with `own` (a Resolver only this thread
  // uses) instead of waking an idle worker: that spares two thread hand-offs
  // (docs/bench.md). The idle worker's slot is taken for the time, so at
  // most `threads` requests are resolved at once. When this returns with
  // `accepted`, on_done has run, unless the request was queued or its
  // registration went to the keystore's committer. Call it only from a
  // thread that may block for a provider call (serve's input threads do when
  // another input thread is receiving).
  SubmitStatus submit_or_run(Request request, OnDone on_done, Resolver& own, RunHere when = RunHere::when_alone);
  SubmitStatus submit_or_run(std::string_view raw, OnDone on_done, Resolver& own, RunHere when = RunHere::when_alone);

  // A request submit_or_claim() handed to its caller, with the slot it holds.
  struct Job {
    Request request;
    std::string key;  // request.wire(): the de-duplication key
    OnDone on_done;
    Clock::time_point submitted;
  };
  // submit_or_run() (RunHere::when_alone) in two steps, for a caller that
  // admits requests in their order under a lock of its own but resolves them
  // outside it (serve's readers): when `claimed` is filled in, the caller
  // holds a worker's slot and must call run_claimed() with it exactly once.
  SubmitStatus submit_or_claim(Request request, OnDone on_done, std::optional<Job>& claimed);
  void run_claimed(Job& claimed, Resolver& own);

  // Stops accepting at once; waiting requests are still resolved until
  // `drain_deadline`, those no worker took by then are cancelled; requests a
  // worker has started always finish (each call is bounded by the provider
  // timeout). Returns once every worker has exited and every registration
  // handed to the keystore is durable (or failed) and its on_done has run.
  // Idempotent; thread-safe.
  void stop(Clock::time_point drain_deadline);
  // Makes a stop() in progress (or the next one) cancel the waiting
  // requests at once instead of draining them. Thread-safe.
  void cancel_waiting();

  std::size_t waiting() const;      // requests queued that no worker has taken
  std::size_t running() const;      // requests a worker is resolving
  std::size_t registering() const;  // valid agents handed to the keystore, not yet durable
  DispatcherCounts counts() const;
  const DispatcherOptions& options() const { return options_; }

 private:
  // submit()'s checks under the lock; `run_here`: when the caller may take
  // an idle worker's slot; it did when `job` is filled in on return.
  SubmitStatus admit(Request& request, OnDone& on_done, RunHere run_here, std::optional<Job>& job);
  // The parsed request, or nullopt after counting the bytes as invalid.
  std::optional<Request> parse_or_count_invalid(std::string_view raw);
  void work();
  // Resolves one job a worker took; on_done runs here or from the keystore.
  void run(Resolver& resolver, Job& job);
  // from_keystore: the outcome of an asynchronous registration (counted in
  // registering_, not running_).
  void finish(Job& job, const Outcome* outcome, Clock::time_point started, bool from_keystore = false);

  ProviderClient& provider_;
  KeyStore* keys_;
  DispatcherOptions options_;

  mutable std::mutex mutex_;
  std::condition_variable work_ready_;  // workers wait here
  std::condition_variable idle_;        // stop() waits here for the queue to drain, the constructor for the workers
  std::deque<Job> queue_;
  std::unordered_set<std::string> in_flight_;  // keys waiting or being resolved
  std::size_t idle_workers_ = 0;               // workers blocked in work_ready_.wait
  std::size_t lent_slots_ = 0;                 // idle workers' slots taken by submit_or_run callers
  std::size_t running_ = 0;
  std::size_t registering_ = 0;
  std::condition_variable registered_;  // registering_ or lent_slots_ went down
  bool stopping_ = false;
  bool cancel_waiting_ = false;
  DispatcherCounts counts_;

  std::mutex stop_mutex_;  // serialises stop() callers
  std::vector<std::thread> workers_;
};

}  // namespace keyreq
