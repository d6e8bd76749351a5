#include "resolver/daemon/dispatcher.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <thread>

#include <unistd.h>

#include "resolver/resolve/resolver.hpp"

namespace keyreq {
namespace {
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// A valid answer for an id request: agent-ID, any address, key kID.
ProviderOutput valid_answer(const Request& request) {
  return ProviderOutput{R"({"error":0,"data":{"id":")" + request.value + R"(","name":"agent-)" + request.value +
                            R"(","ip":"any","key":"k)" + request.value + R"("}})",
                        {}};
}

// Answers every id request validly; while closed, calls block until open().
class GateProvider final : public ProviderClient {
 public:
  explicit GateProvider(bool open = true) : open_(open) {}
  ProviderResult call(const Request& request) override {
    std::unique_lock lock(m_);
    ++calls_;
    ++running_;
    max_running_ = std::max(max_running_, running_);
    cv_.notify_all();
    cv_.wait(lock, [this] { return open_; });
    --running_;
    return valid_answer(request);
  }
  std::string describe() const override { return "gate"; }
  void open() {
    std::lock_guard lock(m_);
    open_ = true;
    cv_.notify_all();
  }
  // Waits until `n` calls are blocked in the provider at once.
  bool wait_running(int n, std::chrono::milliseconds timeout = 5s) {
    std::unique_lock lock(m_);
    return cv_.wait_for(lock, timeout, [&] { return running_ >= n; });
  }
  int calls() {
    std::lock_guard lock(m_);
    return calls_;
  }
  int max_running() {
    std::lock_guard lock(m_);
    return max_running_;
  }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  bool open_;
  int calls_ = 0, running_ = 0, max_running_ = 0;
};

Request id(int n) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%03d", n);
  return Request{RequestKind::id, buf};
}

// Collects what on_done saw.
struct Results {
  std::mutex m;
  std::condition_variable cv;
  std::map<std::string, int> done;  // wire -> times called
  int cancelled = 0;
  int accepted_outcomes = 0;
  bool timing_ordered = true;

  OnDone callback() {
    return [this](const Finished& f) {
      std::lock_guard lock(m);
      ++done[f.request.wire()];
      if (f.cancelled())
        ++cancelled;
      else if (std::holds_alternative<outcome::Accepted>(*f.outcome))
        ++accepted_outcomes;
      if (!(f.timing.submitted <= f.timing.started && f.timing.started <= f.timing.finished)) timing_ordered = false;
      cv.notify_all();
    };
  }
  bool wait_total(int n, std::chrono::milliseconds timeout = 10s) {
    std::unique_lock lock(m);
    return cv.wait_for(lock, timeout, [&] {
      int total = 0;
      for (auto& [k, v] : done) total += v;
      return total >= n;
    });
  }
};

TEST(Dispatcher, ResolvesAndCallsBackOnceWithTiming) {
  GateProvider provider;
  Results results;
  Dispatcher d(provider, nullptr, {2, 8});
  EXPECT_EQ(d.submit(id(1), results.callback()), SubmitStatus::accepted);
  EXPECT_EQ(d.submit(std::string_view("ip:10.0.0.1\n"), results.callback()), SubmitStatus::accepted);
  ASSERT_TRUE(results.wait_total(2));
  d.stop(Clock::now() + 1s);
  std::lock_guard lock(results.m);
  EXPECT_EQ(results.done["id:001"], 1);
  EXPECT_EQ(results.done["ip:10.0.0.1"], 1);
  EXPECT_EQ(results.accepted_outcomes, 1);  // the fake answers ip requests with the address as id: refused (S2)
  EXPECT_TRUE(results.timing_ordered);
  EXPECT_EQ(d.counts().completed, 2u);
}

TEST(Dispatcher, InvalidBytesNeverReachTheProvider) {
  GateProvider provider;
  Dispatcher d(provider, nullptr, {1, 8});
  bool called = false;
  EXPECT_EQ(d.submit(std::string_view("invalid:request"), [&](const Finished&) { called = true; }),
            SubmitStatus::invalid);
  d.stop(Clock::now() + 1s);
  EXPECT_FALSE(called);
  EXPECT_EQ(provider.calls(), 0);
  EXPECT_EQ(d.counts().invalid, 1u);
}

