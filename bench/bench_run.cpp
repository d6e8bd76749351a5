// The run: every provider's series (floors and resolver interleaved inside
// each repetition), its herd, then the global phases (phases.cpp), figures,
// targets and "what this means" into one Report. Prints nothing: progress
// and notes go to the callbacks of BenchOptions.
#include "bench/bench_run.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <functional>
#include <optional>
#include <variant>

#include "bench/environment.hpp"
#include "bench/fdatasync_call.hpp"
#include "bench/figures.hpp"
#include "bench/format.hpp"
#include "bench/herd.hpp"
#include "bench/interpretation.hpp"
#include "bench/stats.hpp"
#include "bench/targets.hpp"
#include "bench/user_provider.hpp"
#include "dataset/dataset.hpp"
#include "resolver/transport/exec_client.hpp"
#include "resolver/transport/socket_client.hpp"

namespace keyreq::bench {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

using format::fixed;

// The last lines of a log file, for an error message.
std::string log_tail(const std::string& file, std::size_t max_bytes = 2000) {
  std::ifstream in(file, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (text.size() > max_bytes) text = "…" + text.substr(text.size() - max_bytes);
  return text.empty() ? "(the log is empty)" : text;
}

// keyreq serve's exec_path for a command of plain words (SPEC §3 splitting
// gives them back); "" when a word would need quoting.
std::string plain_command_line(const std::vector<std::string>& words) {
  std::string line;
  for (const auto& w : words) {
    if (w.empty() || w.find_first_of(" \t\"'\\") != std::string::npos) return "";
    line += (line.empty() ? "" : " ") + w;
  }
  return line;
}

}  // namespace

void BenchRun::note(const std::string& text) {
  report_.notes.push_back(text);
  if (o_.on_note) o_.on_note(text);
}

BenchRun::Sizing BenchRun::sizing_for(const ProviderSpec& p) const {
  Sizing s;
  const bool script = !p.user && p.name != "reference";
  s.repetitions = o_.repetitions > 0 ? o_.repetitions : (script ? p_.script_repetitions : p_.repetitions);
  s.duration =
      o_.duration_ms > 0 ? std::chrono::milliseconds(o_.duration_ms) : (script ? p_.script_duration : p_.duration);
  s.sweep = !o_.sweep.empty() ? o_.sweep : (p.name == "reference" ? p_.sweep : p_.script_sweep);
  s.open_fractions = p.name == "reference" ? p_.open_fractions : p_.script_open_fractions;
  s.min_requests = p.user ? p_.user_min_samples : p_.min_requests;
  // A slow provider still gets user_min_samples per series, within a budget.
  if (p.user) s.budget = std::max(p_.user_series_budget, s.duration);
  s.validate_variant = !script && !o_.validate_only;
  s.keys100k_variant = p.name == "reference" && p_.keys100k_variant && !keys100k_.empty();
  // Slices need several calls each: a script's exec call takes tens of ms,
  // and the user's provider is sized by a sample count within a budget.
  s.slices = script || p.user ? 1 : p_.slices;
  return s;
}

std::size_t BenchRun::series(const SeriesKey& key) {
  if (const auto it = index_.find(key); it != index_.end()) return it->second;
  index_[key] = report_.series.size();
  report_.series.emplace_back(key);
  return report_.series.size() - 1;
}

BenchRun::LoadRunner BenchRun::load_runner(TimedCallFactory factory) const {
  return [this, factory = std::move(factory)](const LoadSpec& s) { return run_load(s, factory, *workload_); };
}

Repetition BenchRun::measure(std::size_t series, const TimedCallFactory& factory, LoadSpec spec, CpuFrom cpu,
                             pid_t group) {
  return measure_with(series, load_runner(factory), std::move(spec), cpu, group);
}

namespace {

// The resolver a closed loop drives; the dispatcher goes first, draining its
// registrations into `keys`.
struct ResolverUnderTest {
  std::unique_ptr<KeyStore> keys;
  std::optional<Dispatcher> dispatcher;
};

}  // namespace

BenchRun::LoadRunner BenchRun::closed_resolver_runner(ProviderClient& client, std::unique_ptr<KeyStore> keys,
                                                      int concurrency) {
  auto state = std::make_shared<ResolverUnderTest>();
  state->keys = std::move(keys);
  KeyStore* target = state->keys.get();
  if (!o_.direct) {
    DispatcherOptions options;
    options.threads = static_cast<unsigned>(std::max(1, concurrency));
    options.queue_size = 1024;
    state->dispatcher.emplace(client, target, options);
  }
  const Workload& workload = *workload_;
  return [state, target, &client, &workload](const LoadSpec& s) {
    if (!state->dispatcher) {
      return run_load(
          s, [&] { return make_resolver_call(client, target, workload); }, workload);
    }
    return run_load(
        s, [&] { return make_dispatcher_call(*state->dispatcher, client, target, workload); }, workload);
  };
}

Repetition BenchRun::measure_open_resolver(std::size_t series, ProviderClient& client, KeyStore* keys,
                                           const LoadSpec& spec, CpuFrom cpu, pid_t group) {
  const Workload& workload = *workload_;
  if (o_.direct) {
    return measure(
        series, [&client, keys, &workload] { return make_resolver_call(client, keys, workload); }, spec, cpu, group);
  }
  DispatcherOptions options;
  options.threads = static_cast<unsigned>(std::max(1, spec.concurrency));
  // The queue must hold a burst (the requester's datagrams pile up while
  // workers are busy); a full queue is counted as an error.
  options.queue_size = 1 << 16;
  Dispatcher dispatcher(client, keys, options);
  Repetition rep = measure_with(
      series, [&](const LoadSpec& s) { return run_open_async(s, dispatcher_submit(dispatcher, workload), workload); },
      spec, cpu, group);
  dispatcher.stop(std::chrono::steady_clock::now() + 30s);
  return rep;
}

Repetition BenchRun::measure_with(std::size_t index, const LoadRunner& run, LoadSpec spec, CpuFrom cpu, pid_t group) {
  progress(report_.series[index].id + (spec.rate > 0 ? " at " + fixed(spec.rate, 0) + "/s" : "") + "  rep " +
           std::to_string(report_.series[index].reps.size() + 1));
  if (spec.rate > 0) report_.series[index].target_rate = spec.rate;  // last one; the fractions compare across runs
  return record(index, run_window(run, std::move(spec), cpu, group));
}

BenchRun::Window BenchRun::run_window(const LoadRunner& run, LoadSpec spec, CpuFrom cpu, pid_t group) {
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
  Window w;
  w.result = run(spec);
  // Next run starts where this one's requests stopped, so floor and resolver
  // of one pair see different but equally distributed requests.
  cursor_ += w.result.requests + 1000;
  w.cpu_self_s = self1 - self0;
  w.cpu_provider_s = prov1 - prov0;
  return w;
}

Repetition BenchRun::record(std::size_t index, const Window& w) {
  const LoadResult& r = w.result;
  Series& s = report_.series[index];
  if (!r.setup_error.empty()) throw std::runtime_error(s.id + ": " + r.setup_error);
  Repetition rep;
  rep.requests = r.requests;
  rep.errors = r.errors;
  rep.wall_s = r.wall_s;
  rep.throughput = r.throughput;
  rep.latency = percentiles_of(r.latency);
  rep.service = percentiles_of(r.service);
  if (r.requests > 0) {
    rep.cpu_self_us = w.cpu_self_s * 1e6 / static_cast<double>(r.requests);
    rep.cpu_provider_us = w.cpu_provider_s * 1e6 / static_cast<double>(r.requests);
  }
  for (auto& [name, n] : r.outcomes) rep.outcomes[name] += n;
  rep.first_error = r.first_error;
  s.histogram.merge(r.latency);
  s.reps.push_back(rep);
  if (r.errors > 0 && s.reps.size() == 1) {
    note(s.id + ": " + std::to_string(r.errors) + " of " + std::to_string(r.requests) +
         " requests did not get the expected outcome; first: " + r.first_error);
  }
  return rep;
}

std::unique_ptr<KeyStore> BenchRun::fresh_keys(const std::string& tag, const fs::path* seed) {
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

LoadSpec BenchRun::closed_spec(const Sizing& sizing, int concurrency) const {
  LoadSpec spec;
  spec.warmup = p_.warmup;
  spec.duration = sizing.duration;
  spec.min_requests = sizing.min_requests;
  spec.budget = sizing.budget;
  spec.concurrency = concurrency;
  return spec;
}

std::vector<BenchRun::Step> BenchRun::side_by_side_steps(const ProviderSpec& p, const Sizing& sizing, const Leg& leg,
                                                         int c) {
  auto closed = [&](const std::string& path, const std::string& variant = "") {
    return series(SeriesKey::closed(p.name, leg.transport, path, c, variant));
  };
  std::vector<Step> steps;
  const std::size_t resolver = closed("resolver");
  auto keys = fresh_keys(report_.series[resolver].id);
  const bool durable = keys != nullptr;
  steps.push_back({resolver, closed_resolver_runner(*leg.client, std::move(keys), c), leg.cpu, leg.group});
  steps.push_back({closed("floor"), load_runner(leg.floor), leg.cpu, leg.group});
  // What the file system's fdatasync costs right now, beside the durable run it is compared with.
  if (durable && c == 1 && leg.transport == "socket") {
    steps.push_back({closed("fdatasync"),
                     load_runner([this] { return make_fdatasync_call(workdir_->path() / "keys"); }), CpuFrom::none, 0});
  }
  // Without registration (the floors register nothing): the resolver's
  // own cost, apart from the fsync of client.keys.
  if (sizing.validate_variant && (c == 1 || c == sizing.sweep.back())) {
    steps.push_back(
        {closed("resolver", "validate"), closed_resolver_runner(*leg.client, nullptr, c), leg.cpu, leg.group});
  }
  // exec with the resolver's memory grown by a client.keys of 100k agents
  // (held, not written: validate only, so fsync jitter stays out of the
  // comparison with the validate run). Loaded for its own slices only: the
  // validate series beside it must not carry that memory.
  if (leg.transport == "exec" && c == 1 && sizing.keys100k_variant) {
    const std::size_t id = closed("resolver", "keys100k");
    steps.push_back({id,
                     [this, id, run = closed_resolver_runner(*leg.client, nullptr, c)](const LoadSpec& s) {
                       auto held = fresh_keys(report_.series[id].id, &keys100k_);
                       const LoadResult r = run(s);
                       const fs::path copy = held->path();
                       held.reset();
                       std::error_code ignored;
                       fs::remove(copy, ignored);
                       return r;
                     },
                     leg.cpu, leg.group});
  }
  return steps;
}

void BenchRun::measure_side_by_side(const std::vector<Step>& steps, const LoadSpec& spec, int slices) {
  const int n = std::max(1, slices);
  // A slice after the first warms up only briefly: the dispatcher's threads
  // and the provider are already running, only caches went cold.
  const auto later_warmup = std::min<std::chrono::nanoseconds>(spec.warmup, 20ms);
  std::vector<Window> totals(steps.size());
  for (int slice = 0; slice < n; ++slice) {
    LoadSpec part = spec;
    part.duration = spec.duration / n;
    part.min_requests = (spec.min_requests + static_cast<std::uint64_t>(n) - 1) / static_cast<std::uint64_t>(n);
    part.budget = spec.budget / n;
    if (slice > 0) part.warmup = later_warmup;
    for (std::size_t k = 0; k < steps.size(); ++k) {
      const std::size_t i = slice % 2 == 0 ? k : steps.size() - 1 - k;
      const Step& step = steps[i];
      if (slice == 0) {
        progress(report_.series[step.series].id + "  rep " +
                 std::to_string(report_.series[step.series].reps.size() + 1));
      }
      const Window w = run_window(step.run, part, step.cpu, step.group);
      add_window(totals[i].result, w.result);
      totals[i].cpu_self_s += w.cpu_self_s;
      totals[i].cpu_provider_s += w.cpu_provider_s;
    }
  }
  for (std::size_t i = 0; i < steps.size(); ++i) record(steps[i].series, totals[i]);
}

void BenchRun::run_repetition(const ProviderSpec& p, const Sizing& sizing, const std::vector<Leg>& legs, int rep) {
  for (int c : sizing.sweep) {
    for (const Leg& leg : legs) {
      const LoadSpec spec = closed_spec(sizing, c);
      // Each group a target line divides runs side by side (durable | floor |
      // fdatasync | validate | keys100k), in alternating slices, and the
      // order reverses every repetition (ABBA), so drift on a shared machine
      // hits both sides of a ratio alike.
      std::vector<Step> steps = side_by_side_steps(p, sizing, leg, c);
      if (rep % 2 == 1) std::reverse(steps.begin(), steps.end());
      measure_side_by_side(steps, spec, sizing.slices);
      // The user's provider: this repetition's calibration (and the
      // interpreter alone), one request at a time like the floor it divides.
      if (c == 1 && leg.calibration) {
        measure(series(SeriesKey::closed("calibration", leg.transport, "floor", 1)), leg.calibration, spec,
                CpuFrom::none);
      }
      if (c == 1 && leg.startup) {
        measure(series(SeriesKey::closed(p.name, leg.transport, "startup", 1)), leg.startup, spec, CpuFrom::children);
      }
    }
  }
}

// Open loop at fractions of the best closed-loop resolver throughput, with
// as many workers as gave that best throughput.
void BenchRun::run_open_loop(const ProviderSpec& p, const Sizing& sizing, const std::vector<Leg>& legs) {
  for (const Leg& leg : legs) {
    if (sizing.open_fractions.empty()) break;
    double best = 0;
    int best_c = 1;
    for (int c : sizing.sweep) {
      const Series& s = report_.series[series(SeriesKey::closed(p.name, leg.transport, "resolver", c))];
      std::vector<double> t;
      for (const auto& r : s.reps) t.push_back(r.throughput);
      const double m = median(t);
      if (m > best) best = m, best_c = c;
    }
    if (best <= 0) continue;
    for (int rep = 0; rep < sizing.repetitions; ++rep) {
      for (double f : sizing.open_fractions) {
        LoadSpec spec;
        spec.warmup = p_.warmup;
        spec.duration = sizing.duration;
        spec.concurrency = std::max(best_c, 2);
        spec.rate = best * f;
        const std::size_t id = series(SeriesKey::open(p.name, leg.transport, "resolver", spec.concurrency, f));
        auto keys = fresh_keys(report_.series[id].id);
        measure_open_resolver(id, *leg.client, keys.get(), spec, leg.cpu, leg.group);
      }
    }
  }
}

void BenchRun::run_provider(const ProviderSpec& p) {
  const Sizing sizing = sizing_for(p);
  workload_ = p.user ? &user_workload_ : &builtin_workload_;
  const fs::path dir = workdir_->path();

  std::optional<Daemon> daemon, calibration_daemon;
  bool socket_up = !p.socket_path.empty() && p.daemon_command.empty();  // the user's, already serving
  if (!p.daemon_command.empty()) {
    std::string error;
    const std::string log = (dir / (p.name + "-daemon.log")).string();
    progress(p.name + ": starting the socket daemon");
    if (auto started = Daemon::start(p.daemon_command, p.socket_path, log, 15s, error))
      daemon.emplace(std::move(*started));
    socket_up = daemon.has_value();
    if (!daemon && p.user) throw BenchUsageError("--socket-cmd: " + error + "\n" + log_tail(log));
    if (!daemon) note(p.name + ": socket transport not measured: " + error);
  }
  const std::string calibration_socket = (dir / "calibration.sock").string();
  if (p.user && socket_up) {
    std::string error;
    const fs::path reference = executable_dir() / "keyreq-provider";
    if (auto started =
            Daemon::start({reference.string(), "--db", db_, "--socket", calibration_socket, "--threads", "1"},
                          calibration_socket, (dir / "calibration-daemon.log").string(), 15s, error))
      calibration_daemon.emplace(std::move(*started));
    if (!calibration_daemon) note("calibration: the reference daemon did not start: " + error);
  }

  // The resolver's clients, slowed on purpose only for the gate's self-test (--inject-delay-us).
  std::vector<std::unique_ptr<ProviderClient>> clients;
  auto client_for = [&](std::unique_ptr<ProviderClient> client) -> ProviderClient* {
    clients.push_back(std::move(client));
    if (o_.inject_delay_us > 0) {
      clients.push_back(
          std::make_unique<DelayedProvider>(*clients.back(), std::chrono::microseconds(o_.inject_delay_us)));
    }
    return clients.back().get();
  };

  std::vector<Leg> legs;
  if (!p.exec_command.empty()) {
    Leg leg{"exec",
            client_for(std::make_unique<ExecClient>(p.exec_command, limits_)),
            CpuFrom::children,
            0,
            [&p] { return make_exec_floor_call(p.exec_command); },
            {},
            {}};
    if (p.user) {
      const std::vector<std::string> target{(executable_dir() / "keyreq-spawn-target").string()};
      leg.calibration = [target] { return make_exec_floor_call(target); };
    }
    if (!p.startup_command.empty()) {
      leg.startup = [&p] { return make_exec_floor_call(p.startup_command); };
      report_.settings["interpreter." + p.name] = p.interpreter;
    }
    legs.push_back(std::move(leg));
  }
  if (socket_up) {
    // The daemon's CPU is read from its process group: only when bench started it.
    Leg leg{"socket",
            client_for(std::make_unique<SocketClient>(p.socket_path, limits_)),
            daemon ? CpuFrom::group : CpuFrom::none,
            daemon ? daemon->pid() : 0,
            [&p] { return make_socket_floor_call(p.socket_path); },
            {},
            {}};
    if (calibration_daemon)
      leg.calibration = [calibration_socket] { return make_socket_floor_call(calibration_socket); };
    legs.push_back(std::move(leg));
  }

  for (int rep = 0; rep < sizing.repetitions; ++rep) run_repetition(p, sizing, legs, rep);
  run_open_loop(p, sizing, legs);
  run_herds(p, socket_up, daemon ? daemon->pid() : 0);
  progress(p.name + ": stopping the socket daemon");
}

void BenchRun::run_herds(const ProviderSpec& p, bool socket_up, pid_t daemon_group) {
  const long n = o_.herd >= 0
                     ? o_.herd
                     : static_cast<long>(p.user ? p_.herd_user : (p.name == "reference" ? p_.herd_reference : 0));
  if (n <= 0 || (!p.user && p.name != "reference")) return;
  const Workload& w = *workload_;
  std::vector<std::string> ids;
  for (std::size_t i = 0; i < w.agents.size() && ids.size() < static_cast<std::size_t>(n); ++i)
    ids.push_back(w.agents[i].id);
  if (ids.size() < static_cast<std::size_t>(n)) {
    note(p.name + " herd: the dataset has " + std::to_string(ids.size()) + " agents; the herd asks for each once");
  }
  const auto budget = o_.herd_budget_s > 0 ? std::chrono::seconds(o_.herd_budget_s) : p_.herd_budget;
  // The best median throughput of the sweep, and the concurrency that gave it.
  auto best_of_sweep = [&](const std::string& transport, const std::string& path) {
    std::pair<double, int> best{0, 1};
    for (const auto& s : report_.series) {
      if (s.in_closed_sweep(p.name, transport, path)) best = std::max(best, {median(s.throughputs()), s.concurrency});
    }
    return best;
  };
  auto floor_peak = [&](const std::string& transport, const std::string& path) {
    return best_of_sweep(transport, path).first;
  };
  HerdSpec spec;
  spec.provider = p.name;
  spec.keyreq = executable_dir() / "keyreq";
  spec.dir = workdir_->path();
  spec.ids = ids;
  spec.budget = budget;
  spec.threads = static_cast<unsigned>(std::clamp(*std::max_element(p_.sweep.begin(), p_.sweep.end()), 1, 32));
  const std::string exec_line = p.user ? user_exec_line_ : plain_command_line(p.exec_command);
  if (!p.exec_command.empty() && !exec_line.empty()) {
    spec.transport = "exec";
    spec.provider_flags = {"--exec", exec_line};
    spec.floor_peak_throughput = floor_peak("exec", "floor");
    // What fits the budget at the resolver's measured rate (with a margin);
    // the time for all N is extrapolated from the measured rate.
    const double rate = floor_peak("exec", "resolver");
    spec.fit = rate > 0 ? std::max<std::size_t>(50, static_cast<std::size_t>(rate * budget.count() * 0.6)) : 0;
    progress(p.name + ": herd of " + std::to_string(std::min(spec.fit ? spec.fit : ids.size(), ids.size())) +
             " over exec through keyreq serve");
    report_.herd.push_back(run_herd(spec));
  }
  if (socket_up) {
    spec.transport = "socket";
    spec.provider_flags = {"--socket", p.socket_path};
    spec.floor_peak_throughput = floor_peak("socket", "floor");
    spec.fit = 0;
    // Under a second each: repeated like the series, so the target reads a
    // median rather than one draw of a noisy machine.
    const Sizing sizing = sizing_for(p);
    const int repetitions = sizing.repetitions;
    // Each repetition against the socket floor at its best concurrency,
    // measured beside it (series .../floor/cN/herd) rather than minutes before.
    const LoadSpec floor_spec = closed_spec(sizing, best_of_sweep("socket", "floor").second);
    const std::size_t paired = series(SeriesKey::closed(p.name, "socket", "floor", floor_spec.concurrency, "herd"));
    spec.provider_group = daemon_group;
    spec.paired_floor = [this, paired, floor_spec, &p, daemon_group] {
      return measure(
          paired, [&p] { return make_socket_floor_call(p.socket_path); }, floor_spec,
          daemon_group > 0 ? CpuFrom::group : CpuFrom::none, daemon_group);
    };
    progress(p.name + ": herd of " + std::to_string(ids.size()) + " over socket through keyreq serve, " +
             std::to_string(repetitions) + " repetitions");
    report_.herd.push_back(run_herd_repeated(spec, repetitions));
  }
  for (const auto& h : report_.herd) {
    if (h.provider == p.name && !h.error.empty()) note(p.name + " herd over " + h.transport + ": " + h.error);
  }
}

std::optional<UserProvider> BenchRun::check_inputs() const {
  // Every input checked before anything runs.
  for (const auto& name : o_.providers) {
    static const char* const kBuiltin[] = {"reference", "python", "php", "perl", "all"};
    if (std::find(std::begin(kBuiltin), std::end(kBuiltin), name) == std::end(kBuiltin)) {
      throw BenchUsageError("--providers: unknown provider \"" + name +
                            "\" (reference, python, php, perl, all; your own: --exec CMD / --socket PATH)");
    }
  }
  if (o_.user.given()) {
    auto prepared = prepare_user_provider(o_.user);
    if (auto* e = std::get_if<UsageError>(&prepared)) throw BenchUsageError(e->message);
    return std::get<UserProvider>(std::move(prepared));
  }
  if (!o_.user.dataset.empty() || !o_.user.name.empty()) {
    throw BenchUsageError("--dataset and --name describe your provider: give --exec CMD and/or --socket PATH too");
  }
  return std::nullopt;
}

void BenchRun::record_settings(const std::optional<UserProvider>& user) {
  report_.settings["agents"] = std::to_string(o_.agents);
  report_.settings["mix"] = o_.mix.describe();
  report_.settings["resolver_path"] =
      o_.direct ? "Resolver per load-generator thread (--direct)"
                : "dispatcher (submit_or_run from each load-generator thread, resolved on that thread while a worker "
                  "is idle, workers = concurrency)";
  report_.settings["registration"] = o_.validate_only ? "validate only" : "fresh client.keys per run (fsync)";
  report_.settings["workdir_fs"] = capture("stat -f -c %T " + shell_quote(workdir_->path().string()));
  report_.settings["repetitions"] = std::to_string(o_.repetitions > 0 ? o_.repetitions : p_.repetitions);
  report_.settings["duration_ms"] =
      std::to_string(o_.duration_ms > 0 ? o_.duration_ms : static_cast<int>(p_.duration.count()));
  report_.settings["warmup_ms"] = std::to_string(p_.warmup.count());
  if (user) {
    report_.settings["user_provider"] = user->spec.name;
    report_.settings["user_dataset"] = o_.user.dataset + " (" + std::to_string(user->agents.size()) + " agents)";
    if (!o_.user.exec.empty()) report_.settings["user_exec"] = o_.user.exec;
    if (!o_.user.socket.empty()) report_.settings["user_socket"] = o_.user.socket;
    if (!o_.user.socket_cmd.empty()) report_.settings["user_socket_cmd"] = o_.user.socket_cmd;
    report_.settings["user_min_samples"] = std::to_string(p_.user_min_samples);
    report_.settings["user_series_budget_ms"] = std::to_string(p_.user_series_budget.count());
  }
  if (o_.inject_delay_us > 0) {
    report_.settings["inject_delay_us"] = std::to_string(o_.inject_delay_us);
    note("--inject-delay-us " + std::to_string(o_.inject_delay_us) +
         ": every resolver call is slowed on purpose (gate self-test); these figures are not the resolver's");
  }
}

std::vector<ProviderSpec> BenchRun::select_providers(const std::optional<UserProvider>& user,
                                                     const fs::path& source_root) {
  // Built-in providers: the profile's default unless the user's provider is benched.
  std::vector<std::string> wanted = !o_.providers.empty() ? o_.providers
                                    : user                ? std::vector<std::string>{}
                                                          : p_.default_providers;
  const bool all = std::find(wanted.begin(), wanted.end(), "all") != wanted.end();
  if (all) wanted = {"reference", "python", "php", "perl"};
  std::vector<std::string> missing;
  auto providers = find_providers(wanted, executable_dir(), source_root, db_, workdir_->path(),
                                  *std::max_element(p_.sweep.begin(), p_.sweep.end()), missing);
  for (const auto& m : missing) {
    if (all)
      report_.notes.push_back("not measured: " + m);
    else
      note("not measured: " + m);
  }
  for (auto& p : providers) recognise_interpreter(p);  // python, php, perl: their start-up, measured too
  if (user) providers.push_back(user->spec);
  if (providers.empty()) throw std::runtime_error("no provider to measure");
  return providers;
}

Report BenchRun::run() {
  const auto started = std::chrono::steady_clock::now();
  report_.created = iso_now();
  report_.profile = p_.name;
  report_.command_line = o_.command_line;
  const fs::path source_root = find_data_root();

  std::optional<UserProvider> user = check_inputs();
  user_exec_line_ = user ? user->exec_line : "";
  record_environment(report_, source_root);

  workdir_ = std::make_unique<WorkDir>(o_.workdir, o_.keep_workdir);
  if (o_.keep_workdir) note("work directory " + workdir_->path().string() + " is kept");
  record_settings(user);
  limits_.timeout = 20s;

  // Dataset and request streams.
  progress("dataset: " + std::to_string(o_.agents) + " agents");
  db_ = (workdir_->path() / "agents.db").string();
  if (auto e = fixtures::write_sqlite_dataset(db_, o_.agents)) throw std::runtime_error("dataset: " + *e);
  builtin_workload_ = make_workload(o_.agents, o_.mix, 1 << 16, 20240601);
  if (user) user_workload_ = make_workload(user->agents, o_.mix, 1 << 16, 20240601);
  if (p_.keys100k_variant || p_.keystore_agents > 0) {
    progress("client.keys with " + std::to_string(p_.keystore_agents) + " agents");
    keys100k_ = workdir_->path() / "keys100k.seed";
    write_keys_file(keys100k_, o_.agents + 2000, p_.keystore_agents);
  }

  auto providers = select_providers(user, source_root);
  for (const auto& p : providers) report_.providers.push_back(p.name);

  for (const auto& p : providers) run_provider(p);
  workload_ = &builtin_workload_;
  run_null_and_memory();
  if (p_.keystore_agents > 0) run_keystore();
  if (p_.micro_repetitions > 0 && o_.micro) run_micro();

  derive_figures(report_);
  evaluate_targets(report_);
  interpret(report_);
  report_.machine["load_at_end"] = load_average();
  report_.elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return std::move(report_);
}

BenchResult run_bench(const BenchOptions& options) {
  BenchResult result;
  const Profile* profile = find_profile(options.profile);
  if (profile == nullptr) {
    result.status = BenchResult::Status::usage;
    result.error = "unknown profile \"" + options.profile + "\"";
    return result;
  }
  try {
    BenchRun runner(options, *profile);
    result.report = runner.run();
  } catch (const BenchUsageError& e) {
    result.status = BenchResult::Status::usage;
    result.error = e.what();
  } catch (const std::exception& e) {
    result.status = BenchResult::Status::failed;
    result.error = e.what();
  }
  return result;
}

}  // namespace keyreq::bench
