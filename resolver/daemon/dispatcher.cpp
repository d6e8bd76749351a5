#include "resolver/daemon/dispatcher.hpp"

#include <algorithm>
#include <exception>
#include <memory>

#include "resolver/resolve/resolver.hpp"

namespace keyreq {

std::string_view to_string(SubmitStatus s) {
  switch (s) {
    case SubmitStatus::accepted: return "accepted";
    case SubmitStatus::deduplicated: return "deduplicated";
    case SubmitStatus::queue_full: return "queue_full";
    case SubmitStatus::invalid: return "invalid";
    case SubmitStatus::stopped: return "stopped";
  }
  return "unknown";
}

Dispatcher::Dispatcher(ProviderClient& provider, KeyStore* keys, DispatcherOptions options)
    : provider_(provider), keys_(keys), options_(options) {
  if (options_.threads == 0) options_.threads = 1;
  if (options_.queue_size == 0) options_.queue_size = 1;
  if (options_.max_registering == 0) options_.max_registering = 1;
  workers_.reserve(options_.threads);
  // Room for a full queue up front (capped), so that a herd does not rehash
  // the set while it arrives, under the lock every submit takes.
  in_flight_.reserve(std::min<std::size_t>(options_.queue_size + options_.threads, std::size_t{1} << 16));
  for (unsigned i = 0; i < options_.threads; ++i) workers_.emplace_back([this] { work(); });
  // Every worker idle before the first submit: the queue bound counts idle
  // workers, so a request submitted before a worker reached its wait would
  // otherwise be counted as waiting.
  std::unique_lock lock(mutex_);
  idle_.wait(lock, [this] { return idle_workers_ == options_.threads; });
}

Dispatcher::~Dispatcher() { stop(Clock::now()); }

std::optional<Request> Dispatcher::parse_or_count_invalid(std::string_view raw) {
  auto parsed = parse_request(raw);
  if (auto* request = std::get_if<Request>(&parsed)) return std::move(*request);
  std::lock_guard lock(mutex_);
  ++counts_.invalid;
  return std::nullopt;
}

SubmitStatus Dispatcher::submit(std::string_view raw, OnDone on_done) {
  auto request = parse_or_count_invalid(raw);
  return request ? submit(std::move(*request), std::move(on_done)) : SubmitStatus::invalid;
}

SubmitStatus Dispatcher::submit(Request request, OnDone on_done) {
  std::optional<Job> unused;
  return admit(request, on_done, RunHere::never, unused);
}

SubmitStatus Dispatcher::submit_or_run(std::string_view raw, OnDone on_done, Resolver& own, RunHere when) {
  auto request = parse_or_count_invalid(raw);
  return request ? submit_or_run(std::move(*request), std::move(on_done), own, when) : SubmitStatus::invalid;
}

SubmitStatus Dispatcher::submit_or_run(Request request, OnDone on_done, Resolver& own, RunHere when) {
  std::optional<Job> job;
  const SubmitStatus status = admit(request, on_done, when, job);
  if (job) run_claimed(*job, own);
  return status;
}

SubmitStatus Dispatcher::submit_or_claim(Request request, OnDone on_done, std::optional<Job>& claimed) {
  return admit(request, on_done, RunHere::when_alone, claimed);
}

void Dispatcher::run_claimed(Job& claimed, Resolver& own) {
  run(own, claimed);
  std::lock_guard lock(mutex_);
  --lent_slots_;
  // A request queued meanwhile found no free worker to wake; the slot is back.
  if (!queue_.empty()) work_ready_.notify_one();
  registered_.notify_all();  // stop() waits for lent slots to come back
}

SubmitStatus Dispatcher::admit(Request& request, OnDone& on_done, RunHere run_here, std::optional<Job>& job) {
  const auto now = Clock::now();
  std::string key = request.wire();
  bool wake = false;
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return SubmitStatus::stopped;
    // One lookup: inserted now, taken back out if the queue is full.
    const auto [entry, inserted] = in_flight_.insert(key);
    if (!inserted) {
      ++counts_.deduplicated;
      return SubmitStatus::deduplicated;
    }
    const std::size_t free_workers = idle_workers_ - lent_slots_;
    // Idle workers take queued jobs at once, so only the surplus is waiting.
    if (queue_.size() >= options_.queue_size + free_workers) {
      in_flight_.erase(entry);
      ++counts_.queue_full;
      return SubmitStatus::queue_full;
    }
    ++counts_.accepted;
    // Never ahead of a queued request, and only in a free worker's slot.
    const bool may_run_here =
        run_here == RunHere::when_worker_idle || (run_here == RunHere::when_alone && running_ == 0);
    if (may_run_here && queue_.empty() && free_workers > 0) {
      ++lent_slots_;
      ++running_;
      job.emplace(Job{std::move(request), std::move(key), std::move(on_done), now});
      return SubmitStatus::accepted;
    }
    queue_.push_back(Job{std::move(request), std::move(key), std::move(on_done), now});
    wake = free_workers > 0;
  }
  if (wake) work_ready_.notify_one();
  return SubmitStatus::accepted;
}