TEST(Dispatcher, IdenticalRequestInFlightIsDeduplicated) {
  GateProvider provider(false);
  Results results;
  Dispatcher d(provider, nullptr, {1, 8});
  EXPECT_EQ(d.submit(id(1), results.callback()), SubmitStatus::accepted);
  ASSERT_TRUE(provider.wait_running(1));
  EXPECT_EQ(d.submit(id(1), results.callback()), SubmitStatus::deduplicated);  // being resolved
  EXPECT_EQ(d.submit(id(2), results.callback()), SubmitStatus::accepted);
  EXPECT_EQ(d.submit(id(2), results.callback()), SubmitStatus::deduplicated);  // waiting
  provider.open();
  ASSERT_TRUE(results.wait_total(2));
  // Once finished, the same request is new again.
  EXPECT_EQ(d.submit(id(1), results.callback()), SubmitStatus::accepted);
  ASSERT_TRUE(results.wait_total(3));
  d.stop(Clock::now() + 1s);
  EXPECT_EQ(provider.calls(), 3);
  EXPECT_EQ(d.counts().deduplicated, 2u);
}

TEST(Dispatcher, QueueHoldsExactlyQueueSizeWaitingRequests) {
  for (std::size_t queue_size : {1u, 3u}) {
    GateProvider provider(false);
    Results results;
    Dispatcher d(provider, nullptr, {1, queue_size});
    // Back to back, without waiting for the worker to pick the first one up.
    EXPECT_EQ(d.submit(id(1), results.callback()), SubmitStatus::accepted);  // handed to the idle worker
    for (std::size_t i = 0; i < queue_size; ++i) {
      EXPECT_EQ(d.submit(id(static_cast<int>(2 + i)), results.callback()), SubmitStatus::accepted) << i;
    }
    EXPECT_EQ(d.submit(id(50), results.callback()), SubmitStatus::queue_full);
    // A refused request is not in flight: sent again, it is refused again, not a duplicate.
    EXPECT_EQ(d.submit(id(50), results.callback()), SubmitStatus::queue_full);
    ASSERT_TRUE(provider.wait_running(1));
    EXPECT_EQ(d.waiting(), queue_size);
    EXPECT_EQ(d.running(), 1u);
    EXPECT_EQ(d.submit(id(51), results.callback()), SubmitStatus::queue_full);
    provider.open();
    ASSERT_TRUE(results.wait_total(static_cast<int>(queue_size) + 1));
    d.stop(Clock::now() + 1s);
    EXPECT_EQ(d.counts().queue_full, 3u);
    EXPECT_EQ(d.counts().deduplicated, 0u);
    EXPECT_EQ(provider.calls(), static_cast<int>(queue_size) + 1);
  }
}

TEST(Dispatcher, ThreadsRequestsAtOnce) {
  GateProvider provider(false);
  Results results;
  Dispatcher d(provider, nullptr, {4, 16});
  for (int i = 1; i <= 10; ++i) EXPECT_EQ(d.submit(id(i), results.callback()), SubmitStatus::accepted);
  ASSERT_TRUE(provider.wait_running(4));
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(provider.max_running(), 4);
  EXPECT_EQ(d.waiting(), 6u);
  provider.open();
  ASSERT_TRUE(results.wait_total(10));
  d.stop(Clock::now() + 1s);
  EXPECT_EQ(provider.max_running(), 4);
}

