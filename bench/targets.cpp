// DESIGN.md "Targets", each a PASS/FAIL line with the measured figure. The
// figures are ratios measured side by side in the same run wherever the
// target is a ratio; nothing here is a constant floor.
#include "bench/targets.hpp"

#include <algorithm>

#include "bench/format.hpp"
#include "bench/stats.hpp"

namespace keyreq::bench {

namespace {

std::string num(double v, int digits = 2) { return format::fixed(v, digits); }
std::string rate(double v) { return format::rate(v) + "/s"; }

double series_median(const Report& r, const std::string& id, double Repetition::*field) {
  const Series* s = r.find_series(id);
  if (!s) return 0;
  std::vector<double> v;
  for (const auto& rep : s->reps) v.push_back(rep.*field);
  return median(v);
}

double series_p50(const Report& r, const std::string& id) {
  const Series* s = r.find_series(id);
  if (!s) return 0;
  std::vector<double> v;
  for (const auto& rep : s->reps) v.push_back(rep.latency.p50_us);
  return median(v);
}

double best_throughput(const Report& r, const std::string& provider, const std::string& transport,
                       const std::string& path) {
  double best = 0;
  for (const auto& s : r.series) {
    if (s.provider != provider || s.transport != transport || s.path != path || s.mode != "closed" ||
        !s.variant.empty())
      continue;
    std::vector<double> v;
    for (const auto& rep : s.reps) v.push_back(rep.throughput);
    best = std::max(best, median(v));
  }
  return best;
}

const Micro* find_micro(const Report& r, const std::string& name) {
  for (const auto& m : r.micro)
    if (m.name == name) return &m;
  return nullptr;
}

Target missing(const std::string& name, const std::string& requirement, const std::string& why) {
  Target t;
  t.name = name;
  t.requirement = requirement;
  t.measured = "not measured: " + why;
  t.measured_ok = false;
  return t;
}

}  // namespace

void evaluate_targets(Report& r) {
  r.targets.clear();
  const std::string registration = r.settings.count("registration") ? r.settings.at("registration") : "";

  {  // socket whole pipeline vs raw floor
    const std::string name = "socket, reference provider, whole pipeline: throughput vs raw floor";
    const std::string req = "ratio >= 0.80";
    if (const Figure* f = r.find_figure("reference/socket/throughput_ratio_peak")) {
      Target t;
      t.name = name;
      t.requirement = req;
      t.value = median(f->values);
      t.pass = t.value >= 0.80;
      t.measured = num(t.value) + " (best resolver " + rate(best_throughput(r, "reference", "socket", "resolver")) +
                   " / best floor " + rate(best_throughput(r, "reference", "socket", "floor")) + "; " + registration +
                   ")";
      // The same without registration, at the highest concurrency measured.
      for (const auto& fig : r.figures) {
        if (fig.id.rfind("reference/socket/throughput_ratio_c", 0) == 0 && fig.id.find("_validate") != std::string::npos) {
          t.measured += "; without registration " + num(median(fig.values)) + " at " +
                        fig.id.substr(std::string("reference/socket/throughput_ratio_").size(),
                                      fig.id.size() - std::string("reference/socket/throughput_ratio_").size() -
                                          std::string("_validate").size());
        }
      }
      r.targets.push_back(t);
    } else {
      r.targets.push_back(missing(name, req, "no socket series for the reference provider"));
    }
  }
  {  // exec latency vs bare posix_spawn
    const std::string name = "exec, reference provider: latency vs bare posix_spawn + read + wait";
    const std::string req = "ratio <= 1.10";
    // Judged without registration when that run exists: the floor registers
    // nothing, and an fsync of client.keys is not the cost of exec.
    const Figure* validate = r.find_figure("reference/exec/latency_ratio_c1_validate");
    const Figure* registered = r.find_figure("reference/exec/latency_ratio_c1");
    if (const Figure* f = validate ? validate : registered) {
      Target t;
      t.name = name;
      t.requirement = req;
      t.value = median(f->values);
      t.pass = t.value <= 1.10;
      const std::string resolver_id = validate ? "reference/exec/resolver/c1/validate" : "reference/exec/resolver/c1";
      t.measured = num(t.value) + " (resolver p50 " + num(series_p50(r, resolver_id), 0) + " µs / floor p50 " +
                   num(series_p50(r, "reference/exec/floor/c1"), 0) + " µs, 1 at a time" +
                   (validate ? ", provider call + validation" : "") +
                   (validate && registered ? "; with registration " + num(median(registered->values)) : "") + ")";
      r.targets.push_back(t);
    } else {
      r.targets.push_back(missing(name, req, "no exec series for the reference provider"));
    }
  }
  {  // exec latency independent of the resolver's memory
    const std::string name = "exec latency not growing with the resolver's memory (100k agents loaded)";
    const std::string req = "ratio <= 1.10";
    if (const Figure* f = r.find_figure("reference/exec/keys100k_latency_ratio")) {
      Target t;
      t.name = name;
      t.requirement = req;
      t.value = median(f->values);
      t.pass = t.value <= 1.10;
      t.measured = num(t.value) + " (p50 with 100k agents loaded " +
                   num(series_p50(r, "reference/exec/resolver/c1/keys100k"), 0) + " µs / without " +
                   num(series_p50(r, "reference/exec/resolver/c1/validate"), 0) + " µs, validate only)";
      r.targets.push_back(t);
    } else {
      r.targets.push_back(missing(name, req, "this profile skips the 100k-agent exec variant"));
    }
  }
  const Micro* simd = find_micro(r, "parse_validate/simdjson");
  const Micro* nl = find_micro(r, "parse_validate/nlohmann");
  {
    const std::string name = "parse + validate one provider answer: median time";
    const std::string req = "<= 250 ns";
    if (simd) {
      Target t;
      t.name = name;
      t.requirement = req;
      // CPU time: on a shared machine wall time also counts the time other
      // processes held the core; both are in the microbenchmark table.
      t.value = median(simd->cpu_ns.empty() ? simd->ns : simd->cpu_ns);
      t.pass = t.value <= 250;
      t.measured = num(t.value, 0) + " ns CPU (real " + num(median(simd->ns), 0) + " ns; median of " +
                   std::to_string(simd->ns.size()) + " repetitions)";
      r.targets.push_back(t);
    } else {
      r.targets.push_back(missing(name, req, "microbenchmarks not run"));
    }
  }
  {
    const std::string name = "parse + validate: simdjson vs the same validation over nlohmann_json";
    const std::string req = "speed-up >= 5.0";
    auto cpu = [](const Micro* m) { return median(m->cpu_ns.empty() ? m->ns : m->cpu_ns); };
    if (simd && nl && cpu(simd) > 0) {
      Target t;
      t.name = name;
      t.requirement = req;
      t.value = cpu(nl) / cpu(simd);
      t.pass = t.value >= 5.0;
      t.measured = num(t.value, 1) + "x (nlohmann " + num(cpu(nl), 0) + " ns / simdjson " + num(cpu(simd), 0) +
                   " ns, CPU time, same run)";
      r.targets.push_back(t);
    } else {
      r.targets.push_back(missing(name, req, "microbenchmarks not run"));
    }
  }
  {
    const std::string name = "durable registration with 100k agents on file";
    const std::string req = ">= 20k registrations/s";
    const auto it8 = r.measurements.find("keystore.registrations_per_s_t8");
    const auto it1 = r.measurements.find("keystore.registrations_per_s_t1");
    const auto itA = r.measurements.find("keystore.registrations_per_s_async");
    const auto inflight = r.measurements.find("keystore.async_in_flight");
    const auto n = r.measurements.find("memory.keystore_agents");
    auto figure = [&](auto it) { return it != r.measurements.end() ? it->second : 0.0; };
    if (itA != r.measurements.end() || it8 != r.measurements.end()) {
      Target t;
      t.name = name;
      t.requirement = req;
      // Judged on the asynchronous path (what the dispatcher uses); reports
      // from before it existed are judged on the synchronous figures.
      t.value = itA != r.measurements.end() ? itA->second : std::max(figure(it8), figure(it1));
      t.pass = t.value >= 20000 && (n == r.measurements.end() || n->second >= 100000);
      t.measured = rate(t.value) + " (" +
                   (itA != r.measurements.end()
                        ? "asynchronous, " + (inflight != r.measurements.end() ? num(inflight->second, 0) : "?") +
                              " in flight " + rate(itA->second) + "; synchronous: "
                        : std::string()) +
                   "8 threads " + rate(figure(it8)) + ", 1 thread " + rate(figure(it1)) +
                   "; fdatasync per batch, group commit; " +
                   (n != r.measurements.end() ? num(n->second, 0) : std::string("?")) + " agents on file; " +
                   (r.settings.count("workdir_fs") ? r.settings.at("workdir_fs") : std::string("?")) + ")";
      r.targets.push_back(t);
    } else {
      r.targets.push_back(missing(name, req, "keystore phase skipped"));
    }
  }
  {
    const std::string name = "load generator against a null provider";
    const std::string req = ">= 200k requests/s";
    const double c1 = series_median(r, "null/none/loadgen/c1", &Repetition::throughput);
    const double c2 = series_median(r, "null/none/loadgen/c2", &Repetition::throughput);
    const double r1 = series_median(r, "null/none/resolver/c1", &Repetition::throughput);
    const double r2 = series_median(r, "null/none/resolver/c2", &Repetition::throughput);
    if (c1 > 0 || c2 > 0) {
      Target t;
      t.name = name;
      t.requirement = req;
      t.value = std::max(c1, c2);
      t.pass = t.value >= 200000;
      t.measured = rate(t.value) + " (1 worker " + rate(c1) + ", 2 workers " + rate(c2) +
                   "; through the resolver with canned answers " + rate(std::max(r1, r2)) + ")";
      r.targets.push_back(t);
    } else {
      r.targets.push_back(missing(name, req, "null provider phase skipped"));
    }
  }
  {
    const std::string name = "resolver memory with 100k agents";
    const std::string req = "<= 32 MiB RSS";
    const auto start = r.measurements.find("memory.rss_at_start_mib");
    const auto keys = r.measurements.find("memory.keystore_rss_mib");
    const auto n = r.measurements.find("memory.keystore_agents");
    if (start != r.measurements.end() && keys != r.measurements.end()) {
      Target t;
      t.name = name;
      t.requirement = req;
      t.value = start->second + keys->second;
      t.pass = t.value <= 32 && (n == r.measurements.end() || n->second >= 100000);
      t.measured = num(t.value, 1) + " MiB (keyreq at start " + num(start->second, 1) + " MiB + client.keys with " +
                   (n != r.measurements.end() ? num(n->second, 0) : std::string("?")) + " agents " +
                   num(keys->second, 1) + " MiB)";
      r.targets.push_back(t);
    } else {
      r.targets.push_back(missing(name, req, "memory phase skipped"));
    }
  }
  {
    const auto growth = r.measurements.find("memory.rss_growth_mib");
    const auto n = r.measurements.find("memory.requests");
    const std::string count = n != r.measurements.end() ? num(n->second, 0) : std::string("?");
    const std::string name = "resolver memory flat over many requests";
    const std::string req = "growth <= 1 MiB between 10% and 100% of the requests";
    if (growth != r.measurements.end()) {
      Target t;
      t.name = name;
      t.requirement = req;
      t.value = growth->second;
      t.pass = t.value <= 1.0;
      t.measured = num(t.value, 2) + " MiB over " + count + " requests" +
                   (n != r.measurements.end() && n->second < 1e6 ? " (the full profile runs 1M)" : "");
      r.targets.push_back(t);
    } else {
      r.targets.push_back(missing(name, req, "memory phase skipped"));
    }
  }
}

}  // namespace keyreq::bench
