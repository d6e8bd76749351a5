#include "bench/figures.hpp"

#include <algorithm>
#include <cmath>

#include "bench/gate.hpp"
#include "bench/stats.hpp"

namespace keyreq::bench {

namespace {

using Values = std::vector<double>;

double p50(const Repetition& r) { return r.latency.p50_us; }
double throughput(const Repetition& r) { return r.throughput; }

// Per-repetition ratio of two series' figures (same repetition index: measured side by side).
template <typename Get>
Values per_rep(const Series* a, const Series* b, Get get) {
  Values v;
  if (!a || !b) return v;
  for (std::size_t i = 0; i < std::min(a->reps.size(), b->reps.size()); ++i) {
    const double y = get(b->reps[i]);
    if (y > 0) v.push_back(get(a->reps[i]) / y);
  }
  return v;
}

Values ratio(const Values& a, const Values& b) {
  Values v;
  for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i)
    if (b[i] > 0) v.push_back(a[i] / b[i]);
  return v;
}

class Deriver {
 public:
  explicit Deriver(Report& r) : r_(r) {}

  void add(const std::string& id, const std::string& description, const std::string& better, Values values) {
    const double tolerance = gate_tolerance(id);
    values.erase(std::remove_if(values.begin(), values.end(), [](double v) { return !std::isfinite(v) || v <= 0; }),
                 values.end());
    if (values.empty()) return;
    r_.figures.push_back(Figure{id, description, better, tolerance > 0, tolerance, std::move(values)});
  }
  const Series* find(const std::string& provider, const std::string& transport, const std::string& path, int c = 1,
                     const std::string& variant = "") const {
    return r_.find_series(SeriesKey::closed(provider, transport, path, c, variant));
  }
  // Peak throughput over the closed-loop sweep, per repetition.
  Values peak(const std::string& provider, const std::string& transport, const std::string& path) const {
    Values v;
    for (const auto& s : r_.series) {
      if (s.provider != provider || s.transport != transport || s.path != path || s.mode != "closed" ||
          !s.variant.empty())
        continue;
      for (std::size_t i = 0; i < s.reps.size(); ++i) {
        if (v.size() <= i) v.resize(i + 1, 0);
        v[i] = std::max(v[i], s.reps[i].throughput);
      }
    }
    return v;
  }
  template <typename Pred>
  std::vector<const Series*> select(Pred pred) const {
    std::vector<const Series*> out;
    for (const auto& s : r_.series)
      if (pred(s)) out.push_back(&s);
    return out;
  }

  void transport_ratios(const std::string& provider, const std::string& transport);
  void validate_ratios(const std::string& provider, const std::string& transport);
  void durable_ratio(const std::string& provider);
  void provider_figures(const std::string& provider);
  void calibrated(const std::string& provider);
  void herd();

