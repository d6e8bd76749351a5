#include "conformance/certify/provider_under_test.hpp"

#include <algorithm>
#include <set>

#include "conformance/certify/process_runner.hpp"

namespace keyreq::certify {
namespace {
double ms_of(std::chrono::nanoseconds d) { return std::chrono::duration<double, std::milli>(d).count(); }
}  // namespace

std::string must_rules(const std::vector<Finding>& findings) {
  std::set<std::string> rules;
  for (const auto& f : findings)
    if (f.level == Level::must) rules.insert(f.rule);
  std::string out;
  for (const auto& r : rules) out += (out.empty() ? "" : " ") + r;
  return out;
}

Exchange exchange_of(const SocketRun& run, const SocketScript& script) {
  Exchange ex;
  ex.transport = Transport::socket;
  ex.pieces = script.pieces;
  ex.pause = script.pause_between;
  ex.half_close = script.half_close;
  ex.started = run.connected;
  ex.start_error = run.connect_error;
  ex.output = run.reply;
  ex.output_total = run.reply.size();
  ex.eof = run.eof;
  ex.reset = run.reset;
  if (run.reply.empty()) ex.io_error = !run.write_error.empty() ? run.write_error : run.read_error;
  ex.reply_pieces = run.pieces.size();
  if (run.pieces.size() > 1) ex.reply_span = run.pieces.back().at - run.pieces.front().at;
  ex.timed_out = run.timed_out;
  ex.too_large = run.too_large;
  ex.elapsed = run.elapsed;
  return ex;
}

std::string ProviderUnderTest::stop_reason() const {
  return "not run: " + std::to_string(failures_.load()) +
         " calls had already timed out or could not reach the provider; probing stopped to keep the run bounded";
}

Exchange ProviderUnderTest::run_exec(const std::vector<std::string>& tail, bool counts) {
  std::vector<std::string> argv = o_.command;
  argv.insert(argv.end(), tail.begin(), tail.end());
  RunLimits limits;
  limits.timeout = o_.timeout;
  const ProcessRun run = run_process(argv, limits);
  Exchange ex;
  ex.transport = Transport::exec;
  ex.argv = std::move(argv);
  ex.started = run.started;
  ex.start_error = run.start_error;
  ex.output = run.stdout_bytes;
  ex.output_total = run.stdout_total;
  ex.stderr_bytes = run.stderr_bytes;
  ex.stderr_total = run.stderr_total;
  ex.exit_code = run.exited ? run.exit_code : -1;
  ex.signal = run.signal;
  ex.timed_out = run.timed_out;
  ex.ignored_sigterm = run.ignored_sigterm;
  ex.stdout_held_open = run.stdout_held_open;
  ex.too_large = run.too_large;
  ex.elapsed = run.elapsed;
  if (counts) account(ex);
  return ex;
}

Exchange ProviderUnderTest::run_socket(SocketScript script, bool counts) {
  script.timeout = o_.timeout;
  const SocketRun run = socket_exchange(o_.socket_path, script);
  Exchange ex = exchange_of(run, script);
  if (counts) account(ex);
  return ex;
}

Exchange ProviderUnderTest::request(const Request& r, bool counts) {
  if (exec()) return run_exec({std::string(r.kind_word()), r.value}, counts);
  SocketScript script;
  script.pieces = {r.wire()};
  return run_socket(script, counts);
}

void ProviderUnderTest::note_well_formed(const Exchange& ex) {
  std::lock_guard lock(mutex_);
  if (ex.started && !ex.timed_out) timings_.push_back(ex.elapsed);
  if (ex.transport == Transport::exec && ex.exit_code >= 0) ++tally_.exit_codes[ex.exit_code];
  if (ex.stderr_total > 0) {
    ++tally_.stderr_calls;
    if (!tally_.stderr_example) tally_.stderr_example = ex;
  }
}

void ProviderUnderTest::note_serial(const Request& request, const std::vector<Finding>& findings) {
  std::lock_guard lock(mutex_);
  serial_[request.wire()] = must_rules(findings);
}

std::optional<std::string> ProviderUnderTest::serial_rules(const Request& request) const {
  std::lock_guard lock(mutex_);
  const auto it = serial_.find(request.wire());
  if (it == serial_.end()) return std::nullopt;
  return it->second;
}

void ProviderUnderTest::note_split_reply(const Exchange& ex) {
  std::lock_guard lock(mutex_);
  if (ex.reply_pieces > 1) {
    ++tally_.split_replies;
    if (!tally_.split_example) tally_.split_example = ex;
  }
  ++tally_.socket_replies;
}

TimingSummary ProviderUnderTest::timing() const {
  std::lock_guard lock(mutex_);
  TimingSummary t;
  std::vector<std::chrono::nanoseconds> sorted = timings_;
  std::sort(sorted.begin(), sorted.end());
  t.calls = sorted.size();
  if (!sorted.empty()) {
    t.median_ms = ms_of(sorted[(sorted.size() - 1) / 2]);
    const std::size_t p99 = (sorted.size() * 99 + 99) / 100;  // nearest rank
    t.p99_ms = ms_of(sorted[std::min(sorted.size(), p99) - 1]);
    t.max_ms = ms_of(sorted.back());
    for (auto d : sorted)
      if (d * 2 >= o_.timeout) ++t.near_timeout;
  }
  return t;
}

AnswerTally ProviderUnderTest::tally() const {
  std::lock_guard lock(mutex_);
  return tally_;
}

void ProviderUnderTest::account(const Exchange& ex) {
  if (!ex.started)
    failures_ += exec() ? kStopAfterFailures : 1;  // exec: it will never start
  else if (ex.timed_out)
    failures_ += 1;
}

}  // namespace keyreq::certify
