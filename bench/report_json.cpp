// report.json: the versioned result model, written and read back (the gate).
#include <charconv>
#include <cmath>

#include <nlohmann/json.hpp>

#include "bench/report.hpp"
#include "bench/stats.hpp"

namespace keyreq::bench {

using nlohmann::json;

namespace {

// A measured number, or null when it was not measured (NaN in the model).
json number_or_null(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }
double number_from(const json& j, const char* key) {
  const auto it = j.find(key);
  return it == j.end() || it->is_null() ? NAN : it->get<double>();
}
// Read back where the model keeps 0 for "does not apply" (closed loop: no rate).
double zero_if_null(const json& j, const char* key) {
  const double v = number_from(j, key);
  return std::isnan(v) ? 0.0 : v;
}
json text_or_null(const std::string& s) { return s.empty() ? json(nullptr) : json(s); }
json positive_or_null(double v) { return v > 0 ? json(v) : json(nullptr); }  // 0: not measured
std::string text_from(const json& j, const char* key) {
  const auto it = j.find(key);
  return it == j.end() || it->is_null() ? std::string() : it->get<std::string>();
}

json optional_json(const std::optional<double>& v) { return v ? json(*v) : json(nullptr); }
std::optional<double> optional_from(const json& j, const char* key) {
  const auto it = j.find(key);
  if (it == j.end() || !it->is_number()) return std::nullopt;
  return it->get<double>();
}

// Percentiles of `count` samples: null for any the sample cannot support
// (percentile_supported; percentiles_of already leaves the tails empty), all
// null for an empty sample.
json to_json(const Percentiles& p) {
  const bool any = p.count > 0;
  return {{"count", p.count},
          {"mean_us", any ? number_or_null(p.mean_us) : json(nullptr)},
          {"p50_us", percentile_supported(50, p.count) ? number_or_null(p.p50_us) : json(nullptr)},
          {"p90_us", percentile_supported(90, p.count) ? optional_json(p.p90_us) : json(nullptr)},
          {"p99_us", percentile_supported(99, p.count) ? optional_json(p.p99_us) : json(nullptr)},
          {"p999_us", percentile_supported(99.9, p.count) ? optional_json(p.p999_us) : json(nullptr)},
          {"max_us", any ? number_or_null(p.max_us) : json(nullptr)}};
}

Percentiles percentiles_from(const json& j) {
  Percentiles p;
  p.count = j.value("count", std::uint64_t{0});
  p.mean_us = number_from(j, "mean_us");
  p.p50_us = number_from(j, "p50_us");
  p.p90_us = optional_from(j, "p90_us");
  p.p99_us = optional_from(j, "p99_us");
  p.p999_us = optional_from(j, "p999_us");
  p.max_us = number_from(j, "max_us");
  return p;
}

json spread_json(const std::vector<double>& v) {
  if (v.empty()) return {{"median", nullptr}, {"min", nullptr}, {"max", nullptr}, {"rel_mad", nullptr}, {"n", 0}};
  const Spread s = spread_of(v);
  return {{"median", s.median}, {"min", s.min}, {"max", s.max}, {"rel_mad", s.rel_mad}, {"n", s.n}};
}

// Machine facts and settings are kept as text in the model (as the probes
// print them); a value that is a whole number or a decimal is written as a
// JSON number, anything else ("7.54 6.87 6.67", "24684092 kB") as a string.
json typed(const std::map<std::string, std::string>& m) {
  json o = json::object();
  for (const auto& [k, v] : m) {
    double d = 0;
    const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), d);
    const bool number = !v.empty() && ec == std::errc() && end == v.data() + v.size() && std::isfinite(d);
    const bool whole = number && d == std::trunc(d) && std::fabs(d) < 9e15;
    o[k] = whole ? json(static_cast<std::int64_t>(d)) : number ? json(d) : json(v);
  }
  return o;
}

std::map<std::string, std::string> untyped(const json& j) {
  std::map<std::string, std::string> m;
  for (const auto& [k, v] : j.items()) m[k] = v.is_string() ? v.get<std::string>() : v.dump();
  return m;
}

