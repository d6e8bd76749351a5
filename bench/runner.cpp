// The run: fixtures up, every series measured with floors and resolver
// interleaved inside each repetition, global phases (null provider, memory,
// keystore, microbenchmarks), figures and targets, reports out.
#include <sqlite3.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <boost/version.hpp>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <simdjson.h>
#include <thread>

#include "bench/bench.hpp"
#include "bench/fixture.hpp"
#include "bench/gate.hpp"
#include "bench/loadgen.hpp"
#include "bench/micro.hpp"
#include "bench/probes.hpp"
#include "bench/report.hpp"
#include "bench/stats.hpp"
#include "bench/targets.hpp"
#include "fixtures/dataset/dataset.hpp"
#include "resolver/command_line.hpp"
#include "resolver/exec_client.hpp"
#include "resolver/keystore.hpp"
#include "resolver/socket_client.hpp"

#ifndef KEYREQ_SOURCE_DIR
#define KEYREQ_SOURCE_DIR "."
#endif

namespace keyreq::bench {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

const Profile* find_profile(const std::string& name) {
  static const std::vector<Profile> profiles = [] {
    std::vector<Profile> v;
    Profile quick;
    quick.name = "quick";
    quick.default_providers = {"all"};
    v.push_back(quick);

    Profile ci;
    ci.name = "ci";
    ci.repetitions = 5;  // the U test needs repetitions
    ci.warmup = 60ms;
    ci.duration = 250ms;
    ci.sweep = {1, 4};
    ci.open_fractions = {0.5};
    ci.script_repetitions = 2;
    ci.script_duration = 300ms;
    ci.script_sweep = {1};
    ci.script_open_fractions = {};
    ci.keystore_duration = 500ms;
    ci.null_requests = 100'000;
    ci.null_duration = 300ms;
    ci.micro_repetitions = 5;
    ci.micro_min_time = 0.03;
    v.push_back(ci);

    Profile full;
    full.name = "full";
    full.repetitions = 7;
    full.warmup = 300ms;
    full.duration = 2000ms;
    full.min_requests = 20;
    full.open_fractions = {0.25, 0.5, 0.75, 0.9};
    full.script_repetitions = 3;
    full.script_duration = 2000ms;
    full.script_sweep = {1, 2, 4, 8};
    full.script_open_fractions = {0.5, 0.9};
    full.keystore_duration = 3000ms;
    full.null_requests = 1'000'000;
    full.null_duration = 2000ms;
    full.micro_repetitions = 9;
    full.micro_min_time = 0.2;
    full.default_providers = {"all"};
    v.push_back(full);

    // Seconds, for the gate's own end-to-end test; not a measurement to read.
    Profile smoke;
    smoke.name = "smoke";
    smoke.repetitions = 5;
    smoke.warmup = 30ms;
    smoke.duration = 120ms;
    smoke.sweep = {1, 4};
    smoke.open_fractions = {};
    smoke.keys100k_variant = false;
    smoke.keystore_agents = 1000;
    smoke.keystore_duration = 100ms;
    smoke.null_requests = 20'000;
    smoke.null_duration = 100ms;
    smoke.micro_repetitions = 0;
    v.push_back(smoke);
    return v;
  }();
  for (const auto& p : profiles)
    if (p.name == name) return &p;
  return nullptr;
}

namespace {

std::string fmt(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

std::string capture(const std::string& command) {
  std::string out;
  if (FILE* p = ::popen(command.c_str(), "r")) {
    char buf[256];
    while (std::fgets(buf, sizeof buf, p)) out += buf;
    ::pclose(p);
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

std::string read_first(const std::string& file, const std::string& key) {
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(key, 0) == 0) {
      const auto colon = line.find(':');
      std::string v = colon == std::string::npos ? line : line.substr(colon + 1);
      v.erase(0, v.find_first_not_of(" \t"));
      return v;
    }
  return "";
}

std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

std::string iso_now() {
  const std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

Percentiles to_percentiles(const Histogram& h) { return percentiles_of(h); }

// Writes a client.keys holding `n` agents that the dataset does not serve
// (indexes from `first`), in the file's own line format.
void write_keys_file(const fs::path& path, std::size_t first, std::size_t n) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  for (std::size_t i = first; i < first + n; ++i) {
    const auto a = fixtures::dataset_agent(i);
    out << a.id << ' ' << a.name << ' ' << a.ip << ' ' << a.key << '\n';
  }
}

class Progress {
 public:
  explicit Progress(bool on) : on_(on) {}
  void show(const std::string& what) {
    if (!on_) return;
    const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    std::fprintf(stderr, "\r\033[K[%5.1fs] %s", t, what.c_str());
    std::fflush(stderr);
  }
  void done() {
    if (on_) std::fprintf(stderr, "\r\033[K");
  }
  bool on() const { return on_; }

 private:
  bool on_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

class Runner {
 public:
  Runner(const BenchOptions& o, const Profile& p) : o_(o), p_(p), progress_(o.progress < 0 ? ::isatty(2) : o.progress) {}

  int run();

 private:
  enum class CpuFrom { none, children, group };

  // The id of the series (created when new). Ids, not references: the vector grows.
  std::string series(const std::string& provider, const std::string& transport, const std::string& path,
                     const std::string& mode, int concurrency, double fraction = 0, const std::string& variant = "");
  Repetition measure(const std::string& id, const ProbeFactory& factory, LoadSpec spec, CpuFrom cpu, pid_t group = 0);
  using LoadRunner = std::function<LoadResult(const LoadSpec&)>;
  Repetition measure_with(const std::string& id, const LoadRunner& run, LoadSpec spec, CpuFrom cpu, pid_t group);
  // The resolver path: through the dispatcher (default) or Resolver instances
  // driven directly by the load generator's threads (--direct).
  Repetition measure_resolver(const std::string& id, ProviderClient& client, KeyStore* keys, const LoadSpec& spec,
                              CpuFrom cpu, pid_t group);
  void run_provider(const ProviderSpec& p);
  void run_null_and_memory();
  void run_keystore();
  void derive_figures();
  void note(const std::string& text) {
    report_.notes.push_back(text);
    if (progress_.on()) progress_.done();
    std::cerr << "keyreq bench: " << text << "\n";
  }
  std::unique_ptr<KeyStore> fresh_keys(const std::string& tag, const fs::path* seed = nullptr);
  // Gated or not, and with which tolerance, is decided in one place: gate_tolerance().
  void add_figure(const std::string& id, const std::string& description, const std::string& better,
                  std::vector<double> values);

  const BenchOptions& o_;
  const Profile& p_;
  Progress progress_;
  Report report_;
  std::unique_ptr<WorkDir> workdir_;
  std::string db_;
  Workload workload_;
  std::uint64_t cursor_ = 0;  // where the next run starts in the request stream
  std::map<std::string, std::size_t> index_;
  std::size_t keys_serial_ = 0;
  fs::path keys100k_;
  CallLimits limits_;
};

std::string Runner::series(const std::string& provider, const std::string& transport, const std::string& path,
                           const std::string& mode, int concurrency, double fraction, const std::string& variant) {
  std::string id = provider + "/" + transport + "/" + path + "/";
  id += mode == "open" ? "open" + std::to_string(static_cast<int>(std::lround(fraction * 100)))
                       : "c" + std::to_string(concurrency);
  if (!variant.empty()) id += "/" + variant;
  if (index_.count(id)) return id;
  Series s;
  s.id = id;
  s.provider = provider;
  s.transport = transport;
  s.path = path;
  s.mode = mode;
  s.concurrency = concurrency;
  s.rate_fraction = fraction;
  s.variant = variant;
  index_[id] = report_.series.size();
  report_.series.push_back(std::move(s));
  return id;
}

Repetition Runner::measure(const std::string& id, const ProbeFactory& factory, LoadSpec spec, CpuFrom cpu,
                           pid_t group) {
  return measure_with(id, [&](const LoadSpec& s) { return run_load(s, factory, workload_); }, std::move(spec), cpu,
                      group);
}

Repetition Runner::measure_resolver(const std::string& id, ProviderClient& client, KeyStore* keys,
                                    const LoadSpec& spec, CpuFrom cpu, pid_t group) {
  if (o_.direct) {
    return measure(id, [&client, keys] { return make_resolver_probe(client, keys); }, spec, cpu, group);
  }
  DispatcherOptions options;
  options.threads = static_cast<unsigned>(std::max(1, spec.concurrency));
  // Open loop: the queue must hold a burst (the requester's datagrams pile up
  // while workers are busy); a full queue is counted as an error.
  options.queue_size = spec.rate > 0 ? 1 << 16 : 1024;
  Dispatcher dispatcher(client, keys, options);
  Repetition rep =
      spec.rate > 0
          ? measure_with(id, [&](const LoadSpec& s) { return run_open_async(s, dispatcher_submit(dispatcher), workload_); },
                         spec, cpu, group)
          : measure(id, [&dispatcher] { return make_dispatcher_probe(dispatcher); }, spec, cpu, group);
  dispatcher.stop(std::chrono::steady_clock::now() + 30s);
  return rep;
}

Repetition Runner::measure_with(const std::string& id, const LoadRunner& run, LoadSpec spec, CpuFrom cpu,
                                pid_t group) {
  progress_.show(id + (spec.rate > 0 ? " at " + fmt("%.0f", spec.rate) + "/s" : "") + "  rep " +
                 std::to_string(report_.series[index_.at(id)].reps.size() + 1));
  double self0 = 0, self1 = 0, prov0 = 0, prov1 = 0;
  auto provider_cpu = [&] {
    switch (cpu) {
      case CpuFrom::children: return cpu_children_s();
      case CpuFrom::group: return cpu_process_group_s(group);
      case CpuFrom::none: break;
    }
    return 0.0;
  };
  spec.first_item = cursor_;
  spec.on_window_open = [&] {
    self0 = cpu_self_s();
    prov0 = provider_cpu();
  };
  spec.on_window_close = [&] {
    self1 = cpu_self_s();
    prov1 = provider_cpu();
  };
  LoadResult r = run(spec);
  // Next run starts where this one's requests stopped, so floor and resolver
  // of one pair see different but equally distributed requests.
  cursor_ += r.requests + 1000;
  if (!r.setup_error.empty()) throw std::runtime_error(id + ": " + r.setup_error);
  Series& s = report_.series[index_.at(id)];
  Repetition rep;
  rep.requests = r.requests;
  rep.errors = r.errors;
  rep.wall_s = r.wall_s;
  rep.throughput = r.throughput;
  rep.latency = to_percentiles(r.latency);
  rep.service = to_percentiles(r.service);
  if (r.requests > 0) {
    rep.cpu_self_us = (self1 - self0) * 1e6 / static_cast<double>(r.requests);
    rep.cpu_provider_us = (prov1 - prov0) * 1e6 / static_cast<double>(r.requests);
  }
  for (auto& [name, n] : r.outcomes) rep.outcomes[name] += n;
  rep.first_error = r.first_error;
  if (spec.rate > 0) s.target_rate = spec.rate;  // last one; the fractions are what compare across runs
  s.histogram.merge(r.latency);
  s.reps.push_back(rep);
  if (r.errors > 0 && s.reps.size() == 1) {
    note(s.id + ": " + std::to_string(r.errors) + " of " + std::to_string(r.requests) +
         " requests did not get the expected outcome; first: " + r.first_error);
  }
  return rep;
}

std::unique_ptr<KeyStore> Runner::fresh_keys(const std::string& tag, const fs::path* seed) {
  if (o_.validate_only && seed == nullptr) return nullptr;
  fs::create_directories(workdir_->path() / "keys");
  std::string name = tag;
  std::replace(name.begin(), name.end(), '/', '_');
  const fs::path file = workdir_->path() / "keys" / (name + "-" + std::to_string(++keys_serial_) + ".keys");
  if (seed != nullptr) fs::copy_file(*seed, file, fs::copy_options::overwrite_existing);
  auto opened = KeyStore::open(file);
  if (auto* e = std::get_if<KeyStoreError>(&opened)) throw std::runtime_error("client.keys: " + e->message());
  return std::get<std::unique_ptr<KeyStore>>(std::move(opened));
}

void Runner::run_provider(const ProviderSpec& p) {
  const bool script = p.name != "reference";
  const int reps = o_.repetitions > 0 ? o_.repetitions : (script ? p_.script_repetitions : p_.repetitions);
  const auto duration = o_.duration_ms > 0 ? std::chrono::milliseconds(o_.duration_ms)
                                           : (script ? p_.script_duration : p_.duration);
  const std::vector<int> sweep = !o_.sweep.empty() ? o_.sweep : (script ? p_.script_sweep : p_.sweep);
  const auto& fractions = script ? p_.script_open_fractions : p_.open_fractions;

  std::string error;
  progress_.show(p.name + ": starting the socket daemon");
  auto daemon = Daemon::start(p.daemon_command, p.socket_path,
                              (workdir_->path() / (p.name + "-daemon.log")).string(), 15s, error);
  if (!daemon) note(p.name + ": socket transport not measured: " + error);

  ExecClient exec_client(p.exec_command, limits_);
  SocketClient socket_client(p.socket_path, limits_);
  std::unique_ptr<DelayedProvider> exec_delayed, socket_delayed;
  ProviderClient* exec_target = &exec_client;
  ProviderClient* socket_target = &socket_client;
  if (o_.inject_delay_us > 0) {
    exec_delayed = std::make_unique<DelayedProvider>(exec_client, std::chrono::microseconds(o_.inject_delay_us));
    socket_delayed = std::make_unique<DelayedProvider>(socket_client, std::chrono::microseconds(o_.inject_delay_us));
    exec_target = exec_delayed.get();
    socket_target = socket_delayed.get();
  }

  LoadSpec base;
  base.warmup = p_.warmup;
  base.duration = duration;
  base.min_requests = p_.min_requests;

  struct Leg {
    std::string transport;
    ProviderClient* client;
    CpuFrom cpu;
    pid_t group;
  };
  std::vector<Leg> legs{{"exec", exec_target, CpuFrom::children, 0}};
  if (daemon) legs.push_back({"socket", socket_target, CpuFrom::group, daemon->pid()});

  for (int rep = 0; rep < reps; ++rep) {
    for (int c : sweep) {
      for (const Leg& leg : legs) {
        LoadSpec spec = base;
        spec.concurrency = c;
        const std::string floor_id = series(p.name, leg.transport, "floor", "closed", c);
        const std::string resolver_id = series(p.name, leg.transport, "resolver", "closed", c);
        auto run_floor = [&] {
          ProbeFactory f = leg.transport == "exec"
                               ? ProbeFactory([&] { return make_exec_floor_probe(p.exec_command); })
                               : ProbeFactory([&] { return make_socket_floor_probe(p.socket_path); });
          measure(floor_id, f, spec, leg.cpu, leg.group);
        };
        auto run_resolver = [&](const std::string& id, const fs::path* seed) {
          auto keys = fresh_keys(id, seed);
          measure_resolver(id, *leg.client, keys.get(), spec, leg.cpu, leg.group);
        };
        // ABBA order across repetitions: drift on a shared machine hits both sides alike.
        if (rep % 2 == 0) {
          run_floor();
          run_resolver(resolver_id, nullptr);
        } else {
          run_resolver(resolver_id, nullptr);
          run_floor();
        }
        // Without registration (the floors register nothing): the resolver's
        // own cost, apart from the fsync of client.keys.
        if (!script && !o_.validate_only && (c == 1 || c == sweep.back())) {
          const std::string id = series(p.name, leg.transport, "resolver", "closed", c, 0, "validate");
          measure_resolver(id, *leg.client, nullptr, spec, leg.cpu, leg.group);
        }
        // exec with the resolver's memory grown by a client.keys of 100k
        // agents (held, not written: validate only, so fsync jitter stays out
        // of the comparison with the validate run above).
        if (leg.transport == "exec" && c == 1 && !script && p_.keys100k_variant && !keys100k_.empty()) {
          const std::string id = series(p.name, "exec", "resolver", "closed", 1, 0, "keys100k");
          auto held = fresh_keys(id, &keys100k_);
          measure_resolver(id, *leg.client, nullptr, spec, leg.cpu, leg.group);
        }
      }
    }
  }

  // Open loop at fractions of the best closed-loop resolver throughput, with
  // as many workers as gave that best throughput.
  for (const Leg& leg : legs) {
    if (fractions.empty()) break;
    double best = 0;
    int best_c = 1;
    for (int c : sweep) {
      const Series& s = report_.series[index_.at(series(p.name, leg.transport, "resolver", "closed", c))];
      std::vector<double> t;
      for (const auto& r : s.reps) t.push_back(r.throughput);
      const double m = median(t);
      if (m > best) best = m, best_c = c;
    }
    if (best <= 0) continue;
    for (int rep = 0; rep < reps; ++rep) {
      for (double f : fractions) {
        LoadSpec spec = base;
        spec.concurrency = std::max(best_c, 2);
        spec.rate = best * f;
        spec.min_requests = 0;
        const std::string id = series(p.name, leg.transport, "resolver", "open", spec.concurrency, f);
        auto keys = fresh_keys(id);
        measure_resolver(id, *leg.client, keys.get(), spec, leg.cpu, leg.group);
      }
    }
  }
  progress_.show(p.name + ": stopping the socket daemon");
}

void Runner::run_null_and_memory() {
  // The load generator alone (a probe that does nothing), then the resolver
  // alone (null provider: canned answers, validate only).
  NullProvider null_provider(o_.agents);
  for (int c : {1, 2}) {
    for (int rep = 0; rep < std::max(1, p_.repetitions); ++rep) {
      LoadSpec spec;
      spec.concurrency = c;
      spec.warmup = 50ms;
      spec.duration = p_.null_duration;
      measure(series("null", "none", "loadgen", "closed", c), [] { return make_null_probe(); }, spec, CpuFrom::none);
      measure(series("null", "none", "resolver", "closed", c),
              [&] { return make_resolver_probe(null_provider, nullptr); }, spec, CpuFrom::none);
    }
  }

  // Memory: what loading keystore_agents agents adds to this process, and
  // whether RSS stays flat while many requests go through a resolver.
  progress_.show("memory: loading " + std::to_string(p_.keystore_agents) + " agents");
  const double mib = 1024.0 * 1024.0;
  const std::size_t before = rss_bytes();
  {
    auto keys = fresh_keys("memory", &keys100k_);
    const std::size_t loaded = rss_bytes();
    report_.measurements["memory.keystore_agents"] = static_cast<double>(keys->active_count());
    report_.measurements["memory.keystore_rss_mib"] = static_cast<double>(loaded - std::min(loaded, before)) / mib;
    LoadSpec spec;
    spec.concurrency = 1;
    spec.warmup = 0ms;
    spec.duration = 3600s;
    spec.max_requests = p_.null_requests / 10;
    auto probe_factory = [&] { return make_resolver_probe(null_provider, nullptr); };
    run_load(spec, probe_factory, workload_);
    const std::size_t after_tenth = rss_bytes();
    spec.max_requests = p_.null_requests;
    progress_.show("memory: " + std::to_string(p_.null_requests) + " requests through the resolver");
    run_load(spec, probe_factory, workload_);
    const std::size_t after_all = rss_bytes();
    report_.measurements["memory.requests"] = static_cast<double>(p_.null_requests);
    report_.measurements["memory.rss_growth_mib"] =
        (static_cast<double>(after_all) - static_cast<double>(after_tenth)) / mib;
    report_.measurements["memory.process_rss_mib"] = static_cast<double>(after_all) / mib;
  }
}

void Runner::run_keystore() {
  // Durable registration: agents not yet in a client.keys that already holds
  // keystore_agents entries, registered from 1 and 8 threads with the
  // synchronous call (each caller waits for the fdatasync of its batch;
  // concurrent callers share it), then through register_agent_async with
  // kAsyncInFlight registrations in flight (what the dispatcher does). Only
  // registrations reported `registered` (durable) are counted; the async
  // figure's time runs until the last one is durable.
  const std::size_t first = o_.agents + 2000 + p_.keystore_agents;
  for (int threads : {1, 8}) {
    progress_.show("keystore: durable registrations from " + std::to_string(threads) + " threads");
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
    progress_.show("keystore: durable registrations, asynchronous, " + std::to_string(kAsyncInFlight) + " in flight");
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
        if (r.status == RegisterStatus::registered) ++ok;
        else ++failed;
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

void Runner::add_figure(const std::string& id, const std::string& description, const std::string& better,
                        std::vector<double> values) {
  const double tolerance = gate_tolerance(id);
  const bool gated = tolerance > 0;
  values.erase(std::remove_if(values.begin(), values.end(), [](double v) { return !std::isfinite(v) || v <= 0; }),
               values.end());
  if (values.empty()) return;
  report_.figures.push_back(Figure{id, description, better, gated, tolerance, std::move(values)});
}

void Runner::derive_figures() {
  auto find = [&](const std::string& id) -> const Series* {
    auto it = index_.find(id);
    return it == index_.end() ? nullptr : &report_.series[it->second];
  };
  // Per-repetition ratio of two series' figures (same repetition index: measured side by side).
  auto per_rep = [](const Series* a, const Series* b, auto get) {
    std::vector<double> v;
    if (!a || !b) return v;
    for (std::size_t i = 0; i < std::min(a->reps.size(), b->reps.size()); ++i) {
      const double y = get(b->reps[i]);
      if (y > 0) v.push_back(get(a->reps[i]) / y);
    }
    return v;
  };
  auto p50 = [](const Repetition& r) { return r.latency.p50_us; };
  auto thr = [](const Repetition& r) { return r.throughput; };
  // Peak over the sweep, per repetition.
  auto peak = [&](const std::string& provider, const std::string& transport, const std::string& path) {
    std::vector<double> v;
    for (const auto& s : report_.series) {
      if (s.provider != provider || s.transport != transport || s.path != path || s.mode != "closed" ||
          !s.variant.empty())
        continue;
      for (std::size_t i = 0; i < s.reps.size(); ++i) {
        if (v.size() <= i) v.resize(i + 1, 0);
        v[i] = std::max(v[i], s.reps[i].throughput);
      }
    }
    return v;
  };
  auto ratio = [](const std::vector<double>& a, const std::vector<double>& b) {
    std::vector<double> v;
    for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i)
      if (b[i] > 0) v.push_back(a[i] / b[i]);
    return v;
  };

  for (const auto& provider : report_.providers) {
    for (const std::string transport : {"exec", "socket"}) {
      const std::string base = provider + "/" + transport;
      add_figure(base + "/latency_ratio_c1",
                 provider + " " + transport + ": resolver p50 / floor p50, 1 request at a time", "lower",
                 per_rep(find(base + "/resolver/c1"), find(base + "/floor/c1"), p50));
      add_figure(base + "/throughput_ratio_peak",
                 provider + " " + transport + ": best resolver throughput / best floor throughput over the sweep",
                 "higher",
                 ratio(peak(provider, transport, "resolver"), peak(provider, transport, "floor")));
      for (const auto& s : report_.series) {
        if (s.provider != provider || s.transport != transport || s.path != "resolver" || s.mode != "closed" ||
            !s.variant.empty())
          continue;
        const std::string c = std::to_string(s.concurrency);
        add_figure(base + "/throughput_ratio_c" + c,
                   provider + " " + transport + ": resolver / floor throughput at concurrency " + c, "higher", per_rep(&s, find(base + "/floor/c" + c), thr));
      }
    }
    add_figure(provider + "/speedup_socket_vs_exec_c1",
               provider + ": exec resolver p50 / socket resolver p50, 1 request at a time", "higher",
               per_rep(find(provider + "/exec/resolver/c1"), find(provider + "/socket/resolver/c1"), p50));
    add_figure(provider + "/speedup_socket_vs_exec_peak",
               provider + ": best socket resolver throughput / best exec resolver throughput", "higher",
               ratio(peak(provider, "socket", "resolver"), peak(provider, "exec", "resolver")));
    for (const std::string transport : {"exec", "socket"}) {
      const std::string base = provider + "/" + transport;
      add_figure(base + "/latency_ratio_c1_validate",
                 provider + " " + transport + ": resolver p50 without registration / floor p50, 1 at a time", "lower",
                 per_rep(find(base + "/resolver/c1/validate"), find(base + "/floor/c1"), p50));
      for (const auto& s : report_.series) {
        if (s.provider != provider || s.transport != transport || s.variant != "validate" || s.concurrency == 1)
          continue;
        const std::string c = std::to_string(s.concurrency);
        add_figure(base + "/throughput_ratio_c" + c + "_validate",
                   provider + " " + transport + ": resolver without registration / floor throughput at concurrency " +
                       c,
                   "higher", per_rep(&s, find(base + "/floor/c" + c), thr));
      }
    }
    add_figure(provider + "/exec/keys100k_latency_ratio",
               provider + " exec: resolver p50 with 100k agents loaded / without, both validate only", "lower",
               per_rep(find(provider + "/exec/resolver/c1/keys100k"),
                       find(provider + "/exec/resolver/c1/validate") ? find(provider + "/exec/resolver/c1/validate")
                                                                     : find(provider + "/exec/resolver/c1"),
                       p50));
  }
}

int Runner::run() {
  const auto started = std::chrono::steady_clock::now();
  report_.created = iso_now();
  report_.profile = p_.name;
  report_.command_line = o_.command_line;
  const double rss_at_start = static_cast<double>(rss_bytes()) / (1024.0 * 1024.0);

  // Environment: machine, versions, commit.
  utsname u{};
  ::uname(&u);
  report_.machine["hostname"] = u.nodename;
  report_.machine["kernel"] = std::string(u.sysname) + " " + u.release;
  report_.machine["arch"] = u.machine;
  report_.machine["cpu"] = read_first("/proc/cpuinfo", "model name");
  report_.machine["cores"] = std::to_string(std::thread::hardware_concurrency());
  report_.machine["memory"] = read_first("/proc/meminfo", "MemTotal");
  report_.machine["load_at_start"] = load_average();
  report_.versions["keyreq"] = "0.1.0";
  report_.versions["compiler"] = __VERSION__;
  report_.versions["boost"] = BOOST_LIB_VERSION;
  report_.versions["simdjson"] = std::to_string(simdjson::SIMDJSON_VERSION_MAJOR) + "." +
                                 std::to_string(simdjson::SIMDJSON_VERSION_MINOR) + "." +
                                 std::to_string(simdjson::SIMDJSON_VERSION_REVISION);
  report_.versions["nlohmann_json"] = std::to_string(NLOHMANN_JSON_VERSION_MAJOR) + "." +
                                      std::to_string(NLOHMANN_JSON_VERSION_MINOR) + "." +
                                      std::to_string(NLOHMANN_JSON_VERSION_PATCH);
  report_.versions["sqlite"] = sqlite3_libversion();
  const fs::path source_root = KEYREQ_SOURCE_DIR;
  report_.git_commit = capture("git -C " + shell_quote(source_root.string()) + " rev-parse HEAD 2>/dev/null");
  report_.git_dirty =
      !capture("git -C " + shell_quote(source_root.string()) + " status --porcelain --untracked-files=no 2>/dev/null")
           .empty();

  workdir_ = std::make_unique<WorkDir>(o_.workdir, o_.keep_workdir);
  if (o_.keep_workdir) std::cerr << "keyreq bench: work directory " << workdir_->path() << " is kept\n";
  report_.settings["agents"] = std::to_string(o_.agents);
  report_.settings["mix"] = o_.mix.describe();
  report_.settings["resolver_path"] =
      o_.direct ? "Resolver per load-generator thread (--direct)" : "dispatcher (submit, workers = concurrency)";
  report_.settings["registration"] = o_.validate_only ? "validate only" : "fresh client.keys per run (fsync)";
  report_.settings["workdir_fs"] = capture("stat -f -c %T " + shell_quote(workdir_->path().string()));
  report_.settings["repetitions"] = std::to_string(o_.repetitions > 0 ? o_.repetitions : p_.repetitions);
  report_.settings["duration_ms"] =
      std::to_string(o_.duration_ms > 0 ? o_.duration_ms : static_cast<int>(p_.duration.count()));
  report_.settings["warmup_ms"] = std::to_string(p_.warmup.count());
  if (o_.inject_delay_us > 0) {
    report_.settings["inject_delay_us"] = std::to_string(o_.inject_delay_us);
    note("--inject-delay-us " + std::to_string(o_.inject_delay_us) +
         ": every resolver call is slowed on purpose (gate self-test); these figures are not the resolver's");
  }
  limits_.timeout = 20s;

  // Dataset and request stream.
  progress_.show("dataset: " + std::to_string(o_.agents) + " agents");
  db_ = (workdir_->path() / "agents.db").string();
  if (auto e = fixtures::write_sqlite_dataset(db_, o_.agents)) {
    std::cerr << "keyreq bench: dataset: " << *e << "\n";
    return 3;
  }
  workload_ = make_workload(o_.agents, o_.mix, 1 << 16, 20240601);
  if (p_.keys100k_variant || p_.keystore_agents > 0) {
    progress_.show("client.keys with " + std::to_string(p_.keystore_agents) + " agents");
    keys100k_ = workdir_->path() / "keys100k.seed";
    write_keys_file(keys100k_, o_.agents + 2000, p_.keystore_agents);
  }

  // Providers.
  std::vector<std::string> wanted = o_.providers.empty() ? p_.default_providers : o_.providers;
  const bool all = std::find(wanted.begin(), wanted.end(), "all") != wanted.end();
  if (all) wanted = {"reference", "python", "php", "perl"};
  std::vector<std::string> missing;
  const auto providers = find_providers(wanted, executable_dir(), source_root, db_, workdir_->path(),
                                        *std::max_element(p_.sweep.begin(), p_.sweep.end()), missing);
  for (const auto& m : missing) {
    if (all) report_.notes.push_back("not measured: " + m);
    else note("not measured: " + m);
  }
  if (providers.empty()) {
    std::cerr << "keyreq bench: no provider to measure\n";
    return 3;
  }
  for (const auto& p : providers) report_.providers.push_back(p.name);

  for (const auto& p : providers) run_provider(p);
  run_null_and_memory();
  report_.measurements["memory.rss_at_start_mib"] = rss_at_start;
  if (p_.keystore_agents > 0) run_keystore();

  if (p_.micro_repetitions > 0 && o_.micro) {
    progress_.show("microbenchmarks");
    const fs::path exe = executable_dir() / "keyreq-microbench";
    if (!fs::exists(exe)) {
      note("microbenchmarks not run: " + exe.string() + " is not built");
    } else if (auto e = run_microbenchmarks(exe, p_.micro_repetitions, p_.micro_min_time, report_.micro); !e.empty()) {
      note("microbenchmarks: " + e);
    }
  }

  derive_figures();
  evaluate_targets(report_);
  report_.machine["load_at_end"] = load_average();
  report_.elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  progress_.show("writing reports");
  std::string warnings;
  const std::string error = write_reports(report_, o_.out, warnings);
  progress_.done();
  if (!warnings.empty()) std::cerr << "keyreq bench: " << warnings << "\n";
  if (!error.empty()) {
    std::cerr << "keyreq bench: " << error << "\n";
    return 3;
  }
  // The summary on stdout: where the reports are and the target lines.
  std::cout << "keyreq bench (" << p_.name << ", " << fmt("%.0f", report_.elapsed_s) << " s): reports in " << o_.out
            << "/ (report.json, report.md, index.html, .hgrm)\n";
  for (const auto& t : report_.targets) {
    std::cout << "  " << (!t.measured_ok ? "N/A " : t.pass ? "PASS" : "FAIL") << "  " << t.name << ": "
              << t.measured << " (" << t.requirement << ")\n";
  }
  return 0;
}

}  // namespace

int run_bench(const BenchOptions& options) {
  const Profile* profile = find_profile(options.profile);
  if (profile == nullptr) {
    std::cerr << "keyreq bench: unknown profile \"" << options.profile << "\" (quick, ci, full)\n";
    return 2;
  }
  Runner runner(options, *profile);
  return runner.run();
}

}  // namespace keyreq::bench
