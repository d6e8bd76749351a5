#include "bench/loadgen.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "bench/timed_calls.hpp"

namespace keyreq::bench {
namespace {

using namespace std::chrono_literals;

class SleepProbe final : public TimedCall {
 public:
  SleepProbe(std::chrono::microseconds d, std::atomic<int>* calls = nullptr, int stall_at = -1,
             std::chrono::milliseconds stall = 0ms)
      : d_(d), calls_(calls), stall_at_(stall_at), stall_(stall) {}
  Result call(const WorkItem&, std::string&) override {
    const int n = calls_ ? calls_->fetch_add(1) : 0;
    std::this_thread::sleep_for(n == stall_at_ ? stall_ : d_);
    return {true, "slept"};
  }

 private:
  std::chrono::microseconds d_;
  std::atomic<int>* calls_;
  int stall_at_;
  std::chrono::milliseconds stall_;
};

Workload tiny() {
  Workload w;
  w.items.push_back(WorkItem{"id:001", "id", "001", Expect::answer});
  return w;
}

// A closed-loop run of `concurrency` workers: warm-up, then the measured window.
LoadSpec closed_loop(int concurrency, std::chrono::milliseconds warmup, std::chrono::milliseconds duration) {
  LoadSpec spec;
  spec.concurrency = concurrency;
  spec.warmup = warmup;
  spec.duration = duration;
  return spec;
}

TEST(LoadGen, ClosedLoopCountsThroughputAndLatency) {
  LoadSpec spec = closed_loop(2, 20ms, 300ms);
  const auto r = run_load(
      spec, [] { return std::make_unique<SleepProbe>(2000us); }, tiny());
  ASSERT_TRUE(r.setup_error.empty());
  EXPECT_EQ(r.errors, 0u);
  EXPECT_GT(r.requests, 50u);
  // two workers, >= 2 ms each: at most 1000/s
  EXPECT_LT(r.throughput, 1050);
  EXPECT_GT(r.throughput, 200);
  EXPECT_GE(r.latency.value_at(50), 2'000'000u);
  ASSERT_EQ(r.outcomes.size(), 1u);
  EXPECT_EQ(r.outcomes[0].first, "slept");
  EXPECT_EQ(r.outcomes[0].second, r.requests);
}

TEST(LoadGen, SlicesOfOneSeriesAddUpToOneWindow) {
  LoadResult a, b;
  a.latency.record(1000);
  a.requests = 1;
  a.wall_s = 0.5;
  a.outcomes = {{"answered", 1}};
  b.latency.record(3000);
  b.latency.record(3000);
  b.requests = 2;
  b.errors = 1;
  b.wall_s = 0.25;
  b.outcomes = {{"wrong_agent", 1}, {"answered", 1}};
  b.first_error = "wrong_agent: 002";
  LoadResult total;
  add_window(total, a);
  add_window(total, b);
  EXPECT_EQ(total.requests, 3u);
  EXPECT_EQ(total.errors, 1u);
  EXPECT_DOUBLE_EQ(total.wall_s, 0.75);
  EXPECT_DOUBLE_EQ(total.throughput, 4.0);  // 3 requests over 0.75 s measured
  EXPECT_EQ(total.latency.count(), 3u);
  EXPECT_GE(total.latency.value_at(50), 2900u);
  ASSERT_EQ(total.outcomes.size(), 2u);
  EXPECT_EQ(total.outcomes[0], (std::pair<std::string, std::uint64_t>{"answered", 2}));
  EXPECT_EQ(total.outcomes[1], (std::pair<std::string, std::uint64_t>{"wrong_agent", 1}));
  EXPECT_EQ(total.first_error, "wrong_agent: 002");
}

TEST(LoadGen, MinRequestsExtendsTheWindow) {
  LoadSpec spec = closed_loop(1, 0ms, 1ms);
  spec.min_requests = 30;
  const auto r = run_load(
      spec, [] { return std::make_unique<SleepProbe>(1000us); }, tiny());
  EXPECT_GE(r.requests, 30u);
}

// The point of the open loop: one 200 ms stall at 500 requests/s delays
// about 100 scheduled requests. Measured from the intended send time (wrk2)
// they all show it; measured from the actual send time only one does.
TEST(LoadGen, OpenLoopChargesAStallToEveryRequestItDelays) {
  std::atomic<int> calls{0};
  LoadSpec spec;
  spec.concurrency = 1;
  spec.rate = 500;
  spec.warmup = 0ms;
  spec.duration = 1000ms;
  const auto r = run_load(
      spec, [&] { return std::make_unique<SleepProbe>(100us, &calls, 100, 200ms); }, tiny());
  ASSERT_GT(r.requests, 300u);
  const double late = 1.0 - r.latency.fraction_at_or_below(50'000'000);  // > 50 ms
  const double late_service = 1.0 - r.service.fraction_at_or_below(50'000'000);
  EXPECT_GT(late, 0.05) << "coordinated omission not corrected";
  EXPECT_LT(late_service, 0.01);
  EXPECT_GE(r.latency.max(), 190'000'000u);
}

TEST(LoadGen, ProbeThatCannotBeBuiltIsReported) {
  LoadSpec spec;
  spec.duration = 10ms;
  const auto r = run_load(
      spec, []() -> std::unique_ptr<TimedCall> { throw std::runtime_error("no provider"); }, tiny());
  EXPECT_EQ(r.setup_error, "no provider");
  EXPECT_EQ(r.requests, 0u);
}

TEST(LoadGen, NullProbeIsFast) {
  LoadSpec spec = closed_loop(1, 10ms, 100ms);
  const auto r = run_load(
      spec, [] { return make_null_call(); }, tiny());
  EXPECT_GT(r.throughput, 100000);  // far below what it does, far above any provider
}

}  // namespace
}  // namespace keyreq::bench

namespace keyreq::bench {
namespace {

// The resolver path through the daemon's dispatcher, closed and open loop,
// over the null provider (no I/O): every request gets its expected outcome.
TEST(LoadGen, DispatcherClosedAndOpenLoop) {
  NullProvider provider(1000);
  const Workload w = make_workload(1000, Mix{}, 4096, 5);

  DispatcherOptions options;
  options.threads = 3;
  {
    Dispatcher d(provider, nullptr, options);
    LoadSpec spec = closed_loop(3, 10ms, 150ms);
    const auto r = run_load(
        spec, [&d, &provider, &w] { return make_dispatcher_call(d, provider, nullptr, w); }, w);
    d.stop(std::chrono::steady_clock::now() + 5s);
    EXPECT_GT(r.requests, 100u);
    EXPECT_EQ(r.errors, 0u) << r.first_error;
  }
  {
    options.queue_size = 1 << 16;
    Dispatcher d(provider, nullptr, options);
    LoadSpec spec;
    spec.rate = 5000;
    spec.warmup = 10ms;
    spec.duration = 200ms;
    const auto r = run_open_async(spec, dispatcher_submit(d, w), w);
    d.stop(std::chrono::steady_clock::now() + 5s);
    EXPECT_NEAR(static_cast<double>(r.requests), 1000, 150);  // 5000/s for 200 ms
    EXPECT_EQ(r.errors, 0u) << r.first_error;
    EXPECT_EQ(r.latency.count(), r.requests);
    EXPECT_GE(r.latency.max(), r.service.min());
  }
}

}  // namespace
}  // namespace keyreq::bench