json series_json(const Series& s) {
  const bool open = s.mode == "open";
  json reps = json::array();
  std::vector<double> thr, p50, p99, cpu_self, cpu_prov;
  for (const auto& rep : s.reps) {
    reps.push_back({{"requests", rep.requests},
                    {"errors", rep.errors},
                    {"wall_s", rep.wall_s},
                    {"throughput", rep.throughput},
                    {"latency", to_json(rep.latency)},
                    {"service", to_json(rep.service)},
                    {"cpu_self_us", rep.cpu_self_us},
                    {"cpu_provider_us", rep.cpu_provider_us},
                    {"outcomes", rep.outcomes},
                    {"first_error", text_or_null(rep.first_error)}});
    thr.push_back(rep.throughput);
    p50.push_back(rep.latency.p50_us);
    if (rep.latency.p99_us) p99.push_back(*rep.latency.p99_us);
    cpu_self.push_back(rep.cpu_self_us);
    cpu_prov.push_back(rep.cpu_provider_us);
  }
  return {{"id", s.id},
          {"provider", s.provider},
          {"transport", s.transport},
          {"path", s.path},
          {"mode", s.mode},
          {"concurrency", s.concurrency},
          // closed loop: no rate asked for
          {"rate_fraction", open ? json(s.rate_fraction) : json(nullptr)},
          {"target_rate", open ? json(s.target_rate) : json(nullptr)},
          {"variant", text_or_null(s.variant)},
          {"hgrm", text_or_null(s.hgrm_file)},
          {"all_repetitions", to_json(merged_percentiles(s))},
          {"summary",
           {{"throughput", spread_json(thr)},
            {"p50_us", spread_json(p50)},
            {"p99_us", spread_json(p99)},
            {"cpu_self_us", spread_json(cpu_self)},
            {"cpu_provider_us", spread_json(cpu_prov)}}},
          {"repetitions", reps}};
}

json herd_json(const HerdRun& h) {
  return {{"provider", h.provider},
          {"transport", h.transport},
          {"requested", h.requested},
          {"sent", h.sent},
          {"durable", h.durable},
          {"failed", h.failed},
          {"dropped", h.dropped},
          {"seconds", h.seconds},
          {"registrations_per_s", h.registrations_per_s},
          {"repetition_rates", h.repetition_rates},
          {"extrapolated", h.extrapolated},
          {"seconds_for_requested", h.extrapolated ? json(h.seconds_for_requested) : json(nullptr)},
          {"to_durable", to_json(h.to_durable)},
          {"queue_wait", to_json(h.queue_wait)},
          {"in_serve", to_json(h.in_serve)},
          {"floor_peak_throughput", h.floor_peak_throughput > 0 ? json(h.floor_peak_throughput) : json(nullptr)},
          {"repetition_floors", h.repetition_floors},
          {"cpu_us",
           {{"serve", positive_or_null(h.serve_cpu_us)},
            {"provider", positive_or_null(h.provider_cpu_us)},
            {"requester", positive_or_null(h.requester_cpu_us)},
            {"floor_client", positive_or_null(h.floor_client_cpu_us)},
            {"floor_provider", positive_or_null(h.floor_provider_cpu_us)}}},
          {"error", text_or_null(h.error)}};
}

Series series_from(const json& s) {
  Series x;
  x.id = s.at("id").get<std::string>();
  x.provider = s.value("provider", "");
  x.transport = s.value("transport", "");
  x.path = s.value("path", "");
  x.mode = s.value("mode", "");
  x.concurrency = s.value("concurrency", 1);
  x.rate_fraction = zero_if_null(s, "rate_fraction");
  x.target_rate = zero_if_null(s, "target_rate");
  x.variant = text_from(s, "variant");
  x.hgrm_file = text_from(s, "hgrm");
  x.all_repetitions = percentiles_from(s.value("all_repetitions", json::object()));
  for (const auto& rep : s.value("repetitions", json::array())) {
    Repetition y;
    y.requests = rep.value("requests", std::uint64_t{0});
    y.errors = rep.value("errors", std::uint64_t{0});
    y.wall_s = number_from(rep, "wall_s");
    y.throughput = number_from(rep, "throughput");
    y.latency = percentiles_from(rep.value("latency", json::object()));
    y.service = percentiles_from(rep.value("service", json::object()));
    y.cpu_self_us = number_from(rep, "cpu_self_us");
    y.cpu_provider_us = number_from(rep, "cpu_provider_us");
    if (rep.contains("outcomes")) y.outcomes = rep["outcomes"].get<std::map<std::string, std::uint64_t>>();
    y.first_error = text_from(rep, "first_error");
    x.reps.push_back(std::move(y));
  }
  return x;
}

