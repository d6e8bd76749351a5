#include "conformance/certify/certifier.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <latch>
#include <nlohmann/json.hpp>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_map>

#include "conformance/certify/judge.hpp"
#include "conformance/certify/payloads.hpp"
#include "conformance/certify/process_runner.hpp"
#include "conformance/certify/socket_probe.hpp"
#include "resolver/escape.hpp"
#include "resolver/field_rules.hpp"

namespace keyreq::certify {
namespace {

using Clock = std::chrono::steady_clock;
using Kind = Expectation::Kind;

std::string utc_now() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

double ms_of(std::chrono::nanoseconds d) { return std::chrono::duration<double, std::milli>(d).count(); }

std::string q(std::string_view s) { return "\"" + escape_bytes(s, 128) + "\""; }

// A scratch directory for shell-injection canaries, removed at the end.
class ScratchDir {
 public:
  ScratchDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "keyreq-certify-XXXXXX").string();
    if (::mkdtemp(tmpl.data())) path_ = tmpl;
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  ~ScratchDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// The MUST rule ids among findings, sorted, space-separated ("" when none).
std::string must_rules(const std::vector<Finding>& findings) {
  std::set<std::string> rules;
  for (const auto& f : findings)
    if (f.level == Level::must) rules.insert(f.rule);
  std::string out;
  for (const auto& r : rules) out += (out.empty() ? "" : " ") + r;
  return out;
}

// The provider under test, with the run's shared bookkeeping: the circuit
// breaker that stops calling a provider that hangs, timings, stderr use.
class Target {
 public:
  explicit Target(const CertifyOptions& o) : o_(o) {}

  bool exec() const { return o_.transport == Transport::exec; }

  bool stopped() const { return failures_.load() >= kStopAfterFailures; }
  std::string stop_reason() const {
    return "not run: " + std::to_string(failures_.load()) +
           " calls had already timed out or could not reach the provider; probing stopped to keep the run "
           "bounded";
  }

