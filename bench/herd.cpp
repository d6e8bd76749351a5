#include "bench/herd.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <condition_variable>
#include <cstring>
#include <fstream>
#include <mutex>
#include <string_view>
#include <thread>
#include <unordered_map>

#include "resolver/platform/child_process_groups.hpp"
#include "resolver/platform/posix_spawn_launcher.hpp"
#include "resolver/platform/unix_listen.hpp"

namespace keyreq::bench {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

// "event=registered request=id:001 … total_ms=1.2 queue_ms=0.3" → field value ("" if absent).
// Views into the line: the watch runs beside serve on the same cores, so it
// parses without allocating.
std::string_view field(std::string_view line, std::string_view space_key_equals) {
  const std::size_t at = line.find(space_key_equals);
  if (at == std::string_view::npos) return {};
  const std::size_t start = at + space_key_equals.size();
  return line.substr(start, line.find(' ', start) - start);  // npos - start: to the end
}

std::uint64_t ms_to_ns(std::string_view text) {
  double ms = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), ms);
  return ec == std::errc() && ms > 0 ? static_cast<std::uint64_t>(ms * 1e6) : 0;
}

// What the reader thread learns from serve's log.
struct LogWatch {
  std::mutex m;
  std::condition_variable cv;
  bool started = false, eof = false;
  std::uint64_t durable = 0, failed = 0, dropped = 0;
  std::vector<std::pair<std::string, Clock::time_point>> durable_at;  // request, when its line arrived
  Histogram queue_wait, in_serve;
  std::string first_failure;
  std::string tail;  // last bytes of the log, for the error message

  // One complete line; the caller holds m.
  void line(std::string_view text, Clock::time_point at) {
    const std::string_view event = field(text, " event=");
    if (event == "serve_started")
      started = true;
    else if (event == "registered") {
      ++durable;
      durable_at.emplace_back(field(text, " request="), at);
      in_serve.record(ms_to_ns(field(text, " total_ms=")));
      queue_wait.record(ms_to_ns(field(text, " queue_ms=")));
    } else if (event == "already_registered" || event == "declined" || event == "refused" || event == "conflict" ||
               event == "provider_failure" || event == "store_failure" || event == "invalid_request" ||
               event == "dropped" || event == "cancelled" || event == "deduplicated") {
      ++failed;
      if (event == "dropped" || event == "cancelled") ++dropped;
      if (first_failure.empty()) first_failure = text;
    }
  }

  // A chunk read from the pipe: its complete lines under one lock and one wake-up.
  void lines(std::string_view chunk, Clock::time_point at) {
    std::lock_guard lock(m);
    tail.append(chunk.substr(chunk.size() > 4000 ? chunk.size() - 4000 : 0));
    if (tail.size() > 8000) tail.erase(0, tail.size() - 4000);
    for (std::size_t start = 0, nl = chunk.find('\n'); nl != std::string_view::npos;
         start = nl + 1, nl = chunk.find('\n', start))
      line(chunk.substr(start, nl - start), at);
    cv.notify_all();
  }
};

// keyreq serve in its own process group, with PR_SET_PDEATHSIG so a killed
// keyreq bench takes it (and, through its own PDEATHSIG, its providers) along.
pid_t spawn_serve(const std::vector<std::string>& args, int stderr_fd) {
  pid_t pid = -1;
  const SpawnStdio stdio{dev_null_fd(O_RDONLY), dev_null_fd(O_WRONLY), stderr_fd};
  return spawn_process(args[0], args, stdio, SpawnOptions{}, pid) == 0 ? pid : -1;
}

// keyreq serve in its own process group, its stderr read line by line into a LogWatch.
class ServeProcess {
 public:
  ServeProcess(const HerdSpec& spec, std::size_t queue_size, std::string& error) : spec_(spec) {
    const fs::path input = spec.dir / ("herd-" + spec.transport + ".in");
    const fs::path keys = spec.dir / ("herd-" + spec.transport + ".keys");
    std::error_code ec;
    fs::remove(keys, ec);
    std::vector<std::string> args{spec.keyreq.string(), "serve"};
    args.insert(args.end(), spec.provider_flags.begin(), spec.provider_flags.end());
    for (const std::string& a : {std::string("--input"), input.string(), std::string("--keys"), keys.string(),
                                 std::string("--threads"), std::to_string(spec.threads), std::string("--queue-size"),
                                 std::to_string(std::max<std::size_t>(queue_size, 1)), std::string("--timeout"),
                                 std::string("30"), std::string("--log-level"), std::string("info")})
      args.push_back(a);
    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
      error = std::string("pipe: ") + std::strerror(errno);
      return;
    }
    pid_ = spawn_serve(args, pipe_fds[1]);
    ::close(pipe_fds[1]);
    if (pid_ < 0) {
      ::close(pipe_fds[0]);
      error = "cannot start " + spec.keyreq.string() + " serve";
      return;
    }
    reader_ = std::thread([this, fd = pipe_fds[0]] { read_log(fd); });
  }
  ~ServeProcess() { stop(); }
  ServeProcess(const ServeProcess&) = delete;
  ServeProcess& operator=(const ServeProcess&) = delete;

  // Waits for serve_started; "" or what went wrong (with the log's last lines).
  std::string wait_started() {
    std::unique_lock lock(watch.m);
    watch.cv.wait_for(lock, std::chrono::seconds(30), [&] { return watch.started || watch.eof; });
    return watch.started ? "" : "keyreq serve did not start; its log:\n" + watch.tail;
  }
  fs::path input() const { return spec_.dir / ("herd-" + spec_.transport + ".in"); }
  void stop() {
    if (pid_ > 0) stop_process_group(pid_, std::chrono::seconds(20));
    pid_ = -1;
    if (reader_.joinable()) reader_.join();
  }

  LogWatch watch;

 private:
  void read_log(int fd) {
    std::ofstream log(spec_.dir / ("herd-" + spec_.transport + ".log"), std::ios::binary);
    std::string pending;
    char buf[65536];
    while (true) {
      const ssize_t got = ::read(fd, buf, sizeof buf);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) break;
      const auto at = Clock::now();
      log.write(buf, got);
      pending.append(buf, static_cast<std::size_t>(got));
      const std::size_t complete = pending.rfind('\n') + 1;  // 0 when no line is complete yet
      if (complete == 0) continue;
      watch.lines(std::string_view(pending).substr(0, complete), at);
      pending.erase(0, complete);
    }
    ::close(fd);
    std::lock_guard lock(watch.m);
    watch.eof = true;
    watch.cv.notify_all();
  }

  const HerdSpec& spec_;
  pid_t pid_ = -1;
  std::thread reader_;
};