HerdRun herd_from(const json& h) {
  HerdRun x;
  x.provider = h.value("provider", "");
  x.transport = h.value("transport", "");
  x.requested = h.value("requested", std::uint64_t{0});
  x.sent = h.value("sent", std::uint64_t{0});
  x.durable = h.value("durable", std::uint64_t{0});
  x.failed = h.value("failed", std::uint64_t{0});
  x.dropped = h.value("dropped", std::uint64_t{0});
  x.seconds = number_from(h, "seconds");
  x.registrations_per_s = number_from(h, "registrations_per_s");
  if (h.contains("repetition_rates")) x.repetition_rates = h.at("repetition_rates").get<std::vector<double>>();
  x.extrapolated = h.value("extrapolated", false);
  x.seconds_for_requested = zero_if_null(h, "seconds_for_requested");
  x.to_durable = percentiles_from(h.value("to_durable", json::object()));
  x.queue_wait = percentiles_from(h.value("queue_wait", json::object()));
  x.in_serve = percentiles_from(h.value("in_serve", json::object()));
  x.floor_peak_throughput = zero_if_null(h, "floor_peak_throughput");
  if (h.contains("repetition_floors")) x.repetition_floors = h.at("repetition_floors").get<std::vector<double>>();
  const json cpu = h.value("cpu_us", json::object());
  x.serve_cpu_us = zero_if_null(cpu, "serve");
  x.provider_cpu_us = zero_if_null(cpu, "provider");
  x.requester_cpu_us = zero_if_null(cpu, "requester");
  x.floor_client_cpu_us = zero_if_null(cpu, "floor_client");
  x.floor_provider_cpu_us = zero_if_null(cpu, "floor_provider");
  x.error = text_from(h, "error");
  return x;
}

}  // namespace

std::string report_json(const Report& r) {
  json j;
  j["schema"] = "keyreq-bench";
  j["schema_version"] = r.schema_version;
  j["created"] = r.created;
  j["command_line"] = r.command_line;
  j["profile"] = r.profile;
  j["elapsed_s"] = r.elapsed_s;
  j["machine"] = typed(r.machine);
  j["versions"] = r.versions;  // "3.11" is a version, not a number
  j["settings"] = typed(r.settings);
  j["build"] = {{"type", r.build_type}};
  j["git"] = {{"commit", text_or_null(r.git_commit)}, {"dirty", r.git_dirty}};
  j["providers"] = r.providers;
  j["notes"] = r.notes;
  json series = json::array();
  for (const auto& s : r.series) series.push_back(series_json(s));
  j["series"] = series;
  json figures = json::array();
  for (const auto& f : r.figures) {
    figures.push_back({{"id", f.id},
                       {"description", f.description},
                       {"better", f.better},
                       {"gated", f.gated},
                       {"tolerance", f.tolerance},
                       {"values", f.values},
                       {"summary", spread_json(f.values)}});
  }
  j["figures"] = figures;
  json micro = json::array();
  for (const auto& m : r.micro) {
    micro.push_back({{"name", m.name},
                     {"ns", m.ns},
                     {"cpu_ns", m.cpu_ns},
                     {"summary", spread_json(m.ns)},
                     {"cpu_summary", spread_json(m.cpu_ns)}});
  }
  j["micro"] = micro;
  json measurements = json::object();
  for (const auto& [k, v] : r.measurements) measurements[k] = number_or_null(v);
  j["measurements"] = measurements;
  json targets = json::array();
  for (const auto& t : r.targets) {
    targets.push_back({{"name", t.name},
                       {"requirement", t.requirement},
                       {"measured", t.measured},
                       {"value", t.measured_ok ? number_or_null(t.value) : json(nullptr)},
                       {"measured_ok", t.measured_ok},
                       {"verdict", !t.measured_ok ? "N/A"
                                   : t.pass       ? "PASS"
                                                  : "FAIL"}});
  }
  j["targets"] = targets;
  json herd = json::array();
  for (const auto& h : r.herd) herd.push_back(herd_json(h));
  j["herd"] = herd;
  json interpretation = json::array();
  for (const auto& line : r.interpretation) interpretation.push_back({{"text", line.text}, {"sources", line.sources}});
  j["interpretation"] = interpretation;
  return j.dump(2) + "\n";
}