 private:
  Report& r_;
};

void Deriver::transport_ratios(const std::string& provider, const std::string& transport) {
  const std::string base = provider + "/" + transport;
  const std::string who = provider + " " + transport;
  add(base + "/latency_ratio_c1", who + ": resolver p50 / floor p50, 1 request at a time", "lower",
      per_rep(find(provider, transport, "resolver"), find(provider, transport, "floor"), p50));
  add(base + "/throughput_ratio_peak", who + ": best resolver throughput / best floor throughput over the sweep",
      "higher", ratio(peak(provider, transport, "resolver"), peak(provider, transport, "floor")));
  for (const Series* s : select([&](const Series& s) {
         return s.provider == provider && s.transport == transport && s.path == "resolver" && s.mode == "closed" &&
                s.variant.empty();
       })) {
    const std::string c = std::to_string(s->concurrency);
    add(base + "/throughput_ratio_c" + c, who + ": resolver / floor throughput at concurrency " + c, "higher",
        per_rep(s, find(provider, transport, "floor", s->concurrency), throughput));
  }
}

void Deriver::validate_ratios(const std::string& provider, const std::string& transport) {
  const std::string base = provider + "/" + transport;
  const std::string who = provider + " " + transport;
  const std::string variant = r_.unregistered_variant();
  add(base + "/latency_ratio_c1_validate", who + ": resolver p50 without registration / floor p50, 1 at a time",
      "lower", per_rep(find(provider, transport, "resolver", 1, variant), find(provider, transport, "floor"), p50));
  for (const Series* s : select([&](const Series& s) {
         return s.provider == provider && s.transport == transport && s.path == "resolver" && s.mode == "closed" &&
                s.variant == variant && s.concurrency != 1;
       })) {
    const std::string c = std::to_string(s->concurrency);
    add(base + "/throughput_ratio_c" + c + "_validate",
        who + ": resolver without registration / floor throughput at concurrency " + c, "higher",
        per_rep(s, find(provider, transport, "floor", s->concurrency), throughput));
  }
}

// Durable registration at one request in flight against what it cannot
// avoid: a socket round trip plus one fdatasync of the same file system,
// each measured in the same repetition, back to back (issue 13).
void Deriver::durable_ratio(const std::string& provider) {
  const Series* sync = find(provider, "socket", "fdatasync");
  const Series* floor = find(provider, "socket", "floor");
  const Series* resolver = find(provider, "socket", "resolver");
  if (!sync) return;
  Values sync_p50, floor_plus_sync;
  for (std::size_t i = 0; i < sync->reps.size(); ++i) {
    sync_p50.push_back(p50(sync->reps[i]));
    if (floor && i < floor->reps.size()) floor_plus_sync.push_back(p50(floor->reps[i]) + p50(sync->reps[i]));
  }
  Values resolver_p50;
  if (resolver)
    for (const auto& r : resolver->reps) resolver_p50.push_back(p50(r));
  add(provider + "/fdatasync_p50_us",
      provider +
          ": one client.keys line appended and fdatasync'ed, p50 in µs (client.keys's file system, measured "
          "right after the socket resolver's durable run at concurrency 1)",
      "lower", sync_p50);
  add(provider + "/socket/latency_ratio_c1_durable",
      provider + " socket: resolver p50 with registration / (floor p50 + fdatasync p50), 1 at a time", "lower",
      ratio(resolver_p50, floor_plus_sync));
}

void Deriver::provider_figures(const std::string& provider) {
  for (const std::string transport : {"exec", "socket"}) transport_ratios(provider, transport);
  add(provider + "/speedup_socket_vs_exec_c1",
      provider + ": exec resolver p50 / socket resolver p50, 1 request at a time", "higher",
      per_rep(find(provider, "exec", "resolver"), find(provider, "socket", "resolver"), p50));
  add(provider + "/speedup_socket_vs_exec_peak",
      provider + ": best socket resolver throughput / best exec resolver throughput", "higher",
      ratio(peak(provider, "socket", "resolver"), peak(provider, "exec", "resolver")));
  for (const std::string transport : {"exec", "socket"}) validate_ratios(provider, transport);
  durable_ratio(provider);
  add(provider + "/exec/keys100k_latency_ratio",
      provider + " exec: resolver p50 with 100k agents loaded / without, both validate only", "lower",
      per_rep(find(provider, "exec", "resolver", 1, "keys100k"),
              find(provider, "exec", "resolver", 1, r_.unregistered_variant()), p50));
  calibrated(provider);
}

// Each repetition's p50 of `s` over the median p50 of the run's `unit`
// series: the unit is measured in every repetition, and its median damps a
// repetition where the shared machine stalled the short calibration run.
Values in_units_of(const Series* s, const Series* unit) {
  Values v, u;
  if (!s || !unit) return v;
  for (const auto& r : unit->reps) u.push_back(r.latency.p50_us);
  const double m = median(u);
  if (m <= 0) return v;
  for (const auto& r : s->reps) v.push_back(r.latency.p50_us / m);
  return v;
}

// The user's provider across machines: its floors over a calibration
// measured in the same run (a bare posix_spawn of a trivial static program;
// the built-in reference daemon's round trip).
void Deriver::calibrated(const std::string& provider) {
  add(provider + "/exec/floor_calibrated_p50",
      provider +
          " exec: one call of the provider (floor p50) in units of a bare posix_spawn of a trivial static "
          "program (median p50 of the same run)",
      "lower", in_units_of(find(provider, "exec", "floor"), find("calibration", "exec", "floor")));
  add(provider + "/socket/floor_calibrated_p50",
      provider +
          " socket: one round trip to the provider's daemon (floor p50) in units of a round trip to the "
          "built-in reference daemon (median p50 of the same run)",
      "lower", in_units_of(find(provider, "socket", "floor"), find("calibration", "socket", "floor")));
  add(provider + "/exec/startup_share_p50",
      provider + " exec: the interpreter alone (trivial program, p50) / one call of the provider (floor p50)", "lower",
      per_rep(find(provider, "exec", "startup"), find(provider, "exec", "floor"), p50));
}

void Deriver::herd() {
  for (const HerdRun& h : r_.herd) {
    if (!h.error.empty() && h.durable == 0) continue;
    const std::string base = h.provider + "/herd/" + h.transport;
    const std::vector<double> rates =
        h.repetition_rates.empty() ? std::vector<double>{h.registrations_per_s} : h.repetition_rates;
    const std::vector<double> ratios = herd_floor_ratios(h);
    add(base + "/registrations_per_s",
        h.provider + " herd over " + h.transport + ": agents durably registered per second through keyreq serve",
        "higher", rates);
    add(base + "/ratio_to_floor_peak",
        h.provider + " herd over " + h.transport +
            ": registrations/s / floor throughput of the same provider and transport, measured beside each "
            "repetition (or the run's best)",
        "higher", ratios);
  }
}

}  // namespace

void derive_figures(Report& report) {
  Deriver d(report);
  for (const auto& provider : report.providers) d.provider_figures(provider);
  d.herd();
}

}  // namespace keyreq::bench
