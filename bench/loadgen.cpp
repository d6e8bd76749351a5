#include "bench/loadgen.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace keyreq::bench {

namespace {
using Clock = std::chrono::steady_clock;

struct WorkerState {
  Histogram latency;
  Histogram service;
  std::uint64_t requests = 0, errors = 0;
  Clock::time_point first_send = Clock::time_point::max();
  Clock::time_point last_end = Clock::time_point::min();
  std::vector<std::pair<std::string_view, std::uint64_t>> outcomes;
  std::string first_error;
  std::string setup_error;

  void count(std::string_view outcome) {
    for (auto& [name, n] : outcomes)
      if (name == outcome) {
        ++n;
        return;
      }
    outcomes.emplace_back(outcome, 1);
  }
};

std::uint64_t ns_between(Clock::time_point a, Clock::time_point b) {
  return b > a ? static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(b - a).count()) : 0;
}

// Closed loop: from the first measured send to the last answer. Open loop:
// from the first intended send, so the rate achieved is judged against the
// schedule.
void set_wall_and_throughput(LoadResult& result, Clock::time_point first, Clock::time_point last) {
  if (result.requests == 0 || last <= first) return;
  result.wall_s = std::chrono::duration<double>(last - first).count();
  result.throughput = static_cast<double>(result.requests) / result.wall_s;
}

// Counts `count` more of `name` (outcomes keep first-seen order).
void add_outcome(LoadResult& result, std::string_view name, std::uint64_t count) {
  auto it =
      std::find_if(result.outcomes.begin(), result.outcomes.end(), [&](const auto& p) { return p.first == name; });
  if (it == result.outcomes.end())
    result.outcomes.emplace_back(std::string(name), count);
  else
    it->second += count;
}

// Sums the per-thread tallies into one result (outcomes keep first-seen order).
LoadResult merge_workers(const std::vector<WorkerState>& states) {
  LoadResult result;
  Clock::time_point first = Clock::time_point::max(), last = Clock::time_point::min();
  for (const auto& st : states) {
    if (!st.setup_error.empty() && result.setup_error.empty()) result.setup_error = st.setup_error;
    result.latency.merge(st.latency);
    result.service.merge(st.service);
    result.requests += st.requests;
    result.errors += st.errors;
    if (result.first_error.empty()) result.first_error = st.first_error;
    if (st.requests) {
      first = std::min(first, st.first_send);
      last = std::max(last, st.last_end);
    }
    for (const auto& [name, count] : st.outcomes) add_outcome(result, name, count);
  }
  set_wall_and_throughput(result, first, last);
  return result;
}

// Requests scheduled inside the window that were never sent (the open loop
// gave up one window past its end) are errors, not silently missing samples.
void count_abandoned(const LoadSpec& spec, std::chrono::duration<double, std::nano> period, Clock::duration window,
                     Clock::duration window_offset, LoadResult& result) {
  const double from = std::ceil(std::chrono::duration<double, std::nano>(window_offset) / period);
  const double to = std::ceil(std::chrono::duration<double, std::nano>(window_offset + window) / period);
  const auto scheduled = static_cast<std::uint64_t>(std::max(0.0, to - from));
  const std::uint64_t limit = spec.max_requests ? std::min(scheduled, spec.max_requests) : scheduled;
  if (limit <= result.requests) return;
  const std::uint64_t missing = limit - result.requests;
  result.errors += missing;
  result.outcomes.emplace_back("abandoned_late", missing);
  if (result.first_error.empty()) result.first_error = "open loop fell a whole window behind its schedule";
}

}  // namespace

void add_window(LoadResult& total, const LoadResult& part) {
  total.latency.merge(part.latency);
  total.service.merge(part.service);
  total.requests += part.requests;
  total.errors += part.errors;
  total.wall_s += part.wall_s;
  total.throughput = total.wall_s > 0 ? static_cast<double>(total.requests) / total.wall_s : 0;
  for (const auto& [name, count] : part.outcomes) add_outcome(total, name, count);
  if (total.first_error.empty()) total.first_error = part.first_error;
  if (total.setup_error.empty()) total.setup_error = part.setup_error;
}