  Exchange run_exec(const std::vector<std::string>& tail, bool counts = true) {
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

  Exchange run_socket(SocketScript script, bool counts = true) {
    script.timeout = o_.timeout;
    const SocketRun run = socket_exchange(o_.socket_path, script);
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
    if (counts) account(ex);
    return ex;
  }

  // A well-formed request, sent the way the resolver sends it.
  Exchange request(const Request& r, bool counts = true) {
    if (exec()) return run_exec({std::string(r.kind_word()), r.value}, counts);
    SocketScript script;
    script.pieces = {r.wire()};
    return run_socket(script, counts);
  }

  // Bookkeeping for an answer to a well-formed request.
  void note_well_formed(const Exchange& ex) {
    std::lock_guard lock(mutex_);
    if (ex.started && !ex.timed_out) timings_.push_back(ex.elapsed);
    if (ex.transport == Transport::exec && ex.exit_code >= 0) ++exit_codes_[ex.exit_code];
    if (ex.stderr_total > 0) {
      ++stderr_calls_;
      if (!stderr_example_) stderr_example_ = ex;
    }
  }
  // The MUST rules a serial call of this request broke ("" when none).
  void note_serial(const Request& request, const std::vector<Finding>& findings) {
    std::lock_guard lock(mutex_);
    serial_[request.wire()] = must_rules(findings);
  }
  std::optional<std::string> serial_rules(const Request& request) const {
    std::lock_guard lock(mutex_);
    const auto it = serial_.find(request.wire());
    if (it == serial_.end()) return std::nullopt;
    return it->second;
  }

  void note_split_reply(const Exchange& ex) {
    std::lock_guard lock(mutex_);
    if (ex.reply_pieces > 1) {
      ++split_replies_;
      if (!split_example_) split_example_ = ex;
    }
    ++socket_replies_;
  }

  TimingSummary timing() const {
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

  std::size_t stderr_calls() const { return stderr_calls_; }
  const std::optional<Exchange>& stderr_example() const { return stderr_example_; }
  std::size_t split_replies() const { return split_replies_; }
  std::size_t socket_replies() const { return socket_replies_; }
  const std::optional<Exchange>& split_example() const { return split_example_; }
  std::map<int, std::size_t> exit_codes() const {
    std::lock_guard lock(mutex_);
    return exit_codes_;
  }

 private:
  void account(const Exchange& ex) {
    if (!ex.started) failures_ += exec() ? kStopAfterFailures : 1;  // exec: it will never start
    else if (ex.timed_out) failures_ += 1;
  }

  const CertifyOptions& o_;
  std::atomic<int> failures_{0};
  mutable std::mutex mutex_;
  std::vector<std::chrono::nanoseconds> timings_;
  std::map<int, std::size_t> exit_codes_;
  std::size_t stderr_calls_ = 0;
  std::optional<Exchange> stderr_example_;
  std::size_t split_replies_ = 0, socket_replies_ = 0;
  std::optional<Exchange> split_example_;
  std::map<std::string, std::string> serial_;
};

struct ProbeSpec {
  std::string id, group, title;
  std::function<void(ProbeResult&)> body;
};

class Runner {
 public:
  Runner(const CertifyOptions& o, Target& target) : o_(o), target_(target) {}

  // Runs the specs (on `workers` threads when more than one) and appends
  // their results in spec order.
  void run(std::vector<ProbeSpec> specs, unsigned workers, std::vector<ProbeResult>& out) {
    std::vector<ProbeResult> results(specs.size());
    std::atomic<std::size_t> next{0};
    auto work = [&] {
      for (std::size_t i = next++; i < specs.size(); i = next++) results[i] = run_one(specs[i]);
    };
    workers = std::max(1u, std::min<unsigned>(workers, static_cast<unsigned>(specs.size())));
    if (workers == 1) {
      work();
    } else {
      std::vector<std::thread> threads;
      for (unsigned w = 0; w < workers; ++w) threads.emplace_back(work);
      for (auto& t : threads) t.join();
    }
    for (auto& r : results) out.push_back(std::move(r));
  }

 private:
  ProbeResult run_one(const ProbeSpec& spec) {
    ProbeResult r;
    r.id = spec.id;
    r.group = spec.group;
    r.title = spec.title;
    const auto start = Clock::now();
    if (target_.stopped()) r.skip_reason = target_.stop_reason();
    else spec.body(r);
    r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    if (o_.progress) {
      std::lock_guard lock(progress_mutex_);
      o_.progress(r);
    }
    return r;
  }

  const CertifyOptions& o_;
  Target& target_;
  std::mutex progress_mutex_;
};

void add(ProbeResult& r, const Exchange& ex, std::vector<Finding> findings) {
  if (ex.skipped) return;
  r.evidence.push_back(ex);
  for (auto& f : findings) r.findings.push_back(std::move(f));
}

// Indexes of up to k agents spread over the dataset: first, last, evenly between.
std::vector<std::size_t> spread(std::size_t n, std::size_t k) {
  std::set<std::size_t> picked;
  if (n == 0 || k == 0) return {};
  if (n <= k) {
    for (std::size_t i = 0; i < n; ++i) picked.insert(i);
  } else {
    for (std::size_t j = 0; j < k; ++j) picked.insert(j * (n - 1) / (k - 1));
  }
  return {picked.begin(), picked.end()};
}

// True when the exchange brought back a JSON object whose "error" is 0.
bool answers_success(const Exchange& ex) {
  if (!ex.started || ex.timed_out || ex.too_large) return false;
  try {
    const auto doc = nlohmann::json::parse(ex.output);
    return doc.is_object() && doc.contains("error") && doc["error"].is_number_integer() && doc["error"] == 0;
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace

fixtures::DatasetRead read_dataset(const std::string& path) {
  char magic[16] = {};
  if (FILE* f = std::fopen(path.c_str(), "rb")) {
    const std::size_t n = std::fread(magic, 1, sizeof magic, f);
    std::fclose(f);
    if (n == sizeof magic && std::string_view(magic, sizeof magic) == std::string_view("SQLite format 3\0", 16)) {
      return fixtures::read_dataset_sqlite(path);
    }
  }
  return fixtures::read_dataset_csv(path);
}

std::string dataset_problem(const std::vector<fixtures::DatasetAgent>& agents) {
  if (agents.empty()) return "it holds no agent";
  std::set<std::string> ids;
  for (std::size_t i = 0; i < agents.size(); ++i) {
    const auto& a = agents[i];
    const std::string where = "agent " + std::to_string(i + 1) + " (id \"" + escape_bytes(a.id, 32) + "\")";
    if (!rules::is_agent_id(a.id)) return where + ": the id is not 3 to 8 digits (S2)";
    if (!rules::is_agent_name(a.name)) return where + ": name \"" + escape_bytes(a.name, 64) + "\" breaks S3";
    if (!rules::is_agent_ip(a.ip)) return where + ": ip \"" + escape_bytes(a.ip, 64) + "\" breaks S4";
    if (!rules::is_agent_key(a.key)) return where + ": the key breaks S5";
    if (!ids.insert(a.id).second) return where + ": the id appears twice";
  }
  return {};
}

Certificate certify(const CertifyOptions& o) {
  const auto run_start = Clock::now();
  Certificate cert;
  cert.keyreq_version = o.keyreq_version;
  cert.started_at = utc_now();
  cert.transport = o.transport;
  cert.provider = o.transport == Transport::exec ? o.command_line : o.socket_path;
  cert.dataset = o.dataset_path;
  cert.dataset_agents = o.agents.size();
  cert.timeout_seconds = std::chrono::duration<double>(o.timeout).count();
  cert.parallel = std::max(1u, o.parallel);

  Target target(o);
  Runner runner(o, target);
  ScratchDir scratch;
  const auto& agents = o.agents;
  const bool exec = o.transport == Transport::exec;

  // --- what the dataset offers: plain addresses that name one agent each
  std::unordered_map<std::string, std::size_t> ip_count;
  std::set<std::string> ids;
  for (const auto& a : agents) {
    ++ip_count[a.ip];
    ids.insert(a.id);
  }
  auto ip_lookup_ok = [&](const fixtures::DatasetAgent& a) {
    const auto it = ip_count.find(a.ip);
    return rules::is_ip_address(a.ip) && it != ip_count.end() && it->second == 1;
  };
  const fixtures::DatasetAgent& known = agents.front();
  std::optional<fixtures::DatasetAgent> known_ip;
  for (const auto& a : agents) {
    if (ip_lookup_ok(a)) {
      known_ip = a;
      break;
    }
  }
  std::string unknown_id;
  for (long v = 99999999; v > 99999000; --v) {
    if (!ids.count(std::to_string(v))) {
      unknown_id = std::to_string(v);
      break;
    }
  }
  std::string unknown_ip;
  for (const char* candidate : {"192.0.2.1", "198.51.100.1", "203.0.113.1"}) {
    bool covered = false;
    for (const auto& a : agents) covered = covered || rules::network_contains(a.ip, candidate);
    if (!covered) {
      unknown_ip = candidate;
      break;
    }
  }

  const std::chrono::milliseconds timeout = o.timeout;
  auto known_expect = [](const fixtures::DatasetAgent& a) {
    Expectation e;
    e.kind = Kind::known_agent;
    e.agent = a;
    return e;
  };
  Expectation unknown_expect;
  unknown_expect.kind = Kind::unknown_agent;

  // One well-formed request sent the resolver's way and judged; its MUST
  // rules are remembered so concurrent calls can be compared with it.
  auto lookup = [&target, timeout](const Request& request, const Expectation& expect) {
    return ProbeSpec{{}, {}, {}, [&target, timeout, request, expect](ProbeResult& r) {
                       const Exchange ex = target.request(request);
                       target.note_well_formed(ex);
                       if (ex.transport == Transport::socket) target.note_split_reply(ex);
                       auto findings = judge(ex, request, expect, timeout);
                       target.note_serial(request, findings);
                       add(r, ex, std::move(findings));
                     }};
  };
  auto named = [](ProbeSpec spec, std::string id, std::string group, std::string title) {
    spec.id = std::move(id);
    spec.group = std::move(group);
    spec.title = std::move(title);
    return spec;
  };
  const Request known_id_request{RequestKind::id, known.id};

  // --- smoke; over socket, right after the first request, whether the
  // provider waits for a half-close (then every request would time out)
  {
    std::vector<ProbeSpec> smoke;
    smoke.push_back(named(lookup(known_id_request, known_expect(known)), "smoke.known-id", "smoke",
                          "known id " + known.id + " gets exactly its dataset record"));
    runner.run(std::move(smoke), 1, cert.probes);
    std::optional<Exchange> first;
    if (!cert.probes.back().evidence.empty()) first = cert.probes.back().evidence.front();
    if (!exec) {
      std::vector<ProbeSpec> half;
      half.push_back(
          {"socket.no-half-close", "socket",
           "answers while the client keeps its side open (the resolver never half-closes)",
           [&target, first, known_id_request](ProbeResult& r) {
             if (!first) {
               r.skip_reason = "not run: smoke.known-id made no call";
               return;
             }
             const Exchange& plain = *first;
             if (!plain.started) {
               r.notes.push_back("smoke.known-id could not reach the daemon: nothing to tell");
               return;
             }
             if (!plain.timed_out || !plain.output.empty()) {
               r.notes.push_back("smoke.known-id got its reply without a half-close (" + plain.outcome() + ")");
               return;
             }
             SocketScript closing;
             closing.pieces = {known_id_request.wire()};
             closing.half_close = true;
             const Exchange half = target.run_socket(closing, false);
             r.evidence.push_back(plain);
             r.evidence.push_back(half);
             if (half.started && !half.timed_out && !half.output.empty()) {
               r.findings.push_back(
                   {"HALFCLOSE", Level::must,
                    "answers only after the client half-closes (shutdown SHUT_WR): it reads until EOF, but the "
                    "resolver writes " +
                        q(known_id_request.wire()) + " and keeps the connection open, so every request times out"});
             } else {
               r.notes.push_back("no answer with a half-close either: the provider is just not answering");
             }
           }});
      runner.run(std::move(half), 1, cert.probes);
    }
  }
  {
    std::vector<ProbeSpec> smoke;
    if (known_ip) {
      smoke.push_back(named(lookup(Request{RequestKind::ip, known_ip->ip}, known_expect(*known_ip)),
                            "smoke.known-ip", "smoke", "known address " + known_ip->ip + " gets its dataset record"));
    }
    if (!unknown_id.empty()) {
      smoke.push_back(named(lookup(Request{RequestKind::id, unknown_id}, unknown_expect), "smoke.unknown-id", "smoke",
                            "id " + unknown_id + ", not in the dataset, is declined with a message"));
    }
    if (!unknown_ip.empty()) {
      smoke.push_back(named(lookup(Request{RequestKind::ip, unknown_ip}, unknown_expect), "smoke.unknown-ip",
                            "smoke", "address " + unknown_ip + ", not in the dataset, is declined with a message"));
    }
    runner.run(std::move(smoke), 1, cert.probes);
  }

  // --- socket: the resolver's start-up health check, an empty connection
  if (!exec) {
    std::vector<ProbeSpec> health;
    health.push_back(
        {"socket.health-check", "socket",
         "an empty connection (connect, close, nothing sent) is accepted and the daemon keeps answering",
         [&target, known_id_request](ProbeResult& r) {
           const Exchange before = target.request(known_id_request, false);
           SocketScript empty;
           empty.read_reply = false;
           for (int i = 0; i < 2; ++i) {
             const Exchange touch = target.run_socket(empty, false);
             if (i == 0) r.evidence.push_back(touch);
             if (!touch.started) {
               r.findings.push_back({"HEALTH", Level::must,
                                     "the empty health-check connection was refused: " + touch.start_error});
               return;
             }
           }
           const Exchange after = target.request(known_id_request);
           r.evidence.push_back(after);
           if (before.output.empty()) {
             r.notes.push_back("the daemon did not answer " + q(known_id_request.wire()) +
                               " before the empty connections either: nothing to compare");
           } else if (after.output.empty()) {
             r.findings.push_back({"HEALTH", Level::must,
                                   "the daemon answered " + q(known_id_request.wire()) +
                                       " before two empty connections, not after them (" + after.outcome() +
                                       "): the resolver makes one at start-up"});
           }
         }});
    runner.run(std::move(health), 1, cert.probes);
  }

  // --- dataset sample and adversarial requests, on the worker pool
  std::vector<ProbeSpec> pooled;
  const auto sample = spread(agents.size(), o.sample);
  for (std::size_t i : sample) {
    const auto& a = agents[i];
    if (i != 0) {
      pooled.push_back(named(lookup(Request{RequestKind::id, a.id}, known_expect(a)), "dataset.id." + a.id, "dataset",
                             "id " + a.id + " (agent " + std::to_string(i + 1) + " of " +
                                 std::to_string(agents.size()) + ") gets exactly its dataset record"));
    }
    if (ip_lookup_ok(a) && (!known_ip || a.ip != known_ip->ip)) {
      pooled.push_back(named(lookup(Request{RequestKind::ip, a.ip}, known_expect(a)), "dataset.ip." + a.ip, "dataset",
                             "address " + a.ip + " gets exactly the record of agent " + a.id));
    }
  }
  for (const auto& payload : adversarial_payloads(known.id, known_ip ? known_ip->ip : "10.0.0.1", scratch.path())) {
    if (exec ? !payload.exec_args : !payload.socket_bytes) continue;
    const fixtures::DatasetAgent* tolerated_agent = nullptr;
    if (payload.tolerated_as) tolerated_agent = payload.tolerated_as->first == "ip" && known_ip ? &*known_ip : &known;
    pooled.push_back(
        {"adversarial." + payload.kind + "." + payload.name, "adversarial",
         payload.category + ": " + payload.title + (payload.tolerated_as ? "" : " - declined"),
         [&target, payload, timeout, tolerated_agent](ProbeResult& r) {
           Exchange ex;
           if (target.exec()) {
             ex = target.run_exec(*payload.exec_args);
           } else {
             SocketScript script;
             script.pieces = {*payload.socket_bytes};
             ex = target.run_socket(script);
           }
           std::vector<Finding> findings;
           if (payload.tolerated_as && tolerated_agent && answers_success(ex)) {
             // Read as the well-formed request SPEC §2 lets it stand for: it must then be exact.
             const Request as = as_request(payload.tolerated_as->first, payload.tolerated_as->second);
             r.notes.push_back("answered as " + q(as.wire()) + " (one trailing newline is tolerated, SPEC §2)");
             Expectation expect;
             expect.kind = Kind::known_agent;
             expect.agent = *tolerated_agent;
             findings = judge(ex, as, expect, timeout);
           } else {
             Expectation expect;
             expect.kind = Kind::malformed;
             expect.sql_payload = payload.sql;
             findings = judge(ex, as_request(payload.judge_kind, payload.judge_value), expect, timeout);
           }
           if (!payload.canary.empty() && ::access(payload.canary.c_str(), F_OK) == 0) {
             findings.insert(findings.begin(),
                             {"SHELL", Level::must,
                              "shell injection: the payload ran as a command (it created " + q(payload.canary) +
                                  "); never hand the request to a shell (system, popen, backticks)"});
           }
           add(r, ex, std::move(findings));
         }});
  }
  runner.run(std::move(pooled), cert.parallel, cert.probes);

  // --- N calls at once give the same answers as one at a time
  {
    std::vector<ProbeSpec> parallel;
    parallel.push_back(
        {"parallel.consistent", "parallel",
         std::to_string(cert.parallel) + " concurrent callers, 3 calls each, get the same records as serial calls",
         [&](ProbeResult& r) {
           const unsigned n = cert.parallel;
           constexpr unsigned kRounds = 3;
           std::vector<std::size_t> pool = sample.empty() ? std::vector<std::size_t>{0} : sample;
           struct Call {
             Request request;
             Expectation expect;
             Exchange ex;
             std::vector<Finding> findings;
           };
           std::vector<Call> calls(n * kRounds);
           for (unsigned t = 0; t < n; ++t) {
             for (unsigned k = 0; k < kRounds; ++k) {
               const auto& a = agents[pool[(t * kRounds + k) % pool.size()]];
               const bool by_ip = (t + k) % 2 == 1 && ip_lookup_ok(a);
               calls[t * kRounds + k].request = by_ip ? Request{RequestKind::ip, a.ip} : Request{RequestKind::id, a.id};
               calls[t * kRounds + k].expect = known_expect(a);
             }
           }
           std::latch go(n);
           const auto start = Clock::now();
           std::vector<std::thread> threads;
           for (unsigned t = 0; t < n; ++t) {
             threads.emplace_back([&, t] {
               go.arrive_and_wait();
               for (unsigned k = 0; k < kRounds; ++k) {
                 Call& c = calls[t * kRounds + k];
                 if (target.stopped()) {
                   c.ex.skipped = true;
                   continue;
                 }
                 c.ex = target.request(c.request);
                 target.note_well_formed(c.ex);
                 c.findings = judge(c.ex, c.request, c.expect, timeout);
               }
             });
           }
           for (auto& t : threads) t.join();
           std::size_t made = 0, wrong = 0, wrong_serially = 0;
           std::string first;
           for (auto& c : calls) {
             if (c.ex.skipped) continue;
             ++made;
             const std::string now = must_rules(c.findings);
             const std::string serial = target.serial_rules(c.request).value_or("");
             if (now == serial) {
               if (!now.empty()) ++wrong_serially;
               continue;
             }
             ++wrong;
             if (first.empty()) {
               first = q(c.request.wire()) + " broke [" + now + "] (serially: [" + serial + "])";
               for (const auto& f : c.findings) {
                 if (f.level == Level::must && serial.find(f.rule) == std::string::npos) {
                   first += ": " + f.message;
                   break;
                 }
               }
             }
             if (r.evidence.size() < 3) r.evidence.push_back(c.ex);
           }
           r.notes.push_back(std::to_string(made) + " calls, " + std::to_string(n) + " at a time, in " +
                             std::to_string(static_cast<long>(ms_of(Clock::now() - start))) + " ms");
           if (wrong_serially > 0) {
             r.notes.push_back(std::to_string(wrong_serially) +
                               " answers were wrong the same way as the serial ones (reported there)");
           }
           if (wrong > 0) {
             r.findings.push_back({"PARALLEL", Level::must,
                                   std::to_string(wrong) + " of " + std::to_string(made) + " answers under " +
                                       std::to_string(n) + " concurrent calls differ from the serial answers; first: " +
                                       first});
           }
         }});
    runner.run(std::move(parallel), 1, cert.probes);
  }

  // --- transport-specific probes
  std::vector<ProbeSpec> transport_probes;
  if (exec) {
    transport_probes.push_back(
        {"exec.stderr", "exec", "stdout carries the JSON answer only; diagnostics, if any, go to stderr",
         [&](ProbeResult& r) {
           r.notes.push_back(std::to_string(target.stderr_calls()) +
                             " answers to well-formed requests came with output on stderr");
           std::string statuses;
           for (const auto& [code, count] : target.exit_codes()) {
             statuses += (statuses.empty() ? "" : ", ") + std::to_string(code) + " x" + std::to_string(count);
           }
           if (!statuses.empty()) r.notes.push_back("exit statuses of well-formed requests: " + statuses);
           if (target.stderr_calls() > 0 && target.stderr_example()) {
             const Exchange& ex = *target.stderr_example();
             r.evidence.push_back(ex);
             r.findings.push_back(
                 {"STDERR", Level::should,
                  std::to_string(target.stderr_calls()) +
                      " answers to well-formed requests came with text on stderr (e.g. " +
                      q(ex.stderr_bytes.substr(0, 120)) +
                      "): keyreq keeps stderr apart, but upstream's resolver merges stderr into stdout, where "
                      "it corrupts the JSON"});
           }
         }});
  } else {
    transport_probes.push_back(
        {"socket.request-in-pieces", "socket",
         "a request written in 3 pieces, 20 ms apart, is still answered correctly", [&](ProbeResult& r) {
           SocketScript script;
           script.pieces = {"i", "d:", known.id};
           script.pause_between = std::chrono::milliseconds(20);
           const Exchange ex = target.run_socket(script, false);
           r.evidence.push_back(ex);
           const Exchange whole = target.request(known_id_request, false);
           const std::string whole_rules = must_rules(judge(whole, known_id_request, known_expect(known), timeout));
           if (!whole_rules.empty()) {
             r.notes.push_back("the request written at once is already answered wrongly ([" + whole_rules +
                               "]): nothing to compare");
             return;
           }
           for (const auto& f : judge(ex, known_id_request, known_expect(known), timeout)) {
             if (f.level != Level::must) continue;
             r.findings.push_back({"PIECES", Level::should,
                                   "the request " + q(known_id_request.wire()) +
                                       " written in pieces was not answered correctly ([" + f.rule + "] " + f.message +
                                       "), written at once it is: the resolver writes a request at once, but a "
                                       "stream socket may deliver it in pieces; read until the request is complete"});
             break;
           }
         }});
    transport_probes.push_back(
        {"socket.concurrent-connections", "socket",
         std::to_string(std::max(2u, cert.parallel)) +
             " connections open at once, each request written before any reply is read, all answered",
         [&](ProbeResult& r) {
           const unsigned n = std::max(2u, cert.parallel);
           std::vector<const fixtures::DatasetAgent*> asked;
           std::vector<std::string> wires;
           for (unsigned i = 0; i < n; ++i) {
             const auto& a = agents[sample[i % sample.size()]];
             asked.push_back(&a);
             wires.push_back("id:" + a.id);
           }
           const auto runs = concurrent_exchanges(o.socket_path, wires, timeout);
           std::size_t wrong = 0;
           std::string first;
           for (std::size_t i = 0; i < runs.size(); ++i) {
             Exchange ex;
             ex.transport = Transport::socket;
             ex.pieces = {wires[i]};
             ex.started = runs[i].connected;
             ex.start_error = runs[i].connect_error;
             ex.output = runs[i].reply;
             ex.output_total = runs[i].reply.size();
             ex.eof = runs[i].eof;
             ex.reset = runs[i].reset;
             ex.timed_out = runs[i].timed_out;
             ex.too_large = runs[i].too_large;
             ex.reply_pieces = runs[i].pieces.size();
             ex.elapsed = runs[i].elapsed;
             const Request request{RequestKind::id, asked[i]->id};
             const auto findings = judge(ex, request, known_expect(*asked[i]), timeout);
             const std::string now = must_rules(findings);
             const std::string serial = target.serial_rules(request).value_or("");
             if (now == serial) continue;
             ++wrong;
             if (first.empty()) {
               first = q(wires[i]) + " broke [" + now + "] (serially: [" + serial + "])";
               for (const auto& f : findings) {
                 if (f.level == Level::must && serial.find(f.rule) == std::string::npos) {
                   first += ": " + f.message;
                   break;
                 }
               }
             }
             if (r.evidence.size() < 3) r.evidence.push_back(ex);
           }
           if (wrong > 0) {
             r.findings.push_back({"CONCURRENT", Level::must,
                                   std::to_string(wrong) + " of " + std::to_string(n) +
                                       " requests on connections open at once were answered differently from "
                                       "serial requests; first: " +
                                       first});
           }
         }});
    transport_probes.push_back(
        {"socket.reply-in-one-write", "socket",
         "each reply arrives in one piece (upstream's resolver reads once)", [&](ProbeResult& r) {
           const Exchange ex = target.request(known_id_request);
           target.note_split_reply(ex);
           r.evidence.push_back(ex);
           r.notes.push_back(std::to_string(target.split_replies()) + " of " + std::to_string(target.socket_replies()) +
                             " replies to well-formed requests arrived in more than one piece");
           if (target.split_replies() > 0 && target.split_example()) {
             const Exchange& split = *target.split_example();
             if (ex.reply_pieces <= 1) r.evidence.push_back(split);
             r.findings.push_back(
                 {"SPLIT", Level::should,
                  std::to_string(target.split_replies()) + " replies arrived in several pieces (e.g. " +
                      std::to_string(split.reply_pieces) + " pieces over " +
                      std::to_string(static_cast<long>(ms_of(split.reply_span))) +
                      " ms): keyreq reads until the document is complete, but upstream's resolver does a single "
                      "recv and would truncate the answer; write each reply at once"});
           }
         }});
  }
  runner.run(std::move(transport_probes), 1, cert.probes);

  if (!exec) {
    // Last: the daemon is still there (a crash in any probe shows here). Not
    // subject to the breaker: one connection attempt.
    ProbeResult r;
    r.id = "socket.still-serving";
    r.group = "socket";
    r.title = "the daemon still accepts connections at the end of the run";
    const auto start = Clock::now();
    const std::string error = socket_touch(o.socket_path, std::min(timeout, std::chrono::milliseconds(2000)));
    if (!error.empty()) {
      r.findings.push_back({"DAEMON", Level::must,
                            "the daemon stopped accepting connections during certification (" + error +
                                "): it crashed or exited on one of the requests"});
    }
    r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    if (o.progress) o.progress(r);
    cert.probes.push_back(std::move(r));
  }

  cert.timing = target.timing();
  cert.seconds = std::chrono::duration<double>(Clock::now() - run_start).count();
  return cert;
}

}  // namespace keyreq::certify