// Sends each request, stamping its send in sent_at; the count sent. The
// requests are built beforehand and the stamps go to a vector, so that the
// sender takes no more CPU from serve than the send itself.
std::size_t fire(int fd, const std::vector<std::string>& requests, std::vector<Clock::time_point>& sent_at,
                 std::string& error) {
  sent_at.resize(requests.size());
  std::size_t sent = 0;
  for (const std::string& request : requests) {
    sent_at[sent] = Clock::now();
    ssize_t rc;
    while ((rc = ::send(fd, request.data(), request.size(), 0)) < 0 && errno == EINTR) {
    }
    if (rc < 0) {
      error = "send to serve's input: " + std::string(std::strerror(errno));
      break;
    }
    ++sent;
  }
  return sent;
}

// The herd's figures from what serve's log said.
void summarize(HerdRun& run, const LogWatch& watch, const std::vector<std::string>& requests,
               const std::vector<Clock::time_point>& sent_at, Clock::time_point first_send) {
  run.durable = watch.durable;
  run.failed = watch.failed + (run.sent - std::min(run.sent, watch.durable + watch.failed));
  run.dropped = watch.dropped;
  std::unordered_map<std::string_view, Clock::time_point> sent_at_of;
  sent_at_of.reserve(run.sent);
  for (std::size_t i = 0; i < run.sent; ++i) sent_at_of.emplace(requests[i], sent_at[i]);
  Histogram to_durable;
  Clock::time_point last = first_send;
  for (const auto& [request, at] : watch.durable_at) {
    const auto it = sent_at_of.find(request);
    if (it == sent_at_of.end()) continue;
    last = std::max(last, at);
    to_durable.record(static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::max(at - it->second, Clock::duration::zero()))
            .count()));
  }
  run.to_durable = percentiles_of(to_durable);
  run.queue_wait = percentiles_of(watch.queue_wait);
  run.in_serve = percentiles_of(watch.in_serve);
  run.seconds = std::chrono::duration<double>(last - first_send).count();
  if (run.seconds > 0) run.registrations_per_s = static_cast<double>(run.durable) / run.seconds;
  run.extrapolated = run.sent < run.requested;
  run.seconds_for_requested = run.extrapolated && run.registrations_per_s > 0
                                  ? static_cast<double>(run.requested) / run.registrations_per_s
                                  : run.seconds;
  if (run.failed > 0 && run.error.empty()) run.error = "first failure: " + watch.first_failure;
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
  std::string error;
  ServeProcess serve(spec, n, error);
  if (error.empty()) error = serve.wait_started();
  const UniqueFd input = error.empty() ? connect_unix_datagram(serve.input().string(), error) : UniqueFd();
  const int fd = input.get();
  if (fd < 0) {
    run.error = error;
    return run;
  }
  {
    std::lock_guard lock(serve.watch.m);
    serve.watch.durable_at.reserve(n);  // no reallocation while serve works
  }
  std::vector<std::string> requests;
  requests.reserve(n);
  for (std::size_t i = 0; i < n; ++i) requests.push_back("id:" + spec.ids[i]);
  std::vector<Clock::time_point> sent_at;
  const auto first_send = Clock::now();
  run.sent = fire(fd, requests, sent_at, run.error);
  {
    std::unique_lock lock(serve.watch.m);
    serve.watch.cv.wait_until(lock, first_send + spec.budget,
                              [&] { return serve.watch.eof || serve.watch.durable + serve.watch.failed >= run.sent; });
  }
  serve.stop();
  std::lock_guard lock(serve.watch.m);
  summarize(run, serve.watch, requests, sent_at, first_send);
  run.repetition_rates = {run.registrations_per_s};
  return run;
}

HerdRun run_herd_repeated(const HerdSpec& spec, int repetitions) {
  std::vector<HerdRun> runs;
  std::vector<double> rates;
  for (int i = 0; i < std::max(repetitions, 1); ++i) {
    runs.push_back(run_herd(spec));
    if (!runs.back().error.empty()) return runs.back();
    rates.push_back(runs.back().registrations_per_s);
  }
  std::vector<std::size_t> order(runs.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return rates[a] < rates[b]; });
  HerdRun median_run = std::move(runs[order[(order.size() - 1) / 2]]);  // the lower median of an even count
  median_run.repetition_rates = std::move(rates);
  return median_run;
}

}  // namespace keyreq::bench
