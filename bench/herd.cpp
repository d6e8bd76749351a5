#include "bench/herd.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <mutex>
#include <string_view>
#include <unordered_map>

#include "bench/fixture.hpp"
#include "bench/serve_process.hpp"
#include "resolver/platform/errno_text.hpp"
#include "resolver/platform/proc_files.hpp"
#include "resolver/platform/unix_listen.hpp"

namespace keyreq::bench {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

// serve's arguments for a herd of `queue_size` over spec.transport.
std::vector<std::string> serve_args(const HerdSpec& spec, std::size_t queue_size, const fs::path& input,
                                    const fs::path& keys) {
  std::vector<std::string> args{spec.keyreq.string(), "serve"};
  args.insert(args.end(), spec.provider_flags.begin(), spec.provider_flags.end());
  for (const std::string& a :
       {std::string("--input"), input.string(), std::string("--keys"), keys.string(), std::string("--threads"),
        std::to_string(spec.threads), std::string("--queue-size"), std::to_string(std::max<std::size_t>(queue_size, 1)),
        std::string("--timeout"), std::string("30"), std::string("--log-level"), std::string("info")})
    args.push_back(a);
  return args;
}

// Sends the requests, stamping each in sent_at; the count sent. The
// requests are built beforehand, the stamps go to a vector and the datagrams
// leave up to kSendBatch per sendmmsg, so that the sender takes as little CPU
// from serve as it can: bench shares the two cores with it, and one system
// call per datagram cost 3.6-4.0 us per datagram against 2.0-2.2 with batches
// of 32 (docs/bench.md). A batch's datagrams are stamped with the time its
// call began, so a datagram the call sent after blocking on a full socket
// reads a little early: datagram -> durable errs long, never short.
std::size_t fire(int fd, const std::vector<std::string>& requests, std::vector<Clock::time_point>& sent_at,
                 std::string& error) {
  constexpr std::size_t kSendBatch = 32;
  std::array<iovec, kSendBatch> parts{};
  std::array<mmsghdr, kSendBatch> messages{};
  sent_at.resize(requests.size());
  std::size_t sent = 0;
  while (sent < requests.size()) {
    const std::size_t batch = std::min(kSendBatch, requests.size() - sent);
    for (std::size_t i = 0; i < batch; ++i) {
      const std::string& request = requests[sent + i];
      parts[i] = iovec{const_cast<char*>(request.data()), request.size()};
      messages[i] = mmsghdr{};
      messages[i].msg_hdr.msg_iov = &parts[i];
      messages[i].msg_hdr.msg_iovlen = 1;
    }
    const auto at = Clock::now();
    const int rc = ::sendmmsg(fd, messages.data(), static_cast<unsigned>(batch), 0);
    if (rc < 0) {
      if (errno == EINTR) continue;
      error = "send to serve's input: " + errno_text(errno);
      break;
    }
    std::fill_n(sent_at.begin() + static_cast<std::ptrdiff_t>(sent), rc, at);
    sent += static_cast<std::size_t>(rc);
  }
  return sent;
}

// The herd's figures from what serve's log said.
void summarize(HerdRun& run, const ServeLog& serve_log, const std::vector<std::string>& requests,
               const std::vector<Clock::time_point>& sent_at, Clock::time_point first_send) {
  run.durable = serve_log.durable;
  run.failed = serve_log.failed + (run.sent - std::min(run.sent, serve_log.durable + serve_log.failed));
  run.dropped = serve_log.dropped;
  std::unordered_map<std::string_view, Clock::time_point> sent_at_of;
  sent_at_of.reserve(run.sent);
  for (std::size_t i = 0; i < run.sent; ++i) sent_at_of.emplace(requests[i], sent_at[i]);
  Histogram to_durable;
  Clock::time_point last = first_send;
  for (const auto& [request, at] : serve_log.durable_at) {
    const auto it = sent_at_of.find(request);
    if (it == sent_at_of.end()) continue;
    last = std::max(last, at);
    to_durable.record(static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::max(at - it->second, Clock::duration::zero()))
            .count()));
  }
  run.to_durable = percentiles_of(to_durable);
  run.queue_wait = percentiles_of(serve_log.queue_wait);
  run.in_serve = percentiles_of(serve_log.in_serve);
  run.seconds = std::chrono::duration<double>(last - first_send).count();
  if (run.seconds > 0) run.registrations_per_s = static_cast<double>(run.durable) / run.seconds;
  run.extrapolated = run.sent < run.requested;
  run.seconds_for_requested = run.extrapolated && run.registrations_per_s > 0
                                  ? static_cast<double>(run.requested) / run.registrations_per_s
                                  : run.seconds;
  if (run.failed > 0 && run.error.empty()) run.error = "first failure: " + serve_log.first_failure;
}

// CPU seconds so far of serve (its threads), of the provider (the socket
// daemon's group when known, over exec the children serve reaped) and of
// bench itself (while a herd runs, only its sender and its log reader work).
struct HerdCpu {
  double serve_s = 0, provider_s = 0, requester_s = 0;
  bool provider_known = false;
};