TEST(Dispatcher, StopDrainsTheQueueThenCancelsWhatIsLeftAtTheDeadline) {
  GateProvider provider(false);
  Results results;
  Dispatcher d(provider, nullptr, {1, 8});
  for (int i = 1; i <= 4; ++i) ASSERT_EQ(d.submit(id(i), results.callback()), SubmitStatus::accepted);
  ASSERT_TRUE(provider.wait_running(1));
  std::thread opener([&] {
    std::this_thread::sleep_for(200ms);
    provider.open();
  });
  const auto start = Clock::now();
  d.stop(start + 50ms);  // the running request finishes; three waiting ones are cancelled at 50 ms
  opener.join();
  EXPECT_GE(Clock::now() - start, 150ms);  // stop() waited for the running request
  EXPECT_EQ(d.submit(id(9), results.callback()), SubmitStatus::stopped);
  std::lock_guard lock(results.m);
  EXPECT_EQ(results.cancelled, 3);
  EXPECT_EQ(results.accepted_outcomes, 1);
  for (int i = 1; i <= 4; ++i) EXPECT_EQ(results.done[id(i).wire()], 1);
  EXPECT_EQ(d.counts().cancelled, 3u);
}

TEST(Dispatcher, StopWithTimeLeftResolvesEverythingWaiting) {
  GateProvider provider;
  Results results;
  Dispatcher d(provider, nullptr, {2, 100});
  for (int i = 1; i <= 50; ++i) ASSERT_EQ(d.submit(id(i), results.callback()), SubmitStatus::accepted);
  d.stop(Clock::now() + 10s);
  std::lock_guard lock(results.m);
  EXPECT_EQ(results.accepted_outcomes, 50);
  EXPECT_EQ(results.cancelled, 0);
}

TEST(Dispatcher, ManySubmittersEachAcceptedRequestCallsBackExactlyOnce) {
  GateProvider provider;
  Results results;
  Dispatcher d(provider, nullptr, {4, 100000});
  constexpr int kPerThread = 500;
  std::atomic<int> accepted{0}, deduplicated{0};
  std::vector<std::thread> submitters;
  for (int t = 0; t < 4; ++t) {
    submitters.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        // Threads overlap on half of the ids: some are deduplicated.
        const int n = 100 + (t % 2) * kPerThread + i;
        auto s = d.submit(id(n), results.callback());
        if (s == SubmitStatus::accepted)
          ++accepted;
        else if (s == SubmitStatus::deduplicated)
          ++deduplicated;
      }
    });
  }
  for (auto& s : submitters) s.join();
  ASSERT_TRUE(results.wait_total(accepted.load()));
  d.stop(Clock::now() + 10s);
  EXPECT_EQ(accepted + deduplicated, 4 * kPerThread);
  std::lock_guard lock(results.m);
  int total = 0;
  for (auto& [k, v] : results.done) total += v;
  EXPECT_EQ(total, accepted.load());
  EXPECT_EQ(d.counts().completed, static_cast<std::uint64_t>(accepted.load()));
  EXPECT_EQ(d.counts().deduplicated, static_cast<std::uint64_t>(deduplicated.load()));
}

// A new directory under the system's temp directory (the test removes it).
std::filesystem::path fresh_dir() {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("dispatcher_test." + std::to_string(::getpid()) + "." + std::to_string(std::random_device{}()));
  std::filesystem::create_directories(dir);
  return dir;
}

// Records the thread that called the provider (the worker).
class ThreadRecordingProvider final : public ProviderClient {
 public:
  ProviderResult call(const Request& request) override {
    worker_ = std::this_thread::get_id();
    return valid_answer(request);
  }
  std::string describe() const override { return "thread-recording"; }
  std::thread::id worker() const { return worker_; }

 private:
  std::thread::id worker_;
};