std::optional<Report> parse_report_json(const std::string& text, std::string& error) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    error = "not a JSON object";
    return std::nullopt;
  }
  if (j.value("schema", "") != "keyreq-bench") {
    error = "not a keyreq bench report (no \"schema\": \"keyreq-bench\")";
    return std::nullopt;
  }
  Report r;
  try {
    r.schema_version = j.at("schema_version").get<int>();
    if (r.schema_version != kReportSchemaVersion) {
      error = "report schema version " + std::to_string(r.schema_version) + " was written by " +
              (r.schema_version > kReportSchemaVersion ? "a newer" : "an older") + " keyreq; this one reads version " +
              std::to_string(kReportSchemaVersion) +
              " only: run `keyreq bench` with this keyreq to make the report again";
      return std::nullopt;
    }
    r.created = j.value("created", "");
    r.command_line = j.value("command_line", "");
    r.profile = j.value("profile", "");
    r.elapsed_s = number_from(j, "elapsed_s");
    if (j.contains("machine")) r.machine = untyped(j["machine"]);
    if (j.contains("versions")) r.versions = untyped(j["versions"]);
    if (j.contains("settings")) r.settings = untyped(j["settings"]);
    r.build_type = j.at("build").at("type").get<std::string>();
    if (j.contains("git")) {
      r.git_commit = text_from(j["git"], "commit");
      r.git_dirty = j["git"].value("dirty", false);
    }
    if (j.contains("providers")) r.providers = j["providers"].get<std::vector<std::string>>();
    if (j.contains("notes")) r.notes = j["notes"].get<std::vector<std::string>>();
    for (const auto& s : j.value("series", json::array())) r.series.push_back(series_from(s));
    for (const auto& f : j.value("figures", json::array())) {
      Figure x;
      x.id = f.at("id").get<std::string>();
      x.description = f.value("description", "");
      x.better = f.at("better").get<std::string>();
      x.gated = f.value("gated", false);
      x.tolerance = f.value("tolerance", 0.0);
      x.values = f.at("values").get<std::vector<double>>();
      if (x.better != "lower" && x.better != "higher") throw std::runtime_error("figure " + x.id + ": bad \"better\"");
      r.figures.push_back(std::move(x));
    }
    for (const auto& m : j.value("micro", json::array())) {
      Micro x;
      x.name = m.at("name").get<std::string>();
      x.ns = m.at("ns").get<std::vector<double>>();
      if (m.contains("cpu_ns")) x.cpu_ns = m["cpu_ns"].get<std::vector<double>>();
      r.micro.push_back(std::move(x));
    }
    const json measurements = j.value("measurements", json::object());
    for (const auto& [k, v] : measurements.items()) r.measurements[k] = v.is_null() ? NAN : v.get<double>();
    for (const auto& t : j.value("targets", json::array())) {
      PerformanceTarget x;
      x.name = t.value("name", "");
      x.requirement = t.value("requirement", "");
      x.measured = t.value("measured", "");
      x.value = number_from(t, "value");
      x.measured_ok = t.value("measured_ok", true);
      x.pass = t.value("verdict", "") == "PASS";
      r.targets.push_back(std::move(x));
    }
    for (const auto& h : j.value("herd", json::array())) r.herd.push_back(herd_from(h));
    for (const auto& line : j.value("interpretation", json::array())) {
      r.interpretation.push_back(
          {line.value("text", ""), line.value("sources", json::array()).get<std::vector<std::string>>()});
    }
  } catch (const std::exception& e) {
    error = std::string("malformed report: ") + e.what();
    return std::nullopt;
  }
  return r;
}

}  // namespace keyreq::bench