HerdCpu herd_cpu(const HerdSpec& spec, pid_t serve) {
  HerdCpu cpu;
  cpu.requester_s = cpu_self_s();
  if (const auto ns = process_cpu_ns(serve)) cpu.serve_s = static_cast<double>(*ns) / 1e9;
  if (spec.transport == "exec") {
    if (const auto stat = read_proc_stat(serve)) {
      cpu.provider_s = stat->reaped_children_s();
      cpu.provider_known = true;
    }
  } else if (spec.provider_group > 0) {
    cpu.provider_s = cpu_process_group_s(spec.provider_group);
    cpu.provider_known = true;
  }
  return cpu;
}

// Per durable agent, µs.
void record_cpu(HerdRun& run, const HerdCpu& before, const HerdCpu& after) {
  if (run.durable == 0) return;
  const double agents = static_cast<double>(run.durable);
  run.serve_cpu_us = (after.serve_s - before.serve_s) * 1e6 / agents;
  run.requester_cpu_us = (after.requester_s - before.requester_s) * 1e6 / agents;
  if (before.provider_known && after.provider_known)
    run.provider_cpu_us = (after.provider_s - before.provider_s) * 1e6 / agents;
}

}  // namespace

HerdRun run_herd(const HerdSpec& spec) {
  HerdRun run;
  run.provider = spec.provider;
  run.transport = spec.transport;
  run.requested = spec.ids.size();
  run.floor_peak_throughput = spec.floor_peak_throughput;
  const std::size_t n = spec.fit > 0 ? std::min(spec.fit, spec.ids.size()) : spec.ids.size();
  if (n == 0) {
    run.error = "no agent to ask for";
    return run;
  }
  const fs::path files = spec.dir / ("herd-" + spec.transport);  // .in, .keys, .log
  const fs::path input = fs::path(files).concat(".in");
  const fs::path keys = fs::path(files).concat(".keys");
  std::error_code ec;
  fs::remove(keys, ec);
  ServeProcess serve(serve_args(spec, n, input, keys), fs::path(files).concat(".log"));
  std::string error = serve.wait_started();
  const UniqueFd input_fd = error.empty() ? connect_unix_datagram(input.string(), error) : UniqueFd();
  const int fd = input_fd.get();
  if (fd < 0) {
    run.error = error;
    return run;
  }
  {
    std::lock_guard lock(serve.log.m);
    serve.log.durable_at.reserve(n);  // no reallocation while serve works
    serve.log.wake_at_outcomes = n;
  }
  std::vector<std::string> requests;
  requests.reserve(n);
  for (std::size_t i = 0; i < n; ++i) requests.push_back("id:" + spec.ids[i]);
  std::vector<Clock::time_point> sent_at;
  const HerdCpu cpu_before = herd_cpu(spec, serve.pid());
  const auto first_send = Clock::now();
  run.sent = fire(fd, requests, sent_at, run.error);
  {
    std::unique_lock lock(serve.log.m);
    serve.log.wake_at_outcomes = run.sent;  // fewer when a send failed
    serve.log.cv.wait_until(lock, first_send + spec.budget,
                            [&] { return serve.log.eof || serve.log.durable + serve.log.failed >= run.sent; });
  }
  const HerdCpu cpu_after = herd_cpu(spec, serve.pid());
  serve.stop();
  std::lock_guard lock(serve.log.m);
  summarize(run, serve.log, requests, sent_at, first_send);
  record_cpu(run, cpu_before, cpu_after);
  run.repetition_rates = {run.registrations_per_s};
  return run;
}

HerdRun run_herd_repeated(const HerdSpec& spec, int repetitions) {
  std::vector<HerdRun> runs;
  std::vector<double> rates, floors;
  std::vector<Repetition> floor_runs;
  auto measure_floor = [&] {
    floor_runs.push_back(spec.paired_floor());
    floors.push_back(floor_runs.back().throughput);
  };
  for (int i = 0; i < std::max(repetitions, 1); ++i) {
    // The floor beside its repetition, the order alternating (ABBA), so that
    // drift on a shared machine reaches both sides of the ratio alike.
    const bool floor_first = i % 2 == 0;
    if (spec.paired_floor && floor_first) measure_floor();
    runs.push_back(run_herd(spec));
    if (!runs.back().error.empty()) return runs.back();
    if (spec.paired_floor && !floor_first) measure_floor();
    rates.push_back(runs.back().registrations_per_s);
  }
  // What the median is taken over.
  const std::vector<double> keys = spec.paired_floor ? ratios_to_floors(rates, floors, 0) : rates;
  std::vector<std::size_t> order(runs.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return keys[a] < keys[b]; });
  const std::size_t median = order[(order.size() - 1) / 2];  // the lower median of an even count
  HerdRun median_run = std::move(runs[median]);
  median_run.repetition_rates = std::move(rates);
  if (spec.paired_floor) {
    median_run.floor_peak_throughput = floors[median];
    median_run.floor_client_cpu_us = floor_runs[median].cpu_self_us;
    median_run.floor_provider_cpu_us = floor_runs[median].cpu_provider_us;
  }
  median_run.repetition_floors = std::move(floors);
  return median_run;
}

}  // namespace keyreq::bench