// Issue 13: with a worker idle and nothing waiting, submit_or_run resolves
// on the caller's thread (no wake-up of the worker, no hand-back), and
// on_done has run when it returns.
TEST(Dispatcher, SubmitOrRunResolvesOnTheCallersThreadWhenAWorkerIsIdle) {
  ThreadRecordingProvider provider;
  Resolver own(provider, nullptr);
  Dispatcher d(provider, nullptr, {.threads = 1, .queue_size = 4});
  std::optional<std::thread::id> callback_thread;
  bool accepted_outcome = false;
  ASSERT_EQ(d.submit_or_run(
                std::string_view("id:003"),
                [&](const Finished& f) {
                  callback_thread = std::this_thread::get_id();
                  accepted_outcome = !f.cancelled() && std::holds_alternative<outcome::Accepted>(*f.outcome);
                },
                own),
            SubmitStatus::accepted);
  ASSERT_TRUE(callback_thread.has_value());  // ran before submit_or_run returned
  EXPECT_EQ(*callback_thread, std::this_thread::get_id());
  EXPECT_EQ(provider.worker(), std::this_thread::get_id());
  EXPECT_TRUE(accepted_outcome);
  EXPECT_EQ(d.running(), 0u);
  EXPECT_EQ(d.counts().completed, 1u);
  EXPECT_EQ(d.submit_or_run(
                std::string_view("bad"), [](const Finished&) {}, own),
            SubmitStatus::invalid);
}

// Under load (another request being resolved) the caller hands the request
// to an idle worker instead of resolving it: resolving on serve's readers in
// a herd was measured slower than the workers.
TEST(Dispatcher, SubmitOrRunHandsARequestThatIsNotAloneToAWorker) {
  GateProvider provider(false);
  Results results;
  Resolver own(provider, nullptr);
  Dispatcher d(provider, nullptr, {.threads = 2, .queue_size = 4});
  ASSERT_EQ(d.submit(id(1), results.callback()), SubmitStatus::accepted);
  ASSERT_TRUE(provider.wait_running(1));
  auto second = std::async(std::launch::async, [&] { return d.submit_or_run(id(2), results.callback(), own); });
  // Resolved here, it would block on the closed provider.
  ASSERT_EQ(second.wait_for(5s), std::future_status::ready);
  EXPECT_EQ(second.get(), SubmitStatus::accepted);
  EXPECT_TRUE(provider.wait_running(2));  // the second worker has it
  provider.open();
  ASSERT_TRUE(results.wait_total(2));
  d.stop(Clock::now() + 1s);
}

// A caller that waits for its answer anyway (RunHere::when_worker_idle)
// resolves it itself while another request is being resolved, as long as a
// worker is idle; with no worker idle it queues.
TEST(Dispatcher, AWaitingCallerResolvesItselfWhileAWorkerIsIdle) {
  GateProvider provider(false);
  Results results;
  Resolver own(provider, nullptr), other_own(provider, nullptr);
  Dispatcher d(provider, nullptr, {.threads = 2, .queue_size = 4});
  ASSERT_EQ(d.submit(id(1), results.callback()), SubmitStatus::accepted);
  ASSERT_TRUE(provider.wait_running(1));
  // Resolved here: it blocks on the closed provider until the gate opens.
  auto second = std::async(std::launch::async,
                           [&] { return d.submit_or_run(id(2), results.callback(), own, RunHere::when_worker_idle); });
  ASSERT_TRUE(provider.wait_running(2));
  EXPECT_EQ(second.wait_for(100ms), std::future_status::timeout);
  // Both slots are taken (a worker, the caller): the next one queues and returns.
  EXPECT_EQ(d.submit_or_run(id(3), results.callback(), other_own, RunHere::when_worker_idle), SubmitStatus::accepted);
  EXPECT_EQ(d.waiting(), 1u);
  EXPECT_EQ(provider.max_running(), 2);
  provider.open();
  EXPECT_EQ(second.get(), SubmitStatus::accepted);
  ASSERT_TRUE(results.wait_total(3));
  EXPECT_EQ(provider.max_running(), 2);
  d.stop(Clock::now() + 1s);
}

