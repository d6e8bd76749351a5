#include "bench/interpretation.hpp"

#include "bench/format.hpp"
#include "bench/stats.hpp"

namespace keyreq::bench {

namespace {

std::string time_text(double us) { return format::micros(us); }
std::string num_text(double v, int digits) { return format::fixed(v, digits); }

const Series* closed(const Report& r, const std::string& provider, const std::string& transport,
                     const std::string& path, int c = 1) {
  return r.find_series(SeriesKey::closed(provider, transport, path, c));
}
double median_p50(const Series* s) {
  std::vector<double> v;
  if (s)
    for (const auto& rep : s->reps) v.push_back(rep.latency.p50_us);
  return median(v);
}
double median_throughput(const Series* s) { return s ? median(s->throughputs()) : median({}); }

// Makes `s` a source of `line` when it was measured (a median p50 above 0).
bool cite(Interpretation& line, const Series* s) {
  if (!s || median_p50(s) <= 0) return false;
  line.sources.push_back(s->id);
  return true;
}

void exec_cost(Report& r, const std::string& p) {
  Interpretation line;
  const Series* floor = closed(r, p, "exec", "floor");
  if (!cite(line, floor)) return;
  line.text = p + " over exec: one call costs " + time_text(median_p50(floor)) + " (p50, bare spawn + read + wait)";
  if (const Series* startup = closed(r, p, "exec", "startup"); cite(line, startup)) {
    const auto known = r.settings.find("interpreter." + p);
    const std::string interpreter = known != r.settings.end() ? known->second : std::string("the interpreter");
    const double share = median_p50(startup) / median_p50(floor);
    line.text += "; " + interpreter + " starting and running a trivial program takes " +
                 time_text(median_p50(startup)) +
                 (share < 1 ? " of it (" + num_text(100 * share, 0) + "%)"
                            : ", as long as the whole call within this run's noise (start-up is nearly all of it)");
  }
  if (const Series* calibration = closed(r, "calibration", "exec", "floor"); cite(line, calibration))
    line.text += "; a bare posix_spawn of a trivial static program takes " + time_text(median_p50(calibration));
  if (const Series* resolver = closed(r, p, "exec", "resolver"); cite(line, resolver))
    line.text += "; through keyreq's resolver (with registration) " + time_text(median_p50(resolver));
  r.interpretation.push_back(line);
}

void socket_speedup(Report& r, const std::string& p) {
  Interpretation line;
  const Series* floor = closed(r, p, "socket", "floor");
  if (!cite(line, floor)) return;
  line.text = p + " over socket: one round trip costs " + time_text(median_p50(floor)) + " (p50)";
  if (const Series* calibration = closed(r, "calibration", "socket", "floor"); cite(line, calibration))
    line.text += ", " + num_text(median_p50(floor) / median_p50(calibration), 1) +
                 "× the built-in reference daemon's " + time_text(median_p50(calibration));
  std::string speedups;
  for (const auto& s : r.series) {
    if (!s.in_closed_sweep(p, "socket", "resolver")) continue;
    const Series* exec = closed(r, p, "exec", "resolver", s.concurrency);
    if (!exec || median_throughput(exec) <= 0) continue;
    speedups += (speedups.empty() ? "" : ", ") + std::string("c") + std::to_string(s.concurrency) + " " +
                num_text(median_throughput(&s) / median_throughput(exec), 1) + "×";
    line.sources.push_back(s.id);
    line.sources.push_back(exec->id);
  }
  if (!speedups.empty()) line.text += "; resolver throughput over socket / over exec: " + speedups;
  r.interpretation.push_back(line);
}

void wrong_answers(Report& r, const std::string& p) {
  std::uint64_t errors = 0, requests = 0;
  std::string first;
  Interpretation line;
  for (const auto& s : r.series) {
    if (s.provider != p || s.path != "resolver") continue;
    std::uint64_t e = 0;
    for (const auto& rep : s.reps) {
      e += rep.errors;
      requests += rep.requests;
      if (first.empty() && !rep.first_error.empty()) first = rep.first_error;
    }
    if (e > 0) line.sources.push_back(s.id);
    errors += e;
  }
  if (errors == 0) return;
  line.text = p + ": " + std::to_string(errors) + " of " + std::to_string(requests) +
              " requests through the resolver did not get the dataset's answer (wrong agent, declined known agent, "
              "refused answer, …); first: " +
              first;
  r.interpretation.push_back(line);
}

void herd(Report& r, const HerdRun& h) {
  Interpretation line;
  line.sources = {h.provider + "/herd/" + h.transport};
  if (h.durable == 0) {
    line.text = h.provider + " herd over " + h.transport + ": nothing registered (" + h.error + ")";
    r.interpretation.push_back(line);
    return;
  }
  line.text = h.provider + " herd over " + h.transport + " through keyreq serve: " + std::to_string(h.durable) +
              " of " + std::to_string(h.sent) + " agents durable in " + num_text(h.seconds, 2) + " s (" +
              num_text(h.registrations_per_s, 0) + " registrations/s";
  if (h.floor_peak_throughput > 0) {
    line.text += ", " + num_text(h.registrations_per_s / h.floor_peak_throughput, 2) + " of the " + h.transport +
                 (h.repetition_floors.empty() ? " floor's best " : " floor measured beside it, ") +
                 num_text(h.floor_peak_throughput, 0) + "/s";
  }
  line.text += "); datagram → durable p50 " + time_text(h.to_durable.p50_us) + ", max " +
               time_text(h.to_durable.max_us) + ", of which waiting in serve's queue p50 " +
               time_text(h.queue_wait.p50_us);
  if (h.extrapolated) {
    line.text += "; all " + std::to_string(h.requested) + " would take about " + num_text(h.seconds_for_requested, 0) +
                 " s (extrapolated at the measured rate)";
  }
  if (h.failed > 0) line.text += "; " + std::to_string(h.failed) + " failed or dropped";
  if (const double bound = herd_cpu_bound(h); bound > 0) {
    const std::string requester =
        h.requester_cpu_us > 0 ? " and bench's requester (datagram sender, log reader) " + time_text(h.requester_cpu_us)
                               : "";
    line.text += ". CPU per agent: serve " + time_text(h.serve_cpu_us) + ", the provider " +
                 time_text(h.provider_cpu_us) + requester + ", against " + time_text(h.floor_client_cpu_us) +
                 " for the floor's client and " + time_text(h.floor_provider_cpu_us) +
                 " for the provider per request: with every core busy, the CPU alone allows " + num_text(bound, 2) +
                 " of the floor";
  }
  r.interpretation.push_back(line);
}

}  // namespace

void interpret(Report& report) {
  report.interpretation.clear();
  for (const auto& p : report.providers) {
    exec_cost(report, p);
    socket_speedup(report, p);
    wrong_answers(report, p);
  }
  for (const auto& h : report.herd) herd(report, h);
}

}  // namespace keyreq::bench
