// report.md and index.html content: tables that fit a CI job summary, built
// once as a Document (report_table.hpp) and rendered by both writers.
#include <algorithm>
#include <cmath>
#include <optional>

#include "bench/format.hpp"
#include "bench/report.hpp"
#include "bench/stats.hpp"

namespace keyreq::bench {

namespace {

using Align = Table::Align;
constexpr Align L = Align::left;
constexpr Align R = Align::right;

template <typename Get>
Spread over_reps(const Series& s, Get get) {
  std::vector<double> v;
  for (const auto& r : s.reps) v.push_back(get(r));
  return spread_of(v);
}

std::string with_spread(const std::string& value, const Spread& s) {
  return value + " " + format::plus_minus(s.rel_mad);
}

std::string setting(const std::map<std::string, std::string>& m, const std::string& key) {
  const auto it = m.find(key);
  return it == m.end() ? "?" : it->second;
}

// A percentile of a sample, or "–" when the sample cannot support it.
std::string percentile_cell(const Percentiles& p, double percentile, double value_us) {
  return percentile_supported(percentile, p.count) ? format::micros(value_us) : format::kNone;
}
std::string percentile_cell(const Percentiles& p, double percentile, const std::optional<double>& value_us) {
  return value_us ? percentile_cell(p, percentile, *value_us) : format::kNone;
}

Text hgrm_links(std::initializer_list<std::pair<const char*, const Series*>> series) {
  Text t;
  for (const auto& [label, s] : series) {
    if (s == nullptr || s->hgrm_file.empty()) continue;
    if (!t.spans.empty()) t.add(" · ");
    t.link(label, s->hgrm_file);
  }
  if (t.spans.empty()) t.add(format::kNone);
  return t;
}

void header(Document& doc, const Report& r) {
  doc.title("keyreq bench — " + r.profile + " profile");
  Text when;
  when.add(r.created + " · commit ")
      .code((r.git_commit.empty() ? "?" : r.git_commit.substr(0, 12)) + (r.git_dirty ? " (modified)" : ""))
      .add(" · " + r.build_type + " build · " + setting(r.machine, "cpu") + ", " + setting(r.machine, "cores") +
           " cores · load " + setting(r.machine, "load_at_start") + " → " + setting(r.machine, "load_at_end") + " · " +
           format::fixed(r.elapsed_s, 0) + " s");
  doc.paragraph(when);
  Text how;
  how.code(r.command_line)
      .add(" · " + setting(r.settings, "agents") + " agents · mix " + setting(r.settings, "mix") + " · " +
           setting(r.settings, "registration") + " on " + setting(r.settings, "workdir_fs") + " · " +
           setting(r.settings, "repetitions") +
           " repetitions, medians shown with ± relative MAD over repetitions; percentiles beyond p50 over every "
           "repetition merged, with their sample count n (\"–\": too few samples: p99 needs 100, p99.9 needs 1000)");
  doc.paragraph(how);
}

void targets(Document& doc, const Report& r) {
  doc.heading("Targets (DESIGN.md)");
  Table t;
  t.columns({"verdict", "target", "measured", "required"}, {L, L, L, L});
  for (const auto& x : r.targets) {
    Text verdict;
    if (!x.measured_ok)
      verdict.add("N/A");
    else
      verdict.strong(x.pass ? "PASS" : "FAIL");
    t.row({verdict, x.name, x.measured, x.requirement});
  }
  doc.table(std::move(t));
}

void closed_loop(Document& doc, const Report& r, const std::string& provider) {
  Table t;
  t.columns({"transport", "concurrency", "floor req/s", "resolver req/s", "ratio", "floor p50", "resolver p50", "ratio",
             "resolver p99", "p99.9", "n", "CPU/req resolver side", "CPU/req provider", "histograms"},
            {L, R, R, R, R, R, R, R, R, R, R, R, R, L});
  for (const auto& s : r.series) {
    if (s.provider != provider || s.path != "resolver" || s.mode != "closed") continue;
    const Series* f = r.find_series(provider + "/" + s.transport + "/floor/c" + std::to_string(s.concurrency));
    const auto rt = over_reps(s, [](const Repetition& x) { return x.throughput; });
    const auto rp = over_reps(s, [](const Repetition& x) { return x.latency.p50_us; });
    const auto rcs = over_reps(s, [](const Repetition& x) { return x.cpu_self_us; });
    const auto rcp = over_reps(s, [](const Repetition& x) { return x.cpu_provider_us; });
    const Percentiles all = merged_percentiles(s);
    std::vector<Text> row = {s.transport + (s.variant.empty() ? "" : " (" + s.variant + ")"),
                             std::to_string(s.concurrency)};
    if (f) {
      const auto ft = over_reps(*f, [](const Repetition& x) { return x.throughput; });
      const auto fp = over_reps(*f, [](const Repetition& x) { return x.latency.p50_us; });
      row.insert(row.end(), {with_spread(format::rate(ft.median), ft), with_spread(format::rate(rt.median), rt),
                             format::fixed(ft.median > 0 ? rt.median / ft.median : NAN),
                             with_spread(format::micros(fp.median), fp), with_spread(format::micros(rp.median), rp),
                             format::fixed(fp.median > 0 ? rp.median / fp.median : NAN)});
    } else {
      row.insert(row.end(), {format::kNone, with_spread(format::rate(rt.median), rt), format::kNone, format::kNone,
                             with_spread(format::micros(rp.median), rp), format::kNone});
    }
    row.insert(row.end(), {percentile_cell(all, 99, all.p99_us), percentile_cell(all, 99.9, all.p999_us),
                           std::to_string(all.count), format::micros(rcs.median), format::micros(rcp.median),
                           hgrm_links({{"floor", f}, {"resolver", &s}})});
    t.row(std::move(row));
  }
  if (!t.rows.empty()) doc.table(std::move(t));
}

void open_loop(Document& doc, const Report& r, const std::string& provider) {
  Table t;
  t.columns(
      {"transport", "rate", "achieved", "p50", "p90", "p99", "p99.9", "max", "n", "service p50", "errors", "histogram"},
      {L, R, R, R, R, R, R, R, R, R, R, L});
  for (const auto& s : r.series) {
    if (s.provider != provider || s.mode != "open") continue;
    const auto at = over_reps(s, [](const Repetition& x) { return x.throughput; });
    const auto sp = over_reps(s, [](const Repetition& x) { return x.service.p50_us; });
    std::uint64_t errors = 0;
    for (const auto& x : s.reps) errors += x.errors;
    const Percentiles p = merged_percentiles(s);
    t.row({s.transport, format::percent(s.rate_fraction) + " of max = " + format::rate(s.target_rate) + "/s",
           format::rate(at.median) + "/s", percentile_cell(p, 50, p.p50_us), percentile_cell(p, 90, p.p90_us),
           percentile_cell(p, 99, p.p99_us), percentile_cell(p, 99.9, p.p999_us),
           p.count > 0 ? format::micros(p.max_us) : format::kNone, std::to_string(p.count), format::micros(sp.median),
           std::to_string(errors), hgrm_links({{"hgrm", &s}})});
  }
  if (t.rows.empty()) return;
  doc.paragraph("Open loop (constant rate; latency from the intended send time, coordinated omission corrected):");
  doc.table(std::move(t));
}

// "What this means": sentences made of measured numbers, each with its sources.
void interpretation(Document& doc, const Report& r) {
  if (r.interpretation.empty()) return;
  doc.heading("What this means");
  std::vector<Text> items;
  for (const auto& line : r.interpretation) {
    Text t(line.text + " (source:");
    for (const auto& source : line.sources) t.add(" ").code(source);
    items.push_back(t.add(")"));
  }
  doc.list(std::move(items));
}

// "21.0 + 13.5 µs"; "—" when the first was not measured, "21.0 µs + —" for the second.
std::string cpu_pair(double first_us, double second_us) {
  if (first_us <= 0) return format::kNone;
  return format::micros(first_us) + " + " + (second_us > 0 ? format::micros(second_us) : format::kNone);
}

void herd(Document& doc, const Report& r) {
  if (r.herd.empty()) return;
  doc.heading(Text("Herd: N distinct agents at once through ").code("keyreq serve"));
  doc.paragraph(Text("Durable = serve's ")
                    .code("registered")
                    .add(" log line, written after the fdatasync of client.keys, read by bench as it is written. "
                         "The ratio divides the median repetition by the floor measured beside it (series ")
                    .code("floor/cN/herd")
                    .add(") when the herd was repeated, else by the run's best floor. CPU is per durable agent "
                         "(herd) and per request (that floor); \"CPU allows\" is the ratio the CPU would allow with "
                         "both cores busy: (floor client + provider) / (serve + provider)."));
  Table t;
  t.columns({"provider", "transport", "sent / N", "durable", "failed", "dropped", "time", "registrations/s",
             "ratio to floor", "datagram → durable p50", "p99", "max", "n", "queue wait p50",
             "CPU/agent serve + provider", "requester CPU/agent", "floor CPU/request client + provider", "CPU allows"},
            {L, L});
  for (const auto& h : r.herd) {
    const Percentiles& d = h.to_durable;
    const double cpu_bound = herd_cpu_bound(h);
    std::string time = format::fixed(h.seconds, 2) + " s";
    if (h.extrapolated) time += " (all N: ~" + format::fixed(h.seconds_for_requested, 0) + " s, extrapolated)";
    t.row({h.provider, h.transport, std::to_string(h.sent) + " / " + std::to_string(h.requested),
           std::to_string(h.durable), std::to_string(h.failed), std::to_string(h.dropped), time,
           format::rate(h.registrations_per_s),
           h.floor_peak_throughput > 0 ? format::fixed(h.registrations_per_s / h.floor_peak_throughput) : format::kNone,
           percentile_cell(d, 50, d.p50_us), percentile_cell(d, 99, d.p99_us),
           d.count > 0 ? format::micros(d.max_us) : format::kNone, std::to_string(d.count),
           percentile_cell(h.queue_wait, 50, h.queue_wait.p50_us), cpu_pair(h.serve_cpu_us, h.provider_cpu_us),
           h.requester_cpu_us > 0 ? format::micros(h.requester_cpu_us) : format::kNone,
           cpu_pair(h.floor_client_cpu_us, h.floor_provider_cpu_us),
           cpu_bound > 0 ? format::fixed(cpu_bound) : format::kNone});
    if (!h.error.empty()) t.rows.back()[6] = Text("could not run: " + h.error);
  }
  doc.table(std::move(t));
}

void figures(Document& doc, const Report& r) {
  doc.heading("Ratios measured side by side (per repetition; gate figures marked ●)");
  Table t;
  t.columns({"figure", "median", "spread", "min", "max", "n", "better"}, {L, R, R, R, R, R, L});
  for (const auto& f : r.figures) {
    const Spread s = spread_of(f.values);
    Text name;
    name.add(f.gated ? "● " : "").code(f.id).add(" — " + f.description);
    t.row({name, format::fixed(s.median, 3), format::plus_minus(s.rel_mad), format::fixed(s.min, 3),
           format::fixed(s.max, 3), std::to_string(s.n), f.better});
  }
  doc.table(std::move(t));
}

void micro(Document& doc, const Report& r) {
  if (r.micro.empty()) return;
  doc.heading("Microbenchmarks (Google Benchmark)");
  Table t;
  t.columns({"benchmark", "CPU time (median)", "spread", "real time (median)", "spread", "repetitions"},
            {L, R, R, R, R, R});
  for (const auto& m : r.micro) {
    const Spread c = spread_of(m.cpu_ns), s = spread_of(m.ns);
    t.row({Text().code(m.name), format::nanos(c.median), format::plus_minus(c.rel_mad), format::nanos(s.median),
           format::plus_minus(s.rel_mad), std::to_string(s.n)});
  }
  doc.table(std::move(t));
}

void null_provider(Document& doc, const Report& r) {
  Table t;
  t.columns({"what", "workers", "req/s", "p50", "p99", "n", "CPU/req"}, {L, R, R, R, R, R, R});
  for (const auto& s : r.series) {
    if (s.provider != "null") continue;
    const auto thr = over_reps(s, [](const Repetition& x) { return x.throughput; });
    const auto p50 = over_reps(s, [](const Repetition& x) { return x.latency.p50_us; });
    const auto cpu = over_reps(s, [](const Repetition& x) { return x.cpu_self_us; });
    const Percentiles all = merged_percentiles(s);
    t.row({s.path == "loadgen" ? "load generator" : "resolver, null provider", std::to_string(s.concurrency),
           with_spread(format::rate(thr.median), thr), format::micros(p50.median), percentile_cell(all, 99, all.p99_us),
           std::to_string(all.count), format::micros(cpu.median)});
  }
  if (t.rows.empty()) return;
  doc.heading("Load generator alone (probe that does nothing) and resolver alone (canned answers, validate only)");
  doc.table(std::move(t));
}

void measurements_and_notes(Document& doc, const Report& r) {
  if (!r.measurements.empty()) {
    doc.heading("Other measurements");
    Table t;
    t.columns({"figure", "value"}, {L, R});
    for (const auto& [k, v] : r.measurements) t.row({Text().code(k), format::fixed(v, 2)});
    doc.table(std::move(t));
  }
  if (!r.notes.empty()) {
    doc.heading("Notes");
    std::vector<Text> items(r.notes.begin(), r.notes.end());
    doc.list(std::move(items));
  }
}

}  // namespace

Document report_document(const Report& r) {
  Document doc;
  header(doc, r);
  targets(doc, r);
  interpretation(doc, r);
  herd(doc, r);
  doc.charts();
  // Side by side per provider and transport: floor and resolver at each concurrency.
  for (const auto& provider : r.providers) {
    doc.heading(provider + " provider");
    closed_loop(doc, r, provider);
    open_loop(doc, r, provider);
  }
  figures(doc, r);
  micro(doc, r);
  null_provider(doc, r);
  measurements_and_notes(doc, r);
  return doc;
}

std::string report_markdown(const Report& r) { return render_markdown(report_document(r)); }

}  // namespace keyreq::bench