// A caller running a request holds the idle worker's slot: the concurrency
// bound stays `threads`, a second submit_or_run queues instead of running,
// and the worker takes it once the slot is back. stop() waits for the caller.
TEST(Dispatcher, SubmitOrRunKeepsTheThreadsBoundAndStopWaitsForTheCaller) {
  GateProvider provider(false);
  Results results;
  Resolver first_own(provider, nullptr), second_own(provider, nullptr);
  Dispatcher d(provider, nullptr, {.threads = 1, .queue_size = 4});
  std::thread first([&] { EXPECT_EQ(d.submit_or_run(id(1), results.callback(), first_own), SubmitStatus::accepted); });
  ASSERT_TRUE(provider.wait_running(1));
  EXPECT_EQ(d.submit_or_run(id(2), results.callback(), second_own), SubmitStatus::accepted);  // queued, returns
  EXPECT_EQ(d.submit_or_run(id(1), results.callback(), second_own), SubmitStatus::deduplicated);
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(provider.max_running(), 1);  // the idle worker stayed asleep: its slot is lent
  EXPECT_EQ(d.waiting(), 1u);
  std::atomic<bool> stopped{false};
  std::thread stopper([&] {
    d.stop(Clock::now() + 10s);
    stopped = true;
  });
  std::this_thread::sleep_for(100ms);
  EXPECT_FALSE(stopped.load());  // request 1 is still being resolved by its caller
  provider.open();
  first.join();
  stopper.join();
  EXPECT_EQ(provider.max_running(), 1);
  EXPECT_EQ(provider.calls(), 2);
  std::lock_guard lock(results.m);
  EXPECT_EQ(results.done["id:001"], 1);
  EXPECT_EQ(results.done["id:002"], 1);
  EXPECT_EQ(results.cancelled, 0);
}