void Dispatcher::work() {
  Resolver resolver(provider_, keys_);  // one per thread: it owns a parser
  std::unique_lock lock(mutex_);
  while (true) {
    if (!queue_.empty()) {
      Job job = std::move(queue_.front());
      queue_.pop_front();
      ++running_;
      if (queue_.empty()) idle_.notify_all();
      lock.unlock();
      run(resolver, job);
      lock.lock();
      continue;
    }
    if (stopping_) break;
    if (++idle_workers_ == options_.threads) idle_.notify_all();
    // While a submit_or_run caller holds an idle worker's slot, one idle
    // worker stays asleep (whichever wakes first while the slot is lent),
    // also while stop() drains the queue; it leaves once nothing is queued.
    do {
      work_ready_.wait(lock);
    } while (idle_workers_ <= lent_slots_ && !(stopping_ && queue_.empty()));
    --idle_workers_;
  }
}

void Dispatcher::run(Resolver& resolver, Job& job) {
  const auto started = Clock::now();
  auto checked = [&]() -> std::variant<Outcome, AgentRecord> {
    try {
      return resolver.check(job.request);
    } catch (const std::exception& e) {
      return Outcome{
          outcome::ProviderFailed{ProviderFailureClass::io_error, std::string("internal error: ") + e.what(), {}}};
    }
  }();
  if (auto* outcome = std::get_if<Outcome>(&checked)) {
    finish(job, outcome, started);
    return;
  }
  // A valid agent: register it without waiting for the disk. on_done
  // runs from the keystore's callback once the entry is durable.
  AgentRecord agent = std::move(std::get<AgentRecord>(checked));
  // Alone, this thread writes and syncs the batch itself when the disk is
  // idle (one wake-up of the committer thread less); under load it hands the
  // entry over, so that the committer gathers a batch, and goes on; under a
  // backlog the committer may wait a little for a fuller batch.
  auto writer = KeyStore::Writer::committer;
  {
    std::unique_lock lock(mutex_);
    registered_.wait(lock, [this] { return registering_ < options_.max_registering; });
    --running_;
    ++registering_;
    // Alone: nothing queued and no other request being resolved (readers
    // resolving requests themselves leave the queue empty under load too).
    if (queue_.empty() && running_ == 0) writer = KeyStore::Writer::caller_if_idle;
    // A backlog (more waiting than workers, which a closed loop of at most
    // `threads` callers never has): more registrations follow at once.
    if (queue_.size() > options_.threads) writer = KeyStore::Writer::committer_gathering;
  }
  // The agent lives with the job until the callback (one copy of its four
  // strings less than capturing it); the keystore reads it only before it
  // runs the callback, which may move it.
  struct Pending {
    Job job;
    AgentRecord agent;
  };
  auto pending = std::make_shared<Pending>(Pending{std::move(job), std::move(agent)});
  keys_->register_agent_async(
      pending->agent,
      [this, pending, started](RegisterResult stored) {
        Outcome outcome = Resolver::registration_outcome(std::move(pending->agent), stored, *keys_);
        finish(pending->job, &outcome, started, true);
      },
      writer);
}

void Dispatcher::finish(Job& job, const Outcome* outcome, Clock::time_point started, bool from_keystore) {
  const auto finished = Clock::now();
  {
    std::lock_guard lock(mutex_);
    in_flight_.erase(job.key);
    if (outcome != nullptr) {
      if (!from_keystore) --running_;
      ++counts_.completed;
    }
  }
  if (job.on_done) {
    try {
      job.on_done(Finished{job.request, outcome, RequestTiming{job.submitted, started, finished}});
    } catch (...) {
      // A callback must not take a worker (or the keystore's committer) down with it.
    }
  }
  if (from_keystore) {
    // Last touch of *this: stop() may return (and the dispatcher go) once
    // registering_ reaches 0.
    std::lock_guard lock(mutex_);
    --registering_;
    registered_.notify_all();
  }
}

void Dispatcher::stop(Clock::time_point drain_deadline) {
  std::lock_guard serial(stop_mutex_);
  std::deque<Job> cancelled;
  {
    std::unique_lock lock(mutex_);
    if (workers_.empty()) return;
    stopping_ = true;
    work_ready_.notify_all();
    idle_.wait_until(lock, drain_deadline, [this] { return queue_.empty() || cancel_waiting_; });
    cancelled.swap(queue_);
    counts_.cancelled += cancelled.size();
  }
  work_ready_.notify_all();
  const auto now = Clock::now();
  for (auto& job : cancelled) finish(job, nullptr, now);
  for (auto& worker : workers_) worker.join();
  // Registrations the workers handed to the keystore: wait until each is
  // durable (or failed) and its on_done has run; and for callers still
  // resolving in submit_or_run.
  std::unique_lock lock(mutex_);
  registered_.wait(lock, [this] { return registering_ == 0 && lent_slots_ == 0; });
  workers_.clear();
}

void Dispatcher::cancel_waiting() {
  {
    std::lock_guard lock(mutex_);
    cancel_waiting_ = true;
  }
  idle_.notify_all();
}

std::size_t Dispatcher::waiting() const {
  std::lock_guard lock(mutex_);
  const std::size_t free_workers = idle_workers_ - lent_slots_;
  return queue_.size() > free_workers ? queue_.size() - free_workers : 0;
}

std::size_t Dispatcher::running() const {
  std::lock_guard lock(mutex_);
  return running_;
}

std::size_t Dispatcher::registering() const {
  std::lock_guard lock(mutex_);
  return registering_;
}

DispatcherCounts Dispatcher::counts() const {
  std::lock_guard lock(mutex_);
  return counts_;
}

}  // namespace keyreq
