#pragma once
// The load generator: closed loop (N workers, each sends its next request as
// soon as the previous one is answered) and open loop (requests scheduled at a
// constant rate; latency measured from the intended send time, so a stall is
// charged to every request it delays, as wrk2 does — coordinated omission
// corrected). Workers are threads, each with its own TimedCall (one Resolver per
// thread, as the resolver wants).
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "bench/histogram.hpp"
#include "bench/workload.hpp"

namespace keyreq::bench {

// The thing being timed for one request. Not shared between threads.
class TimedCall {
 public:
  virtual ~TimedCall() = default;
  struct Result {
    bool ok;                   // the request got the outcome it should get
    std::string_view outcome;  // static name: "registered", "answered", "provider_failure", ...
  };
  // On failure, `error` gets a human-readable detail (only read for the first error).
  virtual Result call(const WorkItem& item, std::string& error) = 0;
};
using TimedCallFactory = std::function<std::unique_ptr<TimedCall>()>;

struct LoadSpec {
  int concurrency = 1;
  std::chrono::nanoseconds warmup{std::chrono::milliseconds(100)};
  std::chrono::nanoseconds duration{std::chrono::milliseconds(500)};
  std::uint64_t min_requests = 0;      // keep going past `duration` until this many completed…
  std::chrono::nanoseconds budget{0};  // …but not past this much measured time (0: no limit)
  std::uint64_t max_requests = 0;      // 0: no limit
  double rate = 0;                     // requests per second; 0 = closed loop
  std::uint64_t first_item = 0;        // where in the workload this run starts
  // Called by the coordinating thread when the measured window opens and
  // after the last measured request completed (CPU accounting).
  std::function<void()> on_window_open;
  std::function<void()> on_window_close;
};

struct LoadResult {
  Histogram latency;  // intended send → answer (closed loop: actual send → answer)
  Histogram service;  // actual send → answer
  std::uint64_t requests = 0;
  std::uint64_t errors = 0;
  double wall_s = 0;
  double throughput = 0;
  std::vector<std::pair<std::string, std::uint64_t>> outcomes;
  std::string first_error;
  std::string setup_error;  // a probe could not be built: nothing was measured
};

LoadResult run_load(const LoadSpec& spec, const TimedCallFactory& make_probe, const Workload& workload);

// Adds a window measured apart (a slice of the same series) to `total`:
// counts, histograms and outcomes summed, wall time summed, so throughput is
// requests over the measured time; the first error and setup error kept.
void add_window(LoadResult& total, const LoadResult& part);

// Open loop against an asynchronous system (the dispatcher's submit): one
// pacing thread sends each request at its intended time whether or not the
// earlier ones are answered, as the requester's datagrams arrive. `submit`
// returns false when the request was not taken (the outcome is then already
// reported through `done`); `done` may run on any thread.
struct Completion {
  bool ok;
  std::string_view outcome;  // static name
  std::uint64_t service_ns;  // from the moment a worker took it to the answer
  std::string error;         // only when !ok
};
using DoneFn = std::function<void(const Completion&)>;
using AsyncSubmit = std::function<bool(const WorkItem& item, DoneFn done)>;
LoadResult run_open_async(const LoadSpec& spec, const AsyncSubmit& submit, const Workload& workload);

}  // namespace keyreq::bench
