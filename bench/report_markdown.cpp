// report.md: tables that fit a CI job summary.
#include <cmath>
#include <cstdio>
#include <sstream>

#include "bench/report.hpp"
#include "bench/stats.hpp"

namespace keyreq::bench {

namespace {

std::string num(double v, int digits = 2) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

std::string us(double v) {
  char buf[64];
  if (std::isnan(v)) return "–";  // a percentile the sample cannot support
  if (v >= 10000) std::snprintf(buf, sizeof buf, "%.1f ms", v / 1000);
  else if (v >= 100) std::snprintf(buf, sizeof buf, "%.0f µs", v);
  else if (v >= 1 || v == 0) std::snprintf(buf, sizeof buf, "%.1f µs", v);
  else std::snprintf(buf, sizeof buf, "%.0f ns", v * 1000);
  return buf;
}

std::string per_s(double v) {
  char buf[64];
  if (v >= 10000) std::snprintf(buf, sizeof buf, "%.1fk", v / 1000);
  else if (v >= 100) std::snprintf(buf, sizeof buf, "%.0f", v);
  else std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

std::string pm(const Spread& s) { return "±" + num(100 * s.rel_mad, 0) + "%"; }

double or_nan(const std::optional<double>& v) { return v ? *v : std::nan(""); }

// Over the repetitions that have the figure (a tail percentile is missing
// where the repetition had too few samples); NaN median when none has it.
template <typename Get>
Spread over_reps(const Series& s, Get get) {
  std::vector<double> v;
  for (const auto& r : s.reps)
    if (const double x = get(r); !std::isnan(x)) v.push_back(x);
  if (v.empty() && !s.reps.empty()) {
    Spread none;
    none.median = std::nan("");
    return none;
  }
  return spread_of(v);
}

}  // namespace

std::string report_markdown(const Report& r) {
  std::ostringstream md;
  md << "# keyreq bench — " << r.profile << " profile\n\n";
  md << r.created << " · commit `" << (r.git_commit.empty() ? "?" : r.git_commit.substr(0, 12))
     << (r.git_dirty ? " (modified)" : "") << "` · " << (r.machine.count("cpu") ? r.machine.at("cpu") : "") << ", "
     << (r.machine.count("cores") ? r.machine.at("cores") : "?") << " cores · load "
     << (r.machine.count("load_at_start") ? r.machine.at("load_at_start") : "?") << " → "
     << (r.machine.count("load_at_end") ? r.machine.at("load_at_end") : "?") << " · " << num(r.elapsed_s, 0)
     << " s\n\n";
  md << "`" << r.command_line << "` · " << (r.settings.count("agents") ? r.settings.at("agents") : "?")
     << " agents · mix " << (r.settings.count("mix") ? r.settings.at("mix") : "?") << " · "
     << (r.settings.count("registration") ? r.settings.at("registration") : "") << " on "
     << (r.settings.count("workdir_fs") ? r.settings.at("workdir_fs") : "?") << " · "
     << (r.settings.count("repetitions") ? r.settings.at("repetitions") : "?")
     << " repetitions, medians shown with ± relative MAD over repetitions\n\n";

  md << "## Targets (DESIGN.md)\n\n| verdict | target | measured | required |\n|---|---|---|---|\n";
  for (const auto& t : r.targets) {
    md << "| " << (!t.measured_ok ? "N/A" : t.pass ? "**PASS**" : "**FAIL**") << " | " << t.name << " | "
       << t.measured << " | " << t.requirement << " |\n";
  }
  md << "\n";

  if (!r.interpretation.empty()) {
    md << "## What this means\n\n";
    for (const auto& line : r.interpretation) {
      md << "- " << line.text << " (source:";
      for (const auto& s : line.sources) md << " `" << s << "`";
      md << ")\n";
    }
    md << "\n";
  }
  if (!r.herd.empty()) {
    md << "## Herd: N distinct agents at once through `keyreq serve`\n\n"
       << "Durable = serve's `registered` log line, written after the fdatasync of client.keys, read by bench as it "
          "is written.\n\n"
       << "| provider | transport | sent / N | durable | failed | dropped | time | registrations/s | ratio to floor "
          "peak | datagram → durable p50 | p99 | max | queue wait p50 |\n"
       << "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
    for (const auto& h : r.herd) {
      md << "| " << h.provider << " | " << h.transport << " | " << h.sent << " / " << h.requested << " | " << h.durable
         << " | " << h.failed << " | " << h.dropped << " | " << num(h.seconds, 2) << " s"
         << (h.extrapolated ? " (all N: ~" + num(h.seconds_for_requested, 0) + " s, extrapolated)" : "") << " | "
         << per_s(h.registrations_per_s) << " | "
         << (h.floor_peak_throughput > 0 ? num(h.registrations_per_s / h.floor_peak_throughput) : "–") << " | "
         << us(h.to_durable.p50_us) << " | " << us(or_nan(h.to_durable.p99_us)) << " | " << us(h.to_durable.max_us)
         << " | " << us(h.queue_wait.p50_us) << " |\n";
    }
    md << "\n";
  }

  // Side by side per provider and transport: floor and resolver at each concurrency.
  for (const auto& provider : r.providers) {
    md << "## " << provider << " provider\n\n";
    md << "| transport | concurrency | floor req/s | resolver req/s | ratio | floor p50 | resolver p50 | ratio | "
          "resolver p99 | p99.9 | CPU/req resolver side | CPU/req provider |\n";
    md << "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
    for (const auto& s : r.series) {
      if (s.provider != provider || s.path != "resolver" || s.mode != "closed") continue;
      const std::string floor_id = provider + "/" + s.transport + "/floor/c" + std::to_string(s.concurrency);
      const Series* f = r.find_series(floor_id);
      const auto rt = over_reps(s, [](const Repetition& x) { return x.throughput; });
      const auto rp = over_reps(s, [](const Repetition& x) { return x.latency.p50_us; });
      const auto r99 = over_reps(s, [](const Repetition& x) { return or_nan(x.latency.p99_us); });
      const auto r999 = over_reps(s, [](const Repetition& x) { return or_nan(x.latency.p999_us); });
      const auto rcs = over_reps(s, [](const Repetition& x) { return x.cpu_self_us; });
      const auto rcp = over_reps(s, [](const Repetition& x) { return x.cpu_provider_us; });
      md << "| " << s.transport << (s.variant.empty() ? "" : " (" + s.variant + ")") << " | " << s.concurrency
         << " | ";
      if (f) {
        const auto ft = over_reps(*f, [](const Repetition& x) { return x.throughput; });
        const auto fp = over_reps(*f, [](const Repetition& x) { return x.latency.p50_us; });
        md << per_s(ft.median) << " " << pm(ft) << " | " << per_s(rt.median) << " " << pm(rt) << " | "
           << num(ft.median > 0 ? rt.median / ft.median : 0) << " | " << us(fp.median) << " " << pm(fp) << " | "
           << us(rp.median) << " " << pm(rp) << " | " << num(fp.median > 0 ? rp.median / fp.median : 0) << " | ";
      } else {
        md << "– | " << per_s(rt.median) << " " << pm(rt) << " | – | – | " << us(rp.median) << " " << pm(rp)
           << " | – | ";
      }
      md << us(r99.median) << " | " << us(r999.median) << " | " << us(rcs.median) << " | " << us(rcp.median)
         << " |\n";
    }
    bool open_header = false;
    for (const auto& s : r.series) {
      if (s.provider != provider || s.mode != "open") continue;
      if (!open_header) {
        md << "\nOpen loop (constant rate; latency from the intended send time, coordinated omission corrected):\n\n"
           << "| transport | rate | achieved | p50 | p90 | p99 | p99.9 | max | service p50 | errors |\n"
           << "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
        open_header = true;
      }
      const auto at = over_reps(s, [](const Repetition& x) { return x.throughput; });
      std::uint64_t errors = 0;
      for (const auto& x : s.reps) errors += x.errors;
      const auto p = percentiles_of(s.histogram);
      const auto sp = over_reps(s, [](const Repetition& x) { return x.service.p50_us; });
      md << "| " << s.transport << " | " << num(100 * s.rate_fraction, 0) << "% of max = " << per_s(s.target_rate)
         << "/s | " << per_s(at.median) << "/s | ";
      if (p.count > 0) {
        md << us(p.p50_us) << " | " << us(or_nan(p.p90_us)) << " | " << us(or_nan(p.p99_us)) << " | "
           << us(or_nan(p.p999_us)) << " | "
           << us(p.max_us);
      } else {
        // read back from report.json: no histogram, medians of the repetitions instead
        md << us(over_reps(s, [](const Repetition& x) { return x.latency.p50_us; }).median) << " | – | "
           << us(over_reps(s, [](const Repetition& x) { return or_nan(x.latency.p99_us); }).median) << " | – | –";
      }
      md << " | " << us(sp.median) << " | " << errors << " |\n";
    }
    md << "\n";
  }

  md << "## Ratios measured side by side (per repetition; gate figures marked ●)\n\n"
     << "| figure | median | spread | min | max | better |\n|---|---:|---:|---:|---:|---|\n";
  for (const auto& f : r.figures) {
    const Spread s = spread_of(f.values);
    md << "| " << (f.gated ? "● " : "") << "`" << f.id << "` — " << f.description << " | " << num(s.median, 3)
       << " | " << pm(s) << " | " << num(s.min, 3) << " | " << num(s.max, 3) << " | " << f.better << " |\n";
  }
  md << "\n";

  if (!r.micro.empty()) {
    md << "## Microbenchmarks (Google Benchmark)\n\n| benchmark | CPU time (median) | spread | real time (median) | "
          "spread | repetitions |\n|---|---:|---:|---:|---:|---:|\n";
    auto t = [](double ns) { return ns >= 10000 ? num(ns / 1000, 1) + " µs" : num(ns, 1) + " ns"; };
    for (const auto& m : r.micro) {
      const Spread c = spread_of(m.cpu_ns), s = spread_of(m.ns);
      md << "| `" << m.name << "` | " << t(c.median) << " | " << pm(c) << " | " << t(s.median) << " | " << pm(s)
         << " | " << s.n << " |\n";
    }
    md << "\n";
  }

  bool null_header = false;
  for (const auto& s : r.series) {
    if (s.provider != "null") continue;
    if (!null_header) {
      md << "## Load generator alone (probe that does nothing) and resolver alone (canned answers, validate only)\n\n"
         << "| what | workers | req/s | p50 | p99 | CPU/req |\n|---|---:|---:|---:|---:|---:|\n";
      null_header = true;
    }
    const auto t = over_reps(s, [](const Repetition& x) { return x.throughput; });
    const auto p50 = over_reps(s, [](const Repetition& x) { return x.latency.p50_us; });
    const auto p99 = over_reps(s, [](const Repetition& x) { return or_nan(x.latency.p99_us); });
    const auto cpu = over_reps(s, [](const Repetition& x) { return x.cpu_self_us; });
    md << "| " << (s.path == "loadgen" ? "load generator" : "resolver, null provider") << " | " << s.concurrency
       << " | " << per_s(t.median) << " " << pm(t) << " | " << us(p50.median) << " | "
       << us(p99.median) << " | " << us(cpu.median) << " |\n";
  }
  if (null_header) md << "\n";

  if (!r.measurements.empty()) {
    md << "## Other measurements\n\n| figure | value |\n|---|---:|\n";
    for (const auto& [k, v] : r.measurements) md << "| `" << k << "` | " << num(v, 2) << " |\n";
    md << "\n";
  }
  if (!r.notes.empty()) {
    md << "## Notes\n\n";
    for (const auto& n : r.notes) md << "- " << n << "\n";
    md << "\n";
  }
  return md.str();
}

}  // namespace keyreq::bench