// Issue 13: a lone registration (nothing else waiting) is written and
// fdatasync'ed by the worker itself instead of waking the keystore's
// committer thread, so on_done runs on the worker, and only once the entry is
// on disk.
TEST(Dispatcher, LoneRegistrationIsMadeDurableByItsWorker) {
  namespace fs = std::filesystem;
  const fs::path dir = fresh_dir();
  const fs::path file = dir / "client.keys";
  {
    auto opened = KeyStore::open(file);
    ASSERT_TRUE(std::holds_alternative<std::unique_ptr<KeyStore>>(opened));
    auto keys = std::get<std::unique_ptr<KeyStore>>(std::move(opened));
    ThreadRecordingProvider provider;
    std::mutex m;
    std::condition_variable cv;
    std::optional<std::thread::id> callback_thread;
    bool registered = false, on_disk = false;
    Dispatcher d(provider, keys.get(), {.threads = 1, .queue_size = 4});
    ASSERT_EQ(d.submit(id(7),
                       [&](const Finished& f) {
                         std::ifstream in(file, std::ios::binary);
                         std::ostringstream content;
                         content << in.rdbuf();
                         std::lock_guard lock(m);
                         registered = !f.cancelled() && std::holds_alternative<outcome::Registered>(*f.outcome);
                         on_disk = content.str().find("007 agent-007 any k007") != std::string::npos;
                         callback_thread = std::this_thread::get_id();
                         cv.notify_all();
                       }),
              SubmitStatus::accepted);
    std::unique_lock lock(m);
    ASSERT_TRUE(cv.wait_for(lock, 10s, [&] { return callback_thread.has_value(); }));
    EXPECT_TRUE(registered);
    EXPECT_TRUE(on_disk);
    EXPECT_EQ(*callback_thread, provider.worker());
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
}

TEST(Dispatcher, RegistrationsAreDurableAtOnDoneAndStopWaitsForThem) {
  namespace fs = std::filesystem;
  const fs::path dir = fresh_dir();
  const fs::path file = dir / "client.keys";
  auto read_file = [&] {
    std::ifstream in(file, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
  };
  constexpr int kCount = 300;
  {
    auto opened = KeyStore::open(file);
    ASSERT_TRUE(std::holds_alternative<std::unique_ptr<KeyStore>>(opened));
    auto keys = std::get<std::unique_ptr<KeyStore>>(std::move(opened));
    GateProvider provider;
    std::atomic<int> registered{0}, not_on_disk{0}, bad_timing{0};
    Dispatcher d(provider, keys.get(), {.threads = 2, .queue_size = 1000, .max_registering = 64});
    for (int i = 0; i < kCount; ++i) {
      const bool check = i % 50 == 0;
      ASSERT_EQ(d.submit(id(100 + i),
                         [&, check](const Finished& f) {
                           if (f.cancelled() || !std::holds_alternative<outcome::Registered>(*f.outcome)) return;
                           ++registered;
                           if (!(f.timing.submitted <= f.timing.started && f.timing.started <= f.timing.finished))
                             ++bad_timing;
                           if (check && read_file().find(f.request.value + " agent-" + f.request.value + " any k") ==
                                            std::string::npos)
                             ++not_on_disk;
                         }),
                SubmitStatus::accepted);
    }
    d.stop(Clock::now() + 10s);  // returns only once every registration is durable and reported
    EXPECT_EQ(registered.load(), kCount);
    EXPECT_EQ(not_on_disk.load(), 0);
    EXPECT_EQ(bad_timing.load(), 0);
    EXPECT_EQ(d.registering(), 0u);
    EXPECT_EQ(d.running(), 0u);
    EXPECT_EQ(d.counts().completed, static_cast<std::uint64_t>(kCount));
  }
  auto reopened = KeyStore::open(file);
  ASSERT_TRUE(std::holds_alternative<std::unique_ptr<KeyStore>>(reopened));
  EXPECT_EQ(std::get<std::unique_ptr<KeyStore>>(reopened)->active_count(), static_cast<std::size_t>(kCount));
  std::error_code ec;
  fs::remove_all(dir, ec);
}

// Answers every id request validly after `delay` (a provider slower than an
// fdatasync, so that nothing but the gathering hint makes batches grow).
class SlowProvider final : public ProviderClient {
 public:
  explicit SlowProvider(std::chrono::milliseconds delay) : delay_(delay) {}
  ProviderResult call(const Request& request) override {
    std::this_thread::sleep_for(delay_);
    return valid_answer(request);
  }
  std::string describe() const override { return "slow"; }

 private:
  std::chrono::milliseconds delay_;
};

// Issue 13, the herd: with more requests queued than workers, registrations
// go to the keystore as Writer::committer_gathering and share batches; a
// closed loop (never more in flight than workers) never waits for company.
// The 10 s window is longer than any of this takes: a wait for company that
// should not happen shows as a timeout.
TEST(Dispatcher, ABacklogGathersRegistrationsAClosedLoopNeverWaits) {
  namespace fs = std::filesystem;
  const fs::path dir = fresh_dir();
  {
    auto opened = KeyStore::open(dir / "client.keys",
                                 KeyStoreOptions{.gather_window = std::chrono::seconds(10), .gather_entries = 8});
    ASSERT_TRUE(std::holds_alternative<std::unique_ptr<KeyStore>>(opened));
    auto keys = std::get<std::unique_ptr<KeyStore>>(std::move(opened));
    SlowProvider provider(3ms);
    Dispatcher d(provider, keys.get(), {.threads = 1, .queue_size = 100});
    Results closed_loop;
    for (int i = 0; i < 5; ++i) {
      ASSERT_EQ(d.submit(id(100 + i), closed_loop.callback()), SubmitStatus::accepted);
      ASSERT_TRUE(closed_loop.wait_total(i + 1, 5s)) << "request " << i << " waited for company";
    }
    EXPECT_EQ(keys->batches_written(), 5u);

    Results backlog;
    for (int i = 0; i < 20; ++i) ASSERT_EQ(d.submit(id(200 + i), backlog.callback()), SubmitStatus::accepted);
    ASSERT_TRUE(backlog.wait_total(20, 8s));
    EXPECT_EQ(backlog.accepted_outcomes, 0);
    // Two full batches of 8 while the queue was long, then the tail: 5, where
    // each entry alone (a 3 ms call against a sub-millisecond fdatasync) is 20.
    EXPECT_LE(keys->batches_written() - 5, 6u);
    d.stop(Clock::now() + 10s);
    EXPECT_EQ(d.counts().completed, 25u);
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
}

}  // namespace
}  // namespace keyreq
