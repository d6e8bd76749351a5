// The global phases of a run: the load generator and the resolver alone
// (null provider), memory, durable registration in client.keys, and the
// Google Benchmark microbenchmarks.
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "bench/bench_run.hpp"
#include "bench/micro.hpp"
#include "bench/serve_process.hpp"
#include "dataset/dataset.hpp"

namespace keyreq::bench {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

void BenchRun::run_null_and_memory() {
  // The load generator alone (a probe that does nothing), then the resolver
  // alone (null provider: canned answers, validate only).
  NullProvider null_provider(o_.agents);
  const Workload& workload = builtin_workload_;
  for (int c : {1, 2}) {
    for (int rep = 0; rep < std::max(1, p_.repetitions); ++rep) {
      LoadSpec spec;
      spec.concurrency = c;
      spec.warmup = 50ms;
      spec.duration = p_.null_duration;
      measure(
          series(SeriesKey::closed("null", "none", "loadgen", c)), [] { return make_null_call(); }, spec,
          CpuFrom::none);
      measure(
          series(SeriesKey::closed("null", "none", "resolver", c)),
          [&] { return make_resolver_call(null_provider, nullptr, workload); }, spec, CpuFrom::none);
    }
  }

  measure_serve_memory();
  // Memory flatness: RSS of this process while many requests go through a
  // resolver with a client.keys of keystore_agents agents. The workload's
  // agents are registered first, so each answer is checked against the
  // store and found there: growth past the first tenth is a leak.
  progress("memory: loading " + std::to_string(p_.keystore_agents) + " agents");
  const double mib = 1024.0 * 1024.0;
  {
    auto keys = fresh_keys("memory", &keys100k_);
    report_.measurements["memory.keystore_agents"] = static_cast<double>(keys->active_count());
    for (const auto& a : workload.agents) keys->register_agent_async(AgentRecord{a.id, a.name, a.ip, a.key}, {});
    keys->flush();
    LoadSpec spec;
    spec.concurrency = 1;
    spec.warmup = 0ms;
    spec.duration = 3600s;
    spec.max_requests = p_.null_requests / 10;
    auto probe_factory = [&] { return make_resolver_call(null_provider, keys.get(), workload); };
    const LoadResult first = run_load(spec, probe_factory, workload);
    const std::size_t after_tenth = rss_bytes();
    spec.max_requests = p_.null_requests;
    progress("memory: " + std::to_string(p_.null_requests) + " requests through the resolver");
    const LoadResult rest = run_load(spec, probe_factory, workload);
    const std::size_t after_all = rss_bytes();
    for (const LoadResult* run : {&first, &rest}) {
      if (run->errors > 0) {
        note("memory: " + std::to_string(run->errors) + " requests got the wrong outcome; first: " + run->first_error);
      }
    }
    report_.measurements["memory.requests"] = static_cast<double>(p_.null_requests);
    report_.measurements["memory.rss_growth_mib"] =
        (static_cast<double>(after_all) - static_cast<double>(after_tenth)) / mib;
    report_.measurements["memory.process_rss_mib"] = static_cast<double>(after_all) / mib;
  }
}

// The resolver's memory is that of `keyreq serve` (a process of its own, as
// users run it): its RSS once started with an empty client.keys, and with
// keystore_agents agents in it. Measured in fresh processes: a difference
// of RSS inside bench would reuse memory bench freed earlier and read low
// (it read 0.0 MiB for 100k agents after a longer run).
void BenchRun::measure_serve_memory() {
  progress("memory: keyreq serve with an empty client.keys and with " + std::to_string(p_.keystore_agents) + " agents");
  auto rss_of_serve = [&](const std::string& tag, const fs::path* seed) {
    std::string error;
    const auto mib = serve_rss_mib(executable_dir(), workdir_->path(), tag, seed, error);
    if (!mib) note("memory: " + error);
    return mib;
  };
  const auto empty = rss_of_serve("empty", nullptr);
  const auto loaded = rss_of_serve("agents", &keys100k_);
  if (!empty || !loaded) return;
  report_.measurements["memory.rss_at_start_mib"] = *empty;
  report_.measurements["memory.keystore_rss_mib"] = std::max(0.0, *loaded - *empty);
}

void BenchRun::run_keystore() {
  // Durable registration: agents not yet in a client.keys that already holds
  // keystore_agents entries, registered from 1 and 8 threads with the
  // synchronous call (each caller waits for the fdatasync of its batch;
  // concurrent callers share it), then through register_agent_async with
  // kAsyncInFlight registrations in flight (what the dispatcher does). Only
  // registrations reported `registered` (durable) are counted; the async
  // figure's time runs until the last one is durable.
  const std::size_t first = o_.agents + 2000 + p_.keystore_agents;
  for (int threads : {1, 8}) {
    progress("keystore: durable registrations from " + std::to_string(threads) + " threads");
    auto keys = fresh_keys("keystore", &keys100k_);
    std::atomic<std::size_t> next{0};
    std::atomic<bool> stop{false};
    std::atomic<std::size_t> failed{0};
    const auto start = std::chrono::steady_clock::now();
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
      pool.emplace_back([&] {
        while (!stop.load(std::memory_order_relaxed)) {
          const std::size_t i = next.fetch_add(1);
          const auto a = fixtures::dataset_agent(first + i);
          const auto r = keys->register_agent(AgentRecord{a.id, a.name, a.ip, a.key});
          if (r.status != RegisterStatus::registered) failed.fetch_add(1);
        }
      });
    }
    std::this_thread::sleep_for(p_.keystore_duration);
    stop = true;
    for (auto& t : pool) t.join();
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const std::string key = "keystore.registrations_per_s_t" + std::to_string(threads);
    report_.measurements[key] = static_cast<double>(next.load() - failed.load()) / elapsed;
    if (failed.load() > 0) note("keystore: " + std::to_string(failed.load()) + " registrations failed");
  }
  {
    constexpr std::size_t kAsyncInFlight = 1024;
    progress("keystore: durable registrations, asynchronous, " + std::to_string(kAsyncInFlight) + " in flight");
    auto keys = fresh_keys("keystore", &keys100k_);
    std::mutex m;
    std::condition_variable cv;
    std::size_t in_flight = 0, ok = 0, failed = 0;
    const auto start = std::chrono::steady_clock::now();
    const auto until = start + p_.keystore_duration;
    for (std::size_t i = 0;; ++i) {
      if (i % 64 == 0 && std::chrono::steady_clock::now() >= until) break;
      {
        std::unique_lock lock(m);
        cv.wait(lock, [&] { return in_flight < kAsyncInFlight; });
        ++in_flight;
      }
      const auto a = fixtures::dataset_agent(first + i);
      keys->register_agent_async(AgentRecord{a.id, a.name, a.ip, a.key}, [&](RegisterResult r) {
        std::lock_guard lock(m);
        --in_flight;
        if (r.status == RegisterStatus::registered)
          ++ok;
        else
          ++failed;
        cv.notify_one();
      });
    }
    keys->flush();
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::lock_guard lock(m);
    report_.measurements["keystore.registrations_per_s_async"] = static_cast<double>(ok) / elapsed;
    report_.measurements["keystore.async_in_flight"] = static_cast<double>(kAsyncInFlight);
    if (failed > 0) note("keystore: " + std::to_string(failed) + " asynchronous registrations failed");
  }
}

void BenchRun::run_micro() {
  progress("microbenchmarks");
  const fs::path exe = executable_dir() / "keyreq-microbench";
  if (!fs::exists(exe)) {
    note("microbenchmarks not run: " + exe.string() + " is not built");
  } else if (auto e = run_microbenchmarks(exe, p_.micro_repetitions, p_.micro_min_time, report_.micro); !e.empty()) {
    note("microbenchmarks: " + e);
  }
}

}  // namespace keyreq::bench