LoadResult run_load(const LoadSpec& spec, const TimedCallFactory& make_probe, const Workload& workload) {
  const int n = std::max(1, spec.concurrency);
  std::vector<WorkerState> states(static_cast<std::size_t>(n));
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::atomic<bool> abort{false};
  std::atomic<std::uint64_t> next{0};
  std::atomic<std::uint64_t> measured{0};
  Clock::time_point t_start, t0, t1, t_give_up;
  const bool open_loop = spec.rate > 0;
  const auto period = open_loop ? std::chrono::duration<double, std::nano>(1e9 / spec.rate)
                                : std::chrono::duration<double, std::nano>(0);

  auto worker = [&](WorkerState& st) {
    std::unique_ptr<TimedCall> probe;
    try {
      probe = make_probe();
    } catch (const std::exception& e) {
      st.setup_error = e.what();
    }
    if (!probe && st.setup_error.empty()) st.setup_error = "could not build the probe";
    if (!probe) abort = true;
    ready.fetch_add(1);
    ready.notify_all();
    go.wait(false);
    if (abort) return;
    std::string error;
    while (true) {
      const std::uint64_t i = next.fetch_add(1, std::memory_order_relaxed);
      Clock::time_point intended;
      if (open_loop) {
        intended = t_start + std::chrono::duration_cast<Clock::duration>(period * static_cast<double>(i));
        if (intended >= t1) break;
        if (spec.max_requests && measured.load(std::memory_order_relaxed) >= spec.max_requests) break;
        // Hopelessly behind schedule: stop; what was scheduled and not sent is counted after the join.
        if (Clock::now() > t_give_up) break;
        std::this_thread::sleep_until(intended);
      } else {
        const auto now = Clock::now();
        if (now >= t1 && measured.load(std::memory_order_relaxed) >= spec.min_requests) break;
        // Past the budget a worker stops once it has one measured request:
        // a call slower than the warm-up must still be sampled.
        if (spec.budget.count() > 0 && st.requests > 0 &&
            now >= t0 + std::chrono::duration_cast<Clock::duration>(spec.budget))
          break;
        if (spec.max_requests && measured.load(std::memory_order_relaxed) >= spec.max_requests) break;
      }
      const WorkItem& item = workload.at(spec.first_item + i);
      const auto sent = Clock::now();
      if (!open_loop) intended = sent;
      error.clear();
      const TimedCall::Result r = probe->call(item, error);
      const auto done = Clock::now();
      if (intended < t0) continue;  // warm-up
      measured.fetch_add(1, std::memory_order_relaxed);
      ++st.requests;
      st.latency.record(ns_between(intended, done));
      st.service.record(ns_between(sent, done));
      st.first_send = std::min(st.first_send, open_loop ? intended : sent);
      st.last_end = std::max(st.last_end, done);
      st.count(r.outcome);
      if (!r.ok) {
        ++st.errors;
        if (st.first_error.empty()) st.first_error = std::string(r.outcome) + ": " + error;
      }
    }
  };

  std::vector<std::thread> threads;
  threads.reserve(states.size());
  for (auto& st : states) threads.emplace_back(worker, std::ref(st));
  for (int r = ready.load(); r < n; r = ready.load()) ready.wait(r);
  t_start = Clock::now() + std::chrono::milliseconds(1);
  t0 = t_start + std::chrono::duration_cast<Clock::duration>(spec.warmup);
  t1 = t0 + std::chrono::duration_cast<Clock::duration>(spec.duration);
  t_give_up = t1 + std::max(std::chrono::duration_cast<Clock::duration>(spec.duration),
                            std::chrono::duration_cast<Clock::duration>(std::chrono::seconds(1)));
  go = true;
  go.notify_all();
  if (!abort) {
    std::this_thread::sleep_until(t0);
    if (spec.on_window_open) spec.on_window_open();
  }
  for (auto& t : threads) t.join();
  if (!abort && spec.on_window_close) spec.on_window_close();

  LoadResult result = merge_workers(states);
  if (open_loop && !abort) count_abandoned(spec, period, t1 - t0, t0 - t_start, result);
  return result;
}

LoadResult run_open_async(const LoadSpec& spec, const AsyncSubmit& submit, const Workload& workload) {
  LoadResult result;
  std::mutex mutex;  // guards result while completions arrive from worker threads
  std::condition_variable all_done;
  std::uint64_t outstanding = 0;
  Clock::time_point first = Clock::time_point::max(), last = Clock::time_point::min();

  const auto period = std::chrono::duration<double, std::nano>(1e9 / std::max(spec.rate, 1e-3));
  const Clock::time_point t_start = Clock::now() + std::chrono::milliseconds(1);
  const Clock::time_point t0 = t_start + std::chrono::duration_cast<Clock::duration>(spec.warmup);
  const Clock::time_point t1 = t0 + std::chrono::duration_cast<Clock::duration>(spec.duration);
  bool window_open = false;
  auto count = [&](std::string_view outcome) { add_outcome(result, outcome, 1); };

  for (std::uint64_t i = 0;; ++i) {
    const Clock::time_point intended =
        t_start + std::chrono::duration_cast<Clock::duration>(period * static_cast<double>(i));
    if (intended >= t1) break;
    if (spec.max_requests && i >= spec.max_requests) break;
    std::this_thread::sleep_until(intended);
    if (!window_open && intended >= t0) {
      window_open = true;
      if (spec.on_window_open) spec.on_window_open();
    }
    const bool measured = intended >= t0;
    {
      std::lock_guard lock(mutex);
      ++outstanding;
    }
    submit(workload.at(spec.first_item + i), [&, intended, measured](const Completion& c) {
      const auto done = Clock::now();
      std::lock_guard lock(mutex);
      if (measured) {
        ++result.requests;
        result.latency.record(ns_between(intended, done));
        result.service.record(c.service_ns);
        first = std::min(first, intended);
        last = std::max(last, done);
        count(c.outcome);
        if (!c.ok) {
          ++result.errors;
          if (result.first_error.empty()) result.first_error = std::string(c.outcome) + ": " + c.error;
        }
      }
      if (--outstanding == 0) all_done.notify_all();
    });
  }
  {
    // Every accepted request gets its answer within the provider timeout.
    std::unique_lock lock(mutex);
    all_done.wait(lock, [&] { return outstanding == 0; });
  }
  if (window_open && spec.on_window_close) spec.on_window_close();
  set_wall_and_throughput(result, first, last);
  return result;
}

}  // namespace keyreq::bench
